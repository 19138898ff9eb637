"""The demo organisation for ``make run``: two clinics, one login per role, a few patients.

Idempotent: every object is looked up by a natural key before it is created, so a second run neither
fails nor duplicates. Refuses to run in production mode. Each app above patients keeps its own loader
(``<app>/demo.py``); :data:`EXTRA_LOADERS` lists them here, at the top of the layers, in the order they run
(courses, intake, dosing, measures): moved from ``kairos.web.demo`` in issue #10.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from kairos.accounts.demo_logins import DEMO_PASSWORD
from kairos.accounts.models import Clinic, Membership, Organisation
from kairos.core.roles import Role
from kairos.courses.demo import load_courses_demo
from kairos.dosing.demo import load_dosing_demo
from kairos.intake.demo import load_intake_demo
from kairos.measures.synthetic import load_measures_demo
from kairos.patients.models import Patient, WeightMeasurement

STAFF = [
    ("demo-prescriber", "Dana", "Prescott", Role.PRESCRIBER, "north"),
    ("demo-nurse", "Nia", "Nguyen", Role.NURSE, "north"),
    ("demo-therapist", "Theo", "Rahman", Role.THERAPIST, "north"),
    ("demo-frontdesk", "Frankie", "Desai", Role.FRONT_DESK, "north"),
    ("demo-admin", "Ada", "Mensah", Role.CLINIC_ADMIN, "north"),
    ("demo-auditor", "Aud", "Itor", Role.AUDITOR, "north"),
    ("demo-researcher", "Rae", "Search", Role.RESEARCHER, "north"),
    ("demo2-prescriber", "Sam", "Okafor", Role.PRESCRIBER, "south"),
]

PATIENTS = [
    ("north", "N-1001", "Alex", "Morgan", dt.date(1984, 3, 12), "female", "78.4"),
    ("north", "N-1002", "Jordan", "Lee", dt.date(1979, 11, 2), "male", "91.0"),
    ("north", "N-1003", "Casey", "Patel", dt.date(1992, 6, 25), "female", "64.2"),
    ("north", "N-1004", "Riley", "Brooks", dt.date(1968, 1, 30), "male", "84.7"),
    ("north", "N-1005", "Morgan", "Hughes", dt.date(2001, 9, 8), "other", "70.1"),
    ("south", "S-2001", "Taylor", "Quinn", dt.date(1975, 5, 17), "female", "69.5"),
    ("south", "S-2002", "Avery", "Stone", dt.date(1988, 12, 3), "male", "88.8"),
]

EXTRA_LOADERS: list[Callable[[dict[str, Any]], str]] = [
    load_courses_demo,
    load_intake_demo,
    load_dosing_demo,
    load_measures_demo,
]


@transaction.atomic
def load_demo() -> str:
    if settings.PRODUCTION or not settings.DEMO_LOGINS:
        raise ImproperlyConfigured("the demo organisation is for dev mode only")
    org, _ = Organisation.objects.get_or_create(name="Kairos Demo Health")
    clinics = {
        "north": Clinic.objects.get_or_create(
            slug="north",
            defaults={
                "organisation": org,
                "name": "Northside Ketamine Clinic",
                "time_zone": "America/New_York",
                "rems_certified": True,
                "rems_certification_id": "DEMO-REMS-0001",
            },
        )[0],
        "south": Clinic.objects.get_or_create(
            slug="south",
            defaults={
                "organisation": org,
                "name": "Southbank Interventional Psychiatry",
                "time_zone": "Europe/London",
            },
        )[0],
    }
    User = get_user_model()
    users: dict[str, Any] = {}
    for username, first, last, role, clinic in STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.kairos.invalid"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, clinic=clinics[clinic], defaults={"role": role})
        users[username] = user
    patients: dict[str, Patient] = {}
    now = timezone.now()
    for clinic, mrn, given, family, dob, sex, kg in PATIENTS:
        patient, created = Patient.objects.get_or_create(
            clinic=clinics[clinic],
            mrn=mrn,
            defaults={
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "sex": sex,
                "email": f"{given.lower()}.{family.lower()}@example.invalid",
            },
        )
        if created:
            WeightMeasurement.objects.create(
                patient=patient,
                weight_kg=Decimal(kg),
                measured_at=now - dt.timedelta(days=30),
                recorded_by=users["demo-nurse" if clinic == "north" else "demo2-prescriber"],
            )
        patients[mrn] = patient
    context = {"organisation": org, "clinics": clinics, "users": users, "patients": patients}
    lines = [
        f"Demo organisation ready: {len(clinics)} clinics, {len(users)} staff logins, {len(patients)} patients."
    ]
    lines += [loader(context) for loader in EXTRA_LOADERS]
    return "\n".join(line for line in lines if line)
