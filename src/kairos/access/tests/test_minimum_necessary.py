"""Minimum necessary: front desk and clinic admin see schedule facts, never clinical detail (issue #9, §4).

Field-level expectations on top of the permission matrix (:mod:`kairos.access.tests.matrix`, read only
here). A world is built in which north's patient has clinical detail under unique markers — a diagnosis, a
course's protocol (which names the drug) and indication, a booked dosing appointment with a planned drug,
route, dose and phase, a dosing session on hold with a dose order and a discharge note, and a score with a
severity band — then every GET route that the matrix lets ``frontdesk`` or ``admin`` reach is requested as
that persona (a session for pages, a bearer token for the API) and must show none of the markers.

Schedule facts (date, time, chair, patient name, generic session kind such as "Dosing session", arrival
state) must still appear on the schedule routes, and a clinical persona must see the clinical markers on the
same routes: that is what shows the absence above is due to the policy, not to an empty page.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kairos.access.tests.matrix import Entry, World, collect_entries

if TYPE_CHECKING:
    from kairos.core.actor import Actor

pytestmark = pytest.mark.django_db

SCHEDULE_ONLY = ("frontdesk", "admin")

# Clinical detail, each a string that appears nowhere else in the world (compared case-insensitively).
DX = "MARKER-DX-QZ"
INDICATION = "MARKER-IND-QZ"
PHASE = "MARKER-PHASE-QZ"
NOTE = "MARKER-NOTE-QZ"
SEVERITY = "MARKER-SEV-QZ"
DOSE = "73.37"  # planned and ordered dose (mg): no other number of the world has these digits
PROTOCOL = "esketamine-trd"  # the course's protocol id names the drug
ROUTE = "intranasal"
CLINICAL_MARKERS = (DX, INDICATION, PHASE, NOTE, SEVERITY, DOSE, PROTOCOL, ROUTE)
# The drug's bare name is also in static help text (e.g. the REMS note on the clinic settings page), so the
# planned drug is checked field by field in the API, and on pages through the protocol id that implies it.
DRUG = "esketamine"

# Schedule facts of the booked appointment.
CHAIR = "Chair Quokka"
START = dt.time(11, 40)
END = dt.time(13, 20)


def _today(w: World) -> dt.date:
    return timezone.localdate(timezone=w.org.north.tz)


def build_clinical_world(w: World) -> dict[str, Any]:
    """North's patient with clinical detail under the markers; registered as the courses entries'
    course and appointment (``w.once("courses")``), so ``courses:detail`` and the course API show it."""
    from kairos.courses.models import Appointment, Chair, ClinicCalendar, Course
    from kairos.dosing.models import DischargeNote, DoseOrder, DosingSession
    from kairos.intake.models import Diagnosis
    from kairos.measures.models import QuestionnaireResponse, Score

    org, patient = w.org, w.patient
    ClinicCalendar.objects.get_or_create(clinic=org.north)
    chair = Chair.objects.create(clinic=org.north, name=CHAIR)
    Diagnosis.objects.create(
        patient=patient, code_system="test", code="QZ1", display=DX, recorded_by=org.prescriber
    )
    course = Course.objects.create(
        clinic=org.north,
        patient=patient,
        protocol_id=PROTOCOL,
        indication=INDICATION,
        status="active",
        start_date=_today(w),
        created_by=org.prescriber,
    )
    tz = org.north.tz
    starts = dt.datetime.combine(_today(w), START, tzinfo=tz)
    appt = Appointment.objects.create(
        course=course,
        patient=patient,
        clinic=org.north,
        kind="dosing",
        number=3,
        phase=PHASE,
        starts_at=starts,
        ends_at=dt.datetime.combine(_today(w), END, tzinfo=tz),
        chair=chair,
        planned_dose_mg=Decimal(DOSE),
        planned_route=ROUTE,
        planned_drug=DRUG,
    )
    session = DosingSession.objects.create(
        clinic=org.north,
        patient=patient,
        course=course,
        appointment=appt,
        protocol_id=PROTOCOL,
        drug=DRUG,
        route=ROUTE,
        status="held",  # a pre-dose hold is a clinical fact: the front desk sees "in session"
        scheduled_for=starts,
        responsible_clinician=org.prescriber,
        created_by=org.nurse,
        checked_in_at=starts,
        held_at=starts,
    )
    DoseOrder.objects.create(
        session=session,
        dose_mg=Decimal(DOSE),
        dose_mg_hcl=Decimal("84.59"),
        calculation={},
        ordered_by=org.prescriber,
    )
    DischargeNote.objects.create(session=session, discharged_at=starts, summary=NOTE, author=org.nurse)
    response = QuestionnaireResponse.objects.create(
        clinic=org.north,
        patient=patient,
        course=course,
        instrument_id="phq9",
        instrument_version="1",
        answers={},
        submitted_at=starts - dt.timedelta(days=1),
        source="clinician",
        entered_by=org.prescriber,
    )
    Score.objects.create(
        response=response, instrument_id="phq9", total=19, raw_total=19, severity=SEVERITY, scorer_version="t"
    )
    w.once("courses", lambda: (course, appt))
    return {"course": course, "appointment": appt, "session": session, "chair": chair}


@pytest.fixture
def world(org: Any, patient: Any) -> World:
    w = World(org, patient)
    build_clinical_world(w)
    return w


def _url(entry: Entry, w: World) -> str:
    kwargs = entry.kwargs(w)
    if entry.is_api:
        url = entry.route.split(" ", 1)[1].format(**kwargs)
    else:
        url = reverse(entry.route, kwargs=kwargs)
    # Pages are read on this module's own day (the board's default, today); an API list that needs its
    # date (GET /api/v1/appointments) gets it from its entry.
    if callable(entry.query):
        return url + (f"?{entry.query(w)}" if entry.is_api else "")
    return url + (f"?{entry.query}" if entry.query else "")


def _client(entry: Entry, user: Actor) -> Client:
    if entry.is_api:
        from kairos.accounts.services import create_token

        _, raw = create_token(user, "minimum-necessary")
        return Client(headers={"Authorization": f"Bearer {raw}"})
    c = Client()
    c.force_login(user)
    return c


def _get(entry: Entry, w: World, persona: str) -> str:
    url = _url(entry, w)
    response = _client(entry, w.user(persona)).get(url)
    assert response.status_code == 200, f"{entry} as {persona}: {response.status_code}"
    body = response.content.decode()
    if entry.is_api:  # the JSON as sent, and its values (escapes undone), so no marker hides in \u-escapes
        body += "\n" + json.dumps(response.json(), ensure_ascii=False)
    return body


# Catalogue text that names a protocol without being anyone's data: the outcomes dashboard's protocol filter
# (aggregates, OUTCOMES_VIEW) lists every protocol id as a choice. Only that exact element is ignored.
CATALOGUE = (f'<option value="{PROTOCOL}">{PROTOCOL}</option>',)


def found_markers(body: str, markers: tuple[str, ...] = CLINICAL_MARKERS) -> list[str]:
    for text in CATALOGUE:
        body = body.replace(text, "")
    low = body.lower()
    return [m for m in markers if m.lower() in low]


SCHEDULE_ONLY_GETS = [
    pytest.param(entry, persona, id=f"{entry.key}-{persona}")
    for entry in collect_entries()
    if entry.method == "GET"
    for persona in SCHEDULE_ONLY
    if persona in entry.allowed
]


def _entry_of(param: pytest.ParameterSet) -> Entry:
    entry = param.values[0]
    assert isinstance(entry, Entry)
    return entry


def test_the_walk_covers_the_schedule_routes() -> None:
    """The parametrisation is not empty by accident: the schedule routes of both roles are in it."""
    keys = {(_entry_of(p).key, p.values[1]) for p in SCHEDULE_ONLY_GETS}
    for persona in SCHEDULE_ONLY:
        for route in (
            "GET courses:board",
            "GET courses:board_partial",
            "GET courses:detail",
            "GET /api/v1/courses",
            "GET /api/v1/courses/{course_id}",
        ):
            assert (route, persona) in keys


@pytest.mark.parametrize(("entry", "persona"), SCHEDULE_ONLY_GETS)
def test_front_desk_and_admin_see_no_clinical_detail(entry: Entry, persona: str, world: World) -> None:
    body = _get(entry, world, persona)
    assert found_markers(body) == [], f"{entry} as {persona} shows clinical detail"


@pytest.mark.parametrize("persona", SCHEDULE_ONLY)
def test_board_shows_schedule_facts_and_arrival_state_only(persona: str, world: World) -> None:
    entries = {e.key: e for e in collect_entries()}
    for key in ("GET courses:board", "GET courses:board_partial"):
        body = _get(entries[key], world, persona)
        for fact in (CHAIR, "11:40", "13:20", world.patient.display_name, "Dosing session"):
            assert fact in body, f"{key} as {persona}: {fact!r} missing"
        assert 'data-state="in_session"' in body  # arrived and in the chair
        assert 'data-state="held"' not in body  # why they wait is clinical


@pytest.mark.parametrize("persona", SCHEDULE_ONLY)
def test_course_page_and_api_show_schedule_facts(persona: str, world: World) -> None:
    entries = {e.key: e for e in collect_entries()}
    page = _get(entries["GET courses:detail"], world, persona)
    for fact in (
        CHAIR,
        "11:40",
        "13:20",
        world.patient.display_name,
        "Dosing session",
        _today(world).isoformat(),
    ):
        assert fact in page, f"course page as {persona}: {fact!r} missing"
    detail = json.loads(_get(entries["GET /api/v1/courses/{course_id}"], world, persona).split("\n")[0])
    (appt,) = detail["appointments"]
    assert appt["kind"] == "dosing" and appt["chair"] == CHAIR and appt["number"] == 3
    assert dt.datetime.fromisoformat(appt["starts_at"]) == world.once("courses", lambda: None)[1].starts_at
    assert appt["planned_dose_mg"] is None and appt["planned_drug"] == "" and appt["phase"] == ""
    assert detail["protocol_id"] == "" and detail["indication"] == ""


# --- the same routes as a clinical persona: the markers are there, so the checks above can fail ------------


def test_prescriber_sees_the_clinical_detail_on_the_same_routes(world: World) -> None:
    entries = {e.key: e for e in collect_entries()}
    page = _get(entries["GET courses:detail"], world, "prescriber")
    assert {INDICATION, PHASE, DOSE, PROTOCOL} <= set(found_markers(page))
    detail = _get(entries["GET /api/v1/courses/{course_id}"], world, "prescriber")
    assert {INDICATION, PHASE, DOSE, PROTOCOL, ROUTE} <= set(found_markers(detail))
    (appt,) = json.loads(detail.split("\n")[0])["appointments"]
    assert appt["planned_drug"] == DRUG and Decimal(str(appt["planned_dose_mg"])) == Decimal(DOSE)
    listing = _get(entries["GET /api/v1/courses"], world, "prescriber")
    assert {INDICATION, PROTOCOL} <= set(found_markers(listing))
    for key in ("GET courses:board", "GET courses:board_partial"):
        assert 'data-state="held"' in _get(entries[key], world, "prescriber")


def test_nurse_sees_the_diagnosis_and_score_the_front_desk_never_sees(world: World) -> None:
    """The world's diagnosis and score are real data that pages render for a clinician."""
    entries = {e.key: e for e in collect_entries()}
    assert DX in found_markers(_get(entries["GET patients:chart"], world, "nurse"))
    assert SEVERITY in found_markers(_get(entries["GET measures:patient"], world, "nurse"))


