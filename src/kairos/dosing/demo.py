"""Demo dosing sessions (dev mode): two signed esketamine sessions (one REMS form submitted, one due), a
signed IV session, and a held session today. Idempotent: skipped when the demo sessions exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

M = dt.timedelta(minutes=1)
VITALS = {"sbp": 126, "dbp": 80, "heart_rate": 74, "spo2": 98, "resp_rate": 14}


def _check_in(services: Any, nurse: Any, prescriber: Any, s: Any, t0: dt.datetime, **kw: Any) -> Any:
    args = dict(
        prescriber_on_site=prescriber,
        pulse_oximeter_on_site=True,
        ride_home_confirmed=True,
        no_driving_acknowledged=True,
        vitals=VITALS,
        weight_kg="78.4",
        last_food_at=t0 - 180 * M,
        last_liquid_at=t0 - 60 * M,
        escort_name="Partner",
        medicines_taken_today="sertraline 100 mg",
        pregnancy_status="negative_test",
        at=t0,
    )
    args.update(kw)
    return services.check_in(nurse, s, **args)


def _esketamine(services: Any, users: dict[str, Any], patient: Any, t0: dt.datetime, lot: str) -> Any:
    nurse, prescriber = users["demo-nurse"], users["demo-prescriber"]
    s = services.create_session(
        nurse, patient, protocol_id="esketamine-trd", scheduled_for=t0, responsible=prescriber
    )
    _check_in(services, nurse, prescriber, s, t0)
    services.order_dose(prescriber, s)
    first = t0 + 10 * M
    services.start_dosing(nurse, s, product_code="spravato-56", lot_number=lot, at=first)
    services.record_device(nurse, s, at=first + 5 * M)
    services.add_reading(
        nurse, s, taken_at=first + 20 * M, moaas=4, cadss6={"1": 1, "2": 1, "6": 0, "7": 1, "15": 0, "22": 0}
    )
    services.add_reading(
        nurse,
        s,
        taken_at=first + 40 * M,
        vitals={"sbp": 152, "dbp": 90, "heart_rate": 82, "spo2": 97, "resp_rate": 14},
    )
    services.add_reading(
        nurse,
        s,
        taken_at=first + 60 * M,
        vitals={"sbp": 140, "dbp": 86, "heart_rate": 78, "spo2": 98},
        moaas=5,
        nausea="nausea",
    )
    services.add_reading(
        nurse,
        s,
        taken_at=first + 118 * M,
        vitals={"sbp": 128, "dbp": 80, "heart_rate": 72, "spo2": 98, "resp_rate": 14},
        moaas=5,
        cadss6={"1": 0, "2": 0, "6": 0, "7": 0, "15": 0, "22": 0},
    )
    note = services.discharge(
        nurse,
        s,
        escort_present=True,
        dissociation_resolved=True,
        summary="Tolerated 56 mg; transient BP rise at 40 min settled; mild nausea. Left with partner.",
        ready_to_leave_minutes=90,
        at=first + 122 * M,
    )
    services.sign_note(prescriber, note)
    services.sign_rems_form(nurse, s)
    return s


# Over 80 lines: a linear demo script (four sessions in story order) with no branching worth extracting.
def load_dosing_demo(context: dict[str, Any]) -> str:
    from kairos.dosing import services
    from kairos.dosing.models import DosingSession, RemsSiteProfile
    from kairos.intake.models import RemsEnrolment

    users, patients, clinics = context["users"], context["patients"], context["clinics"]
    north = clinics["north"]
    alex, jordan, riley = patients["N-1001"], patients["N-1002"], patients["N-1004"]
    if DosingSession.objects.filter(patient__in=[alex, jordan, riley]).exists():
        return "dosing: demo sessions already present"
    RemsSiteProfile.objects.get_or_create(
        clinic=north,
        defaults={
            "setting_name": north.name,
            "address1": "120 Harbor Street",
            "city": "Boston",
            "state": "MA",
            "zip": "02110",
            "phone": "617-555-0142",
        },
    )
    if not RemsEnrolment.objects.filter(patient=alex).exists():
        RemsEnrolment.objects.create(
            patient=alex,
            enrolled_on=timezone.localdate() - dt.timedelta(days=30),
            confirmation_id="DEMO-ENR-1001",
            recorded_by=users["demo-nurse"],
        )
    tz = north.tz
    now = timezone.now().astimezone(tz)

    def at(days_ago: int, hour: int) -> dt.datetime:
        return (now - dt.timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, microsecond=0)

    s1 = _esketamine(services, users, alex, at(9, 9), "LOT-A2291")
    services.submit_rems_form(
        users["demo-nurse"],
        s1,
        confirmation="REMS-DEMO-55120",
        method="online",
        submitted_on=(now - dt.timedelta(days=8)).date(),
    )
    _esketamine(services, users, alex, at(2, 9), "LOT-A2304")
    nurse, prescriber = users["demo-nurse"], users["demo-prescriber"]
    iv = services.create_session(
        nurse, jordan, protocol_id="iv-racemic", scheduled_for=at(1, 10), responsible=prescriber
    )
    t0 = at(1, 10)
    _check_in(services, nurse, prescriber, iv, t0, weight_kg="91.0", pregnancy_status="not_applicable")
    services.order_dose(prescriber, iv)
    services.verify_dose(nurse, iv)
    start = t0 + 10 * M
    services.start_dosing(nurse, iv, product_code="ketamine-10", lot_number="KET-10-7781", at=start)
    for m, sbp in ((10, 132), (20, 138), (30, 144), (40, 141)):
        services.add_reading(
            nurse, iv, taken_at=start + m * M, vitals={"sbp": sbp, "dbp": 84, "heart_rate": 78, "spo2": 97}
        )
    services.stop_infusion(nurse, iv, at=start + 40 * M)
    services.add_reading(
        nurse,
        iv,
        taken_at=start + 55 * M,
        vitals={"sbp": 130, "dbp": 80, "heart_rate": 74, "spo2": 98},
        moaas=5,
    )
    services.add_reading(
        nurse,
        iv,
        taken_at=start + 85 * M,
        vitals={"sbp": 126, "dbp": 78, "heart_rate": 72, "spo2": 98, "resp_rate": 14},
        moaas=5,
    )
    note = services.discharge(
        nurse,
        iv,
        escort_present=True,
        dissociation_resolved=True,
        summary="0.5 mg/kg over 40 min; no events.",
        at=start + 90 * M,
    )
    services.sign_note(prescriber, note)
    held_at = min(now - 30 * M, at(0, 8))
    held = services.create_session(
        nurse, riley, protocol_id="iv-racemic", scheduled_for=held_at, responsible=prescriber
    )
    _check_in(
        services,
        nurse,
        prescriber,
        held,
        held_at,
        weight_kg="84.7",
        pregnancy_status="not_applicable",
        vitals={"sbp": 204, "dbp": 118, "heart_rate": 96, "spo2": 97},
    )
    return "dosing: 2 signed esketamine sessions (REMS form submitted / due), 1 signed IV session, 1 held session"
