"""Every route × persona against the permission matrix (see :mod:`kairos.access.tests.matrix`)."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.db import transaction
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import include, path, reverse

from kairos.access.tests.matrix import (
    EXEMPT,
    FOREIGN,
    NORTH_STAFF,
    Entry,
    Route,
    World,
    api_operations,
    collect_entries,
    coverage_problems,
    walk_routes,
)
from kairos.audit.middleware import OBJECT_KWARGS

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db

ENTRIES = collect_entries()
SIGN_IN_ACTIONS = ("login", "login_failed", "logout")
DENIED = "audit.AuditEvent:denied"
# URL kwargs naming a patient-owned object: a PHI read on such a route names the patient.
PATIENT_OWNED_KWARGS = ("patient_id", "course_id", "session_id", "appointment_id", "alert_id", "due_id")


@pytest.fixture
def world(org, patient) -> World:
    return World(org, patient)


def _url(entry: Entry, w: World) -> str:
    kwargs = entry.kwargs(w)
    if entry.is_api:
        url = entry.route.split(" ", 1)[1].format(**kwargs)
    else:
        url = reverse(entry.route, kwargs=kwargs)
    query = entry.query(w) if callable(entry.query) else entry.query
    return url + (f"?{query}" if query else "")


def _client(entry: Entry, w: World, persona: str | None) -> Client:
    if persona is None:
        return Client()
    user = w.user(persona)
    if entry.is_api:
        from kairos.accounts.services import create_token

        _, raw = create_token(user, "matrix")
        return Client(headers={"Authorization": f"Bearer {raw}"})
    c = Client()
    c.force_login(user)
    return c


def _send(entry: Entry, w: World, client: Client, url: str) -> _MonkeyPatchedWSGIResponse:
    data = entry.data(w) if entry.data else None
    method = entry.method.lower()
    if entry.is_api:
        if method == "get":
            return client.get(url)
        return client.generic(entry.method, url, data=json.dumps(data or {}), content_type="application/json")
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, data=data or {})


def _rows() -> Counter[str]:
    """Row counts of every kairos model and of the OTP devices; audit events other than sign-ins, per
    action (``audit.AuditEvent:<action>``), plus ``audit.AuditEvent:read+patient`` (reads naming one)."""
    from kairos.audit.models import AuditEvent

    counts: Counter[str] = Counter()
    for model in apps.get_models():
        module = model.__module__
        if not (module.startswith("kairos.") or module.startswith("django_otp.")):
            continue
        if model._meta.label == "audit.ChainHead":
            continue  # its one row per chain moves with every event, including sign-ins
        if model._meta.label == "web.RateCounter":
            continue  # rate limits count every API-token request, refused ones too (kairos.web.ratelimit)
        if model is AuditEvent:
            events = AuditEvent.objects.exclude(action__in=SIGN_IN_ACTIONS)
            for action in events.values_list("action", flat=True):
                counts[f"{model._meta.label}:{action}"] += 1
            counts[f"{model._meta.label}:read+patient"] = events.filter(
                action="read", patient__isnull=False
            ).count()
        else:
            counts[model._meta.label] = model._default_manager.count()
    return counts


def _request(
    entry: Entry, w: World, persona: str | None
) -> tuple[_MonkeyPatchedWSGIResponse, Counter[str], Counter[str]]:
    """One request in a rolled-back transaction; returns the response and row counts before/after."""
    url = _url(entry, w)  # builds fixtures outside the rolled-back block
    client = _client(entry, w, persona)
    with transaction.atomic():
        before = _rows()
        response = _send(entry, w, client, url)
        after = _rows()
        transaction.set_rollback(True)
    return response, before, after


def _describe(entry: Entry, persona: str | None, response: HttpResponseBase) -> str:
    return f"{entry} as {persona or 'anonymous'}: {response.status_code} {response.get('Location', '')}"


def _north_markers(w: World, entry: Entry) -> list[str]:
    """North data that must not appear in a foreign user's response (what they typed themselves aside)."""
    echoed = json.dumps(entry.data(w), default=str) if entry.data else ""
    return [m for m in (w.patient.mrn, w.patient.date_of_birth.isoformat()) if m not in echoed]


def _assert_unchanged(entry: Entry, persona: str | None, before: Counter[str], after: Counter[str]) -> None:
    """A refused request changes no rows, except that it may write ``denied`` audit events."""
    changed = {k: (before[k], after[k]) for k in before | after if before[k] != after[k] and k != DENIED}
    assert not changed, f"refused request {entry} as {persona or 'anonymous'} changed rows: {changed}"


