"""Test data for the trajectory/dashboard tests: courses, dosing sessions, flowsheet rows and scores written
directly as rows (the services are tested elsewhere; here only the read side is under test)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

T0 = dt.datetime(2025, 3, 3, 14, 0, tzinfo=dt.UTC)  # a Monday


def make_patient(
    org: Any, mrn: str, *, dob: dt.date = dt.date(1980, 5, 6), clinic: Any = None, sex: str = "female"
) -> Any:
    from kairos.patients.models import Patient

    return Patient.objects.create(
        clinic=clinic or org.north,
        mrn=mrn,
        given_name=f"Given{mrn}",
        family_name=f"Family{mrn}",
        date_of_birth=dob,
        sex=sex,
        email=f"{mrn.lower()}@example.invalid",
        phone="+1 555 0100",
    )


def make_course(
    org: Any,
    patient: Any,
    *,
    dose_days: Sequence[float] = (0, 3, 7, 10, 14, 17),
    scores: Sequence[tuple[float, float]] = (),
    instrument: str = "madrs",
    protocol_id: str = "iv-racemic",
    indication: str = "Treatment-resistant depression",
    start: dt.datetime = T0,
    linked: bool = True,
    readings: dict[int, Sequence[dict[str, Any]]] | None = None,
    events: dict[int, Sequence[str]] | None = None,
    dose_mg: float = 35.0,
    materialise: bool = True,
) -> Any:
    """A course with sessions on ``dose_days`` after ``start`` and ``instrument`` totals at day offsets.

    ``readings[i]``: flowsheet rows of session ``i`` (dicts with ``minutes`` relative to the dose).
    ``events[i]``: adverse-event types of session ``i``.
    ``materialise``: rebuild the dashboard's read model for the course afterwards, as a bulk loader must
    (rows written here bypass the services that keep it current).
    """
    from kairos.courses.models import Course
    from kairos.dosing.models import AdverseEvent, DoseOrder, DosingSession, Reading
    from kairos.measures.models import QuestionnaireResponse, Score

    clinic = patient.clinic
    course = Course.objects.create(
        clinic=clinic,
        patient=patient,
        protocol_id=protocol_id,
        indication=indication,
        status="active",
        start_date=(start + dt.timedelta(days=min(dose_days, default=0))).date(),
        created_by=org.prescriber,
    )
    drug, route = ("esketamine", "intranasal") if protocol_id.startswith("esketamine") else ("ketamine", "iv")
    for i, d in enumerate(dose_days):
        at = start + dt.timedelta(days=d)
        s = DosingSession.objects.create(
            clinic=clinic,
            patient=patient,
            course=course,
            protocol_id=protocol_id,
            drug=drug,
            route=route,
            status="discharged",
            scheduled_for=at,
            responsible_clinician=org.prescriber,
            created_by=org.nurse,
            dosing_started_at=at,
        )
        DoseOrder.objects.create(
            session=s,
            dose_mg=Decimal(str(dose_mg)),
            dose_mg_hcl=Decimal(str(round(dose_mg * 1.153, 2))),
            infusion_min=Decimal("40") if route == "iv" else None,
            calculation={},
            ordered_by=org.prescriber,
        )
        for r in (readings or {}).get(i, ()):
            r = dict(r)
            minutes = r.pop("minutes")
            Reading.objects.create(
                session=s,
                kind=r.pop("kind", "vitals"),
                phase=r.pop("phase", "post" if minutes >= 0 else "pre_dose"),
                taken_at=at + dt.timedelta(minutes=minutes),
                recorded_by=org.nurse,
                **r,
            )
        for etype in (events or {}).get(i, ()):
            AdverseEvent.objects.create(
                session=s,
                event_type=etype,
                description="test",
                onset_at=at + dt.timedelta(minutes=30),
                severity="mild",
                recorded_by=org.nurse,
            )
    for day, total in scores:
        at = start + dt.timedelta(days=day)
        resp = QuestionnaireResponse.objects.create(
            clinic=clinic,
            patient=patient,
            course=course if linked else None,
            instrument_id=instrument,
            instrument_version="1",
            answers={},
            submitted_at=at,
            source="clinician",
            entered_by=org.prescriber,
        )
        Score.objects.create(
            response=resp,
            instrument_id=instrument,
            total=int(total),
            raw_total=int(total),
            scorer_version="t",
        )
    if materialise:
        from kairos.measures import outcome_store

        outcome_store.rebuild([course.pk])
    return course
