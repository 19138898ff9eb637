"""Repository-wide pytest configuration: paths to shared reference data and Hypothesis profiles."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from refdata import REFERENCE_DATA, REPO_ROOT, SHARED, reference_file  # noqa: E402,F401

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def ref_file():
    """Fixture form of :func:`reference_file`."""
    return reference_file


# ---------------------------------------------------------------------------------------------
# Django personas (healthchecks' alice/bob/charlie idea): one user per role in clinic "north",
# a prescriber in clinic "south" of the same organisation, and one in another organisation.
# ---------------------------------------------------------------------------------------------

PERSONA_ROLES = {
    "prescriber": "prescriber",
    "nurse": "nurse",
    "therapist": "therapist",
    "frontdesk": "front_desk",
    "admin": "clinic_admin",
    "auditor": "auditor",
    "researcher": "researcher",
}


@pytest.fixture(autouse=True)
def _fast_password_hasher(request, settings):
    """Argon2 is slow by design; tests use MD5 except those marked ``argon2``."""
    if request.node.get_closest_marker("argon2") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_append_only_guard(request):
    """Keep the audit triggers on for every database test; lift them only for the final flush of a
    transactional test (see kairos.audit.testing)."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    transactional = bool(
        "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction"))
    )
    if not (transactional or marker or "db" in names):
        yield
        return
    from django.db import connection

    from kairos.audit.testing import enable_guard, lift_guard

    request.getfixturevalue("transactional_db" if transactional else "db")
    enable_guard(connection)
    yield
    if transactional:
        lift_guard(connection)


@pytest.fixture
def org(db):
    """Two clinics of one organisation, a third clinic elsewhere, and one user per role."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model

    from kairos.accounts.models import Clinic, Membership, Organisation

    user_model = get_user_model()
    o = Organisation.objects.create(name="Test Health")
    other = Organisation.objects.create(name="Elsewhere Health")
    north = Clinic.objects.create(
        organisation=o, name="North", slug="t-north", time_zone="America/New_York", rems_certified=True
    )
    south = Clinic.objects.create(organisation=o, name="South", slug="t-south", time_zone="Europe/London")
    far = Clinic.objects.create(organisation=other, name="Far", slug="t-far", time_zone="UTC")
    users = {}
    for name, role in PERSONA_ROLES.items():
        u = user_model.objects.create_user(name, f"{name}@test.invalid", "pw-for-tests-1")
        Membership.objects.create(user=u, clinic=north, role=role)
        users[name] = u
    for name, clinic in (("south_prescriber", south), ("far_prescriber", far)):
        u = user_model.objects.create_user(name, f"{name}@test.invalid", "pw-for-tests-1")
        Membership.objects.create(user=u, clinic=clinic, role="prescriber")
        users[name] = u
    users["nobody"] = user_model.objects.create_user("nobody", "nobody@test.invalid", "pw-for-tests-1")
    return SimpleNamespace(org=o, north=north, south=south, far=far, users=users, **users)


@pytest.fixture
def patient(org):
    import datetime as dt

    from kairos.patients.models import Patient

    return Patient.objects.create(
        clinic=org.north,
        mrn="T-0001",
        given_name="Pat",
        family_name="Ient",
        date_of_birth=dt.date(1980, 1, 2),
        sex="female",
    )


@pytest.fixture
def south_patient(org):
    import datetime as dt

    from kairos.patients.models import Patient

    return Patient.objects.create(
        clinic=org.south,
        mrn="S-0001",
        given_name="Sue",
        family_name="Southern",
        date_of_birth=dt.date(1970, 5, 6),
    )


@pytest.fixture
def client_for(db):
    """A logged-in Django test client for a user."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def api_client_for(db):
    """A Django test client sending ``Authorization: Bearer`` for a user's new token."""
    from django.test import Client

    from kairos.accounts.services import create_token

    def make(user):
        _, raw = create_token(user, "test")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


def pytest_collection_modifyitems(config, items):
    """``postgres_only`` tests are skipped visibly (with the reason in the summary) on SQLite."""
    from django.conf import settings as dj_settings

    if "postgresql" in dj_settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://… (CI does)")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)
