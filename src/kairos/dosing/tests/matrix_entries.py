"""Permission-matrix entries for the dosing app (collected by kairos.access.tests.matrix)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kairos.access.tests.matrix import CLINICAL_READERS, FOREIGN, Entry, World

CHARTERS = frozenset({"prescriber", "nurse"})
INTEGRATION_READERS = frozenset({"therapist", "prescriber", "auditor"})
VITALS = {"sbp": "124", "dbp": "78", "heart_rate": "72", "spo2": "98", "resp_rate": "14"}


def _sessions(w: World) -> dict[str, Any]:
    def make() -> dict[str, Any]:
        from django.utils import timezone

        from kairos.dosing import services

        t0 = timezone.now() - dt.timedelta(hours=1)
        org = w.org
        esk = services.create_session(
            org.nurse, w.patient, protocol_id="esketamine-trd", scheduled_for=t0, responsible=org.prescriber
        )
        iv = services.create_session(
            org.nurse, w.patient, protocol_id="iv-racemic", scheduled_for=t0, responsible=org.prescriber
        )
        services.check_in(
            org.nurse,
            iv,
            prescriber_on_site=org.prescriber,
            pulse_oximeter_on_site=True,
            ride_home_confirmed=True,
            no_driving_acknowledged=True,
            vitals=VITALS,
            weight_kg="80",
            at=t0,
        )
        event = services.record_adverse_event(
            org.nurse, iv, event_type="nausea_vomiting", description="nausea", onset_at=t0, severity="mild"
        )
        fresh = services.create_session(
            org.nurse,
            w.patient,
            protocol_id="iv-racemic",
            scheduled_for=t0 + dt.timedelta(minutes=1),
            responsible=org.prescriber,
        )
        return {"esk": esk, "iv": iv, "event": event, "fresh": fresh}

    return w.once("dosing", make)


def _with_sessions(w: World) -> dict[str, Any]:
    """No URL kwargs; builds north's sessions so that a list has patient rows to show (and audit)."""
    _sessions(w)
    return {}


def _with_rems_form(w: World) -> dict[str, Any]:
    """No URL kwargs; gives the esketamine session its REMS form (made at discharge) so the list has one."""

    def make() -> Any:
        from kairos.dosing import selectors
        from kairos.dosing.models import RemsForm

        esk = _sessions(w)["esk"]
        return RemsForm.objects.create(session=esk, due_date=selectors.rems_due_date(esk))

    w.once("rems_form", make)
    return {}


def _with_discharge_note(w: World) -> dict[str, Any]:
    """The esketamine session with a discharge note (for the discharge-summary PDF)."""

    def make() -> Any:
        from django.utils import timezone

        from kairos.dosing.models import DischargeNote

        esk = _sessions(w)["esk"]
        return DischargeNote.objects.create(
            session=esk, discharged_at=timezone.now(), summary="Well.", author=w.org.nurse
        )

    w.once("discharge_note", make)
    return {"session_id": _sessions(w)["esk"].pk}


def _session_day(w: World) -> str:
    """The day (clinic time) of the sessions built above, so the day list shows them at any hour."""
    from kairos.dosing import selectors

    iv = _sessions(w)["iv"]
    return f"date={selectors.local_date(iv, iv.scheduled_for).isoformat()}"


def _esk(w: World) -> dict[str, Any]:
    return {"session_id": _sessions(w)["esk"].pk}


def _iv(w: World) -> dict[str, Any]:
    return {"session_id": _sessions(w)["iv"].pk}


CHECK_IN = {
    "prescriber_on_site": "",
    "pulse_oximeter_on_site": "on",
    "ride_home_confirmed": "on",
    "no_driving_acknowledged": "on",
    "weight_kg": "80",
    **VITALS,
}


def _booked_appointment(w: World) -> dict[str, Any]:
    """A booked dosing appointment of north's patient today (#11 §1), built once per test."""

    def make() -> Any:
        from decimal import Decimal

        from django.utils import timezone

        from kairos.courses.models import Appointment, Course

        course = Course.objects.create(
            clinic=w.org.north,
            patient=w.patient,
            protocol_id="esketamine-trd",
            status="active",
            start_date=timezone.localdate(),
            created_by=w.org.prescriber,
        )
        starts = timezone.now() - dt.timedelta(hours=1)
        return Appointment.objects.create(
            course=course,
            patient=w.patient,
            clinic=w.org.north,
            kind="dosing",
            number=1,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            planned_dose_mg=Decimal("56"),
        )

    return {"appointment": w.once("booked_appointment", make).pk}


ENTRIES = [
    Entry(
        "dosing:list",
        phi=True,
        allowed=CLINICAL_READERS | set(FOREIGN),
        scope="collection",
        kwargs=_with_sessions,
        query=_session_day,
    ),
    Entry(
        "dosing:rems_list",
        phi=True,
        allowed=CLINICAL_READERS | set(FOREIGN),
        scope="collection",
        kwargs=_with_rems_form,
    ),
    Entry("dosing:detail", phi=True, allowed=CLINICAL_READERS, kwargs=_iv),
    Entry("dosing:flowsheet", phi=True, allowed=CLINICAL_READERS, kwargs=_iv),
    Entry("dosing:add_reading", phi=True, method="POST", allowed=CHARTERS, kwargs=_iv, data=lambda w: VITALS),
    Entry("dosing:rems_form", phi=True, allowed=CLINICAL_READERS, kwargs=_esk),
    Entry("dosing:rems_form_pdf", phi=True, allowed=CLINICAL_READERS, kwargs=_esk),
    Entry("dosing:discharge_pdf", phi=True, allowed=CLINICAL_READERS, kwargs=_with_discharge_note),
    Entry("dosing:integration", phi=True, allowed=INTEGRATION_READERS, kwargs=_iv),
    Entry(
        "dosing:safety_report",
        phi=True,
        allowed=CLINICAL_READERS,
        kwargs=lambda w: {"session_id": _sessions(w)["iv"].pk, "event_id": _sessions(w)["event"].pk},
    ),
    Entry(
        "dosing:action",
        phi=True,
        method="POST",
        allowed=CHARTERS,
        kwargs=lambda w: {"session_id": _sessions(w)["fresh"].pk, "action": "check_in"},
        data=lambda w: CHECK_IN,
    ),
    Entry(
        "GET /api/v1/sessions",
        phi=True,
        allowed=CLINICAL_READERS | set(FOREIGN),
        scope="collection",
        kwargs=_with_sessions,
    ),
    Entry("GET /api/v1/sessions/{session_id}", phi=True, allowed=CLINICAL_READERS, kwargs=_iv),
    Entry("GET /api/v1/sessions/{session_id}/rems-form", phi=True, allowed=CLINICAL_READERS, kwargs=_esk),
    Entry(
        "POST /api/v1/sessions",
        phi=True,
        allowed=CHARTERS,
        # kwargs are built outside the rolled-back block (the URL has no placeholder: format ignores them)
        kwargs=lambda w: {"booked": _booked_appointment(w)["appointment"]},
        data=_booked_appointment,
    ),
]