def _assert_denial_recorded(
    entry: Entry,
    w: World,
    persona: str,
    response: HttpResponseBase,
    before: Counter[str],
    after: Counter[str],
) -> None:
    """A signed-in user refused (403/404) on an object route whose URL names the object (``patient_id``,
    ``session_id``…: :data:`kairos.audit.middleware.OBJECT_KWARGS`) leaves a ``denied`` audit event.
    (Objects named only in a request body, e.g. the FHIR import's subject, are not covered.)"""
    names_object = any(k in OBJECT_KWARGS for k in entry.kwargs(w))
    if entry.scope == "object" and names_object and response.status_code in (403, 404):
        assert after[DENIED] == before[DENIED] + 1, (
            f"{_describe(entry, persona, response)}: refusal not recorded as a denied audit event"
        )


def phi_audit_problem(
    entry: Entry,
    w: World,
    persona: str,
    response: HttpResponseBase,
    before: Counter[str],
    after: Counter[str],
) -> str | None:
    """Why a permitted request on a PHI route is not properly audited, or None.

    GET: a ``read`` or ``export`` row (naming the patient when the URL names a patient-owned object);
    POST-like: any audit row (the write's own row).
    """
    if not entry.phi or response.status_code >= 400:
        return None
    audit = {k: after[k] - before[k] for k in after | before if k.startswith("audit.AuditEvent:")}
    if entry.method == "GET":
        if audit.get("audit.AuditEvent:read", 0) + audit.get("audit.AuditEvent:export", 0) < 1:
            return f"PHI route {_describe(entry, persona, response)} wrote no read event ({audit})"
        if entry.scope == "object" and any(k in PATIENT_OWNED_KWARGS for k in entry.kwargs(w)):
            if audit.get("audit.AuditEvent:read+patient", 0) + audit.get("audit.AuditEvent:export", 0) < 1:
                return f"PHI route {_describe(entry, persona, response)}: its read event names no patient"
        return None
    if not any(n > 0 for k, n in audit.items() if k != DENIED):
        return f"PHI route {_describe(entry, persona, response)} wrote no audit event ({audit})"
    return None


@pytest.mark.parametrize("entry", ENTRIES, ids=str)
def test_anonymous_is_refused(entry: Entry, world: World) -> None:
    response, before, after = _request(entry, world, None)
    if entry.is_api:
        assert response.status_code == 401, _describe(entry, None, response)
    else:
        assert response.status_code == 302, _describe(entry, None, response)
        assert response["Location"].startswith(reverse("accounts:login") + "?next="), _describe(
            entry, None, response
        )
    _assert_unchanged(entry, None, before, after)


@pytest.mark.parametrize("entry", ENTRIES, ids=str)
def test_foreign_clinic_sees_nothing(entry: Entry, world: World) -> None:
    checked = 0
    for persona in FOREIGN:
        if persona in entry.allowed:
            continue
        checked += 1
        response, before, after = _request(entry, world, persona)
        if entry.scope == "object":
            assert response.status_code == 404, _describe(entry, persona, response)
        else:
            assert response.status_code < 500, _describe(entry, persona, response)
        body = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
        for marker in _north_markers(world, entry):
            assert marker not in body, f"{_describe(entry, persona, response)} shows north data {marker!r}"
        if response.status_code >= 400 or entry.scope == "object":
            _assert_unchanged(entry, persona, before, after)
            _assert_denial_recorded(entry, world, persona, response, before, after)
    if checked == 0:
        # Both foreign personas are permitted (their own clinic's view): they must still see no north data.
        for persona in FOREIGN:
            response, _, _ = _request(entry, world, persona)
            assert response.status_code < 400, _describe(entry, persona, response)
            body = (
                response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
            )
            for marker in _north_markers(world, entry):
                assert marker not in body, (
                    f"{_describe(entry, persona, response)} shows north data {marker!r}"
                )


@pytest.mark.parametrize("entry", ENTRIES, ids=str)
def test_same_clinic_without_permission_is_refused(entry: Entry, world: World) -> None:
    refused = [p for p in NORTH_STAFF if p not in entry.allowed]
    if "nobody" not in entry.allowed:
        refused.append("nobody")
    for persona in refused:
        response, before, after = _request(entry, world, persona)
        expected = entry.expected_nobody() if persona == "nobody" else entry.denied_status
        assert response.status_code == expected, (
            _describe(entry, persona, response) + f" (expected {expected})"
        )
        _assert_unchanged(entry, persona, before, after)
        _assert_denial_recorded(entry, world, persona, response, before, after)


@pytest.mark.parametrize("entry", ENTRIES, ids=str)
def test_permitted_personas_succeed(entry: Entry, world: World) -> None:
    assert entry.allowed, f"{entry}: nobody is permitted; remove the route or exempt it"
    login = reverse("accounts:login")
    for persona in sorted(entry.allowed):
        response, before, after = _request(entry, world, persona)
        assert response.status_code in entry.ok_status, _describe(entry, persona, response)
        if 300 <= response.status_code < 400:
            assert not response["Location"].startswith(login), _describe(entry, persona, response)
        if persona in NORTH_STAFF:  # foreign personas permitted on a collection see no north patient
            problem = phi_audit_problem(entry, world, persona, response, before, after)
            assert problem is None, problem


