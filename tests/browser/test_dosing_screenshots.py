"""Screenshots of the treatment journey with the demo organisation: the board, a flowsheet with the model
curves, the REMS Patient Monitoring Form (print view), the patient chart and the course plan page.

Run with ``KAIROS_SCREENSHOTS=1`` to write ``docs/screenshots/*.png`` (otherwise a temporary folder): the
pages are also checked here (no CSP violation, the expected parts present), so the test is worth running
without the flag too.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

M = dt.timedelta(minutes=1)
SLOW_MS = 30_000
VITALS = {"sbp": 128, "dbp": 80, "heart_rate": 74, "spo2": 98, "resp_rate": 14}


def _today_on_the_board(ctx: dict[str, Any]) -> None:
    """Give today's board several chairs in different states: sessions linked to today's appointments
    (booked for the demo patients), at several steps of the day."""
    from django.utils import timezone

    from kairos.courses.models import Appointment, AppointmentStatus, Chair
    from kairos.dosing import services

    clinic = ctx["clinics"]["north"]
    nurse, prescriber = ctx["users"]["demo-nurse"], ctx["users"]["demo-prescriber"]
    tz = clinic.tz
    now = timezone.now()
    day0 = dt.datetime.combine(timezone.localdate(timezone=tz), dt.time(), tzinfo=tz)
    chairs = list(Chair.objects.filter(clinic=clinic).order_by("name"))
    plan = [  # (mrn, protocol, chair, hour, how far along)
        ("N-1001", "esketamine-trd", 0, 8, "monitoring"),
        ("N-1003", "esketamine-trd", 0, 12, "checked_in"),
        ("N-1002", "iv-racemic", 1, 9, "dosing"),
        ("N-1005", "iv-racemic", 2, 10, "expected"),
    ]
    for mrn, protocol, chair, hour, step in plan:
        patient = ctx["patients"][mrn]
        begins = day0 + dt.timedelta(hours=hour)
        appt = Appointment.objects.filter(
            patient=patient, starts_at__date=begins.date(), kind="dosing"
        ).first() or Appointment.objects.create(
            patient=patient,
            clinic=clinic,
            kind="dosing",
            starts_at=begins,
            ends_at=begins + dt.timedelta(hours=2),
            chair=chairs[chair],
            status=AppointmentStatus.BOOKED,
            created_by=prescriber,
        )
        s = services.create_session(
            nurse,
            patient,
            protocol_id=protocol,
            scheduled_for=appt.starts_at,
            responsible=prescriber,
            course=appt.course,
            appointment=appt,
        )
        if step == "expected":
            continue
        t0 = min(now - 50 * M, appt.starts_at) if step != "checked_in" else now - 5 * M
        services.check_in(
            nurse,
            s,
            prescriber_on_site=prescriber,
            pulse_oximeter_on_site=True,
            ride_home_confirmed=True,
            no_driving_acknowledged=True,
            vitals=VITALS,
            weight_kg="78.0",
            last_food_at=t0 - 180 * M,
            last_liquid_at=t0 - 60 * M,
            escort_name="Partner",
            pregnancy_status="negative_test",
            at=t0,
        )
        if step == "checked_in":
            continue
        services.order_dose(prescriber, s)
        if s.needs_verification:
            services.verify_dose(nurse, s)
        code = "spravato-56" if protocol.startswith("esketamine") else "ketamine-10"
        services.start_dosing(nurse, s, product_code=code, lot_number="LOT-TODAY", at=t0 + 5 * M)
        if s.is_esketamine:
            services.record_device(nurse, s, at=t0 + 10 * M)
        services.add_reading(nurse, s, taken_at=t0 + 20 * M, vitals=VITALS, moaas=4)


@pytest.fixture
def demo(browser_db: None) -> dict[str, Any]:
    from kairos.accounts.models import Clinic
    from kairos.cli.demo_loader import load_demo
    from kairos.courses.models import Chair
    from kairos.patients.models import Patient

    load_demo()
    north = Clinic.objects.get(slug="north")
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo")}
    patients = {p.mrn: p for p in Patient.objects.all()}
    ctx = {"clinics": {"north": north}, "users": users, "patients": patients}
    assert Chair.objects.filter(clinic=north).count() >= 3
    _today_on_the_board(ctx)
    return ctx


def test_treatment_journey_screenshots(demo, logged_in_page, screenshot):
    from kairos.dosing.models import DosingSession

    nurse = logged_in_page(demo["users"]["demo-nurse"])
    nurse.goto("/board/", timeout=SLOW_MS)
    board = nurse.get_by_test_id("board")
    states = {board.locator(f"[data-state={s}]").count() for s in ("prechecks_done", "monitoring", "dosing")}
    assert board.locator("tbody tr").count() >= 4 and states != {0}
    screenshot(nurse, "dosing-board")

    alex = demo["patients"]["N-1001"]
    signed = DosingSession.objects.filter(patient=alex, status="discharged").order_by("scheduled_for").last()
    nurse.goto(f"/sessions/{signed.pk}/", timeout=SLOW_MS)
    expect(nurse.locator(".flowsheet-chart")).to_be_visible()
    expect(nurse.get_by_test_id("flowsheet").locator("tbody tr")).to_have_count(5)
    screenshot(nurse, "dosing-flowsheet")

    nurse.goto(f"/sessions/{signed.pk}/rems/", timeout=SLOW_MS)
    nurse.emulate_media(media="print")
    expect(nurse.locator(".topbar")).to_be_hidden()
    screenshot(nurse, "dosing-rems-form")
    nurse.emulate_media(media="screen")

    prescriber = logged_in_page(demo["users"]["demo-prescriber"])
    prescriber.goto(f"/patients/{alex.pk}/", timeout=SLOW_MS)
    expect(prescriber.get_by_test_id("patient-name")).to_have_text("Alex Morgan")
    screenshot(prescriber, "chart-journey")

    casey = demo["patients"]["N-1005"]
    prescriber.goto(f"/courses/patient/{casey.pk}/plan/", timeout=SLOW_MS)
    protocol = prescriber.get_by_label("Protocol")
    protocol.focus()
    prescriber.keyboard.type("Esketamine")
    start = prescriber.get_by_label("Start date")
    monday = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())
    for order in ("%m%d%Y", "%d%m%Y"):  # Chromium's date segments follow its UI locale
        start.focus()
        prescriber.keyboard.type(monday.strftime(order))
        if start.input_value() == monday.isoformat():
            break
    indication = prescriber.get_by_label("Indication")
    indication.focus()
    prescriber.keyboard.type("Treatment-resistant depression")
    with prescriber.expect_navigation(timeout=SLOW_MS):
        prescriber.keyboard.press("Enter")  # the first submit button: "Show dated plan"
    expect(prescriber.get_by_role("heading", name=re.compile("Dated plan"))).to_be_visible()
    screenshot(prescriber, "course-plan")