# --- break-glass reveals nothing about whether an MRN exists -----------------------------------------------

PROBE_MRN = "X-4242"
BG_REASON = "patient collapsed in our waiting room"
CSRF = re.compile(r"(csrfmiddlewaretoken\" value=\"|X-CSRFToken\": \")[^\"]+")


def _masked(body: bytes) -> str:
    """The page with the request-specific bits (the CSRF token, in the form and in the htmx headers) masked."""
    return CSRF.sub(r"\1…", body.decode())


def _probe(client: Client, clinic_id: int) -> tuple[int, str, int]:
    """POST the break-glass form for PROBE_MRN: status, masked body, number of queries."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("access:breakglass"), {"clinic": clinic_id, "mrn": PROBE_MRN, "reason": BG_REASON}
        )
    return response.status_code, _masked(response.content), len(queries)


def _make_patient(clinic: Any) -> Any:
    from kairos.patients.models import Patient

    return Patient.objects.create(
        clinic=clinic,
        mrn=PROBE_MRN,
        given_name="Probe",
        family_name="Target",
        date_of_birth=dt.date(1990, 1, 1),
    )


@pytest.mark.parametrize(
    ("persona", "target", "named"),
    [
        # the MRN comes to exist in a clinic of another organisation; the user names their own org's clinic
        ("prescriber", "far", "south"),
        # ... and names that other organisation's clinic (a crafted POST: it is not among the choices)
        ("prescriber", "far", "far"),
        # a user of another organisation names a clinic of this one where the MRN comes to exist
        ("far_prescriber", "north", "north"),
    ],
)
def test_break_glass_answers_the_same_whether_or_not_the_mrn_exists(
    persona: str, target: str, named: str, org: Any
) -> None:
    client = Client()
    client.force_login(getattr(org, persona))
    clinic_id = getattr(org, named).pk
    _probe(client, clinic_id)  # warm-up: the first audit row of a chain also creates its head
    unknown = _probe(client, clinic_id)
    _make_patient(getattr(org, target))
    existing = _probe(client, clinic_id)
    assert unknown[0] == existing[0] == 400
    assert "no patient with that MRN in that clinic of your organisation" in unknown[1]
    assert existing[1] == unknown[1]  # same body, byte for byte but the CSRF token
    assert existing[2] == unknown[2]  # same work: the deterministic stand-in for the same timing


def test_the_probe_can_tell_a_grant_from_a_refusal(org: Any) -> None:
    """The comparison above is not blind: where the MRN does open a grant, the answer differs."""
    client = Client()
    client.force_login(org.prescriber)
    refused = _probe(client, org.south.pk)
    _make_patient(org.south)
    granted = client.post(
        reverse("access:breakglass"), {"clinic": org.south.pk, "mrn": PROBE_MRN, "reason": BG_REASON}
    )
    assert refused[0] == 400 and granted.status_code == 302


def test_refused_break_glass_is_audited_in_the_requesters_chain_and_survives_the_refusal(org: Any) -> None:
    from django.core.exceptions import ValidationError

    from kairos.access import services
    from kairos.audit.models import Action, AuditEvent

    far_patient = _make_patient(org.far)
    counts = []
    for clinic_id, mrn in (
        (org.south.pk, "NOBODY-1"),  # unknown
        (org.far.pk, far_patient.mrn),  # exists, other organisation
        (org.south.pk, far_patient.mrn),  # exists elsewhere, not in the clinic named
    ):
        with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError) as err:
            services.request_break_glass(org.prescriber, clinic_id, mrn, BG_REASON)
        assert err.value.message_dict == {"mrn": [services.NOT_GRANTED]}
        counts.append(len(queries))
    assert counts[1] == counts[2]  # (the first also created the chain head of north's chain)
    denied = AuditEvent.objects.filter(action=Action.DENIED, actor=org.prescriber).order_by("seq")
    assert [e.clinic_id for e in denied] == [org.north.pk] * 3  # the requester's chain, never the target's
    mrns = []
    for e in denied:
        assert e.new is not None
        mrns.append(e.new["mrn"])
    assert mrns == ["NOBODY-1", PROBE_MRN, PROBE_MRN]
    assert not AuditEvent.objects.filter(clinic_id__in=[org.far.pk, org.south.pk]).exists()