def test_every_entry_says_whether_it_is_phi() -> None:
    missing = [str(e) for e in ENTRIES if e.phi is None]
    assert not missing, "set phi=True/False on these matrix entries: " + ", ".join(missing)


def test_phi_walker_catches_an_unaudited_read(world: World) -> None:
    """Meta-test: a PHI route whose permitted request writes no read event fails the walker, and an
    audited one passes; a refusal without a denied event fails the denial check."""
    # accounts:settings writes no audit row: declared PHI (deliberately wrong), the walker must object.
    wrong = Entry("accounts:settings", phi=True, allowed=frozenset({"prescriber"}), scope="collection")
    response, before, after = _request(wrong, world, "prescriber")
    assert response.status_code == 200
    problem = phi_audit_problem(wrong, world, "prescriber", response, before, after)
    assert problem is not None and "wrote no read event" in problem, problem
    # a PHI POST that writes nothing is caught too
    assert phi_audit_problem(
        Entry("accounts:settings", phi=True, method="POST", allowed=frozenset({"prescriber"})),
        world,
        "prescriber",
        response,
        before,
        after,
    )
    # the chart is audited and names the patient: no problem
    chart = Entry(
        "patients:chart",
        phi=True,
        allowed=frozenset({"prescriber"}),
        kwargs=lambda w: {"patient_id": w.patient.pk},
    )
    response, before, after = _request(chart, world, "prescriber")
    assert response.status_code == 200
    assert phi_audit_problem(chart, world, "prescriber", response, before, after) is None
    # a read that names no patient on a patient route is caught
    no_patient = Counter(before)
    no_patient["audit.AuditEvent:read"] += 1
    assert "names no patient" in (
        phi_audit_problem(chart, world, "prescriber", response, before, no_patient) or ""
    )
    # a refusal on an object route without a denied event fails the denial check
    refused = HttpResponse(status=404)
    with pytest.raises(AssertionError, match="refusal not recorded"):
        _assert_denial_recorded(chart, world, "south_prescriber", refused, before, before)


def _live_routes() -> list[Route]:
    from django.urls import get_resolver

    return walk_routes(get_resolver().url_patterns)


def _live_operations() -> set[str]:
    from kairos.api.main import api

    return api_operations(api.get_openapi_schema())


def test_every_route_has_a_matrix_entry() -> None:
    problems = coverage_problems(_live_routes(), _live_operations(), ENTRIES)
    assert not problems, "permission matrix incomplete:\n" + "\n".join(problems)


def test_coverage_check_reports_an_unmapped_route() -> None:
    """Meta-test: a new route or API operation without an entry makes the coverage check fail."""
    from django.urls import get_resolver

    def view(request: Any) -> HttpResponse:
        return HttpResponse("x")

    extra_app = ([path("thing/<int:thing_id>/", view, name="detail")], "synthetic")
    patterns = [*get_resolver().url_patterns, path("synthetic/", include(extra_app)), path("loose/", view)]
    operations = _live_operations() | {"DELETE /api/v1/patients/{patient_id}"}
    baseline = set(coverage_problems(_live_routes(), _live_operations(), ENTRIES))  # other apps' gaps
    problems = [p for p in coverage_problems(walk_routes(patterns), operations, ENTRIES) if p not in baseline]
    assert any("synthetic:detail" in p and "/synthetic/thing/<int:thing_id>/" in p for p in problems), (
        problems
    )
    assert any("unnamed route /loose/" in p for p in problems), problems
    assert any("DELETE /api/v1/patients/{patient_id}" in p for p in problems), problems
    assert len(problems) == 3, problems
    # and a stale entry (route removed, entry left behind) is reported too
    stale = [*ENTRIES, Entry("patients:gone", allowed=frozenset({"prescriber"}))]
    new = [p for p in coverage_problems(_live_routes(), _live_operations(), stale) if p not in baseline]
    assert new == ["stale matrix entry: no route named patients:gone"]


def test_exempt_routes_are_explicit_public_and_harmless(client: Client) -> None:
    """Each exemption has a reason; the GET-able ones answer without sign-in and write nothing."""
    assert all(len(reason) > 20 for reason in EXEMPT.values())
    routes = {r.name: r for r in _live_routes()}
    for name in ("accounts:login", "health", "api:openapi-json", "api:openapi-view"):
        before = _rows()
        response = client.get(reverse(name))
        assert response.status_code == 200, (name, response.status_code)
        assert _rows() == before, name
    assert set(EXEMPT) <= set(routes)


def test_matrix_keys_are_unique() -> None:
    keys = [e.key for e in ENTRIES]
    assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]
