"""Two years of clinical history for the benchmark chart patient (courses, appointments, dosing
sessions with flowsheet readings, PHQ-9 responses with scores). Bulk rows that bypass the services on
purpose: benchmark data only. Called by ``bulk_load_web.py``; returns the number of rows created."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any


def load(chart: Any, users: list[Any], history_days: int, rng: random.Random) -> int:
    from django.utils import timezone

    from kairos.clinical.instruments import SCORER_VERSION, get, score
    from kairos.courses.models import Appointment, Course
    from kairos.dosing.models import DosingSession, Reading
    from kairos.measures.models import QuestionnaireResponse, Score

    if Course.objects.filter(patient=chart).exists():
        return 0
    now = timezone.now()
    start = now - dt.timedelta(days=history_days)
    prescriber = users[0]
    course = Course.objects.create(
        clinic=chart.clinic,
        patient=chart,
        protocol_id="esketamine-trd",
        indication="TRD",
        status="maintenance",
        start_date=start.date(),
        created_by=prescriber,
    )
    # twice weekly for 4 weeks, weekly for 4 weeks, then every 2 weeks
    days = [d for w in range(4) for d in (7 * w, 7 * w + 3)] + [28 + 7 * w for w in range(4)]
    days += list(range(63, history_days, 14))
    appointments = Appointment.objects.bulk_create(
        [
            Appointment(
                course=course,
                patient=chart,
                clinic=chart.clinic,
                kind="dosing",
                number=i + 1,
                phase="induction" if d < 28 else "maintenance",
                starts_at=start + dt.timedelta(days=d, hours=9),
                ends_at=start + dt.timedelta(days=d, hours=11),
                status="completed",
            )
            for i, d in enumerate(days)
        ]
    )
    sessions = DosingSession.objects.bulk_create(
        [
            DosingSession(
                clinic=chart.clinic,
                patient=chart,
                course=course,
                appointment=a,
                protocol_id="esketamine-trd",
                drug="esketamine",
                route="intranasal",
                status="discharged",
                scheduled_for=a.starts_at,
                responsible_clinician=prescriber,
                created_by=prescriber,
                discharged_at=a.ends_at,
            )
            for a in appointments
        ]
    )
    readings = [
        Reading(
            session=s,
            kind="vitals",
            phase="pre" if k == 0 else "post",
            taken_at=s.scheduled_for + dt.timedelta(minutes=10 * k),
            sbp=120 + rng.randint(-8, 25),
            dbp=78 + rng.randint(-6, 12),
            heart_rate=72 + rng.randint(-8, 15),
            spo2=97 + rng.randint(-2, 2),
            resp_rate=14,
            recorded_by=prescriber,
            outcome="ok",
        )
        for s in sessions
        for k in range(12)
    ]
    Reading.objects.bulk_create(readings, batch_size=2000)
    phq9 = get("phq9")
    responses, scores = [], []
    for d in range(0, history_days, 7):
        answers = {item.id: rng.randint(0, 2) for item in phq9.items}
        answers["9"] = 0
        result = score("phq9", answers)
        r = QuestionnaireResponse(
            clinic=chart.clinic,
            patient=chart,
            course=course,
            instrument_id="phq9",
            instrument_version=phq9.version,
            answers=answers,
            submitted_at=start + dt.timedelta(days=d),
            source="link",
        )
        responses.append(r)
        scores.append((r, result))
    QuestionnaireResponse.objects.bulk_create(responses)
    Score.objects.bulk_create(
        [
            Score(
                response=r,
                instrument_id="phq9",
                total=res.total,
                raw_total=res.raw_total or 0,
                severity=res.severity or "",
                flags=[f.to_dict() for f in res.flags],
                scorer_version=SCORER_VERSION,
            )
            for r, res in scores
        ]
    )
    return len(appointments) + len(sessions) + len(readings) + 2 * len(responses)
