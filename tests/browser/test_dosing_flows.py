"""The dosing day in a real browser, driven by the keyboard: a whole esketamine session (check-in → gate →
order → two devices 5 min apart → flowsheet → discharge → signed note → REMS form signed and submitted), a
whole IV session with the second clinician's verification, and a held session (BP above the IV hold
threshold twice) that cannot proceed until a prescriber overrides with a reason.

Fields are focused (``locator.focus()``, which is what Tab or an accesskey does) and typed with
``keyboard``; forms are submitted with Enter, buttons pressed with Enter or Space. After each flow the
stored rows are checked, not only the pages.

The clock: a REMS session needs 2 h of observation from the first device, so the test moves the server's
clock forward with ``time_machine`` (``tick=True``; all threads of the live server see it). Sessions
expire after 15 idle minutes, so each page signs in again after a jump.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

M = dt.timedelta(minutes=1)
SLOW_MS = 30_000


# --- helpers -----------------------------------------------------------------------------------------------


class Clock:
    """The server's clock, starting at the real 'now' (floored to the minute) and moved forward on demand."""

    def __init__(self, traveller: Any, start: dt.datetime) -> None:
        self.traveller = traveller
        self.t0 = start

    def to(self, minutes: float) -> dt.datetime:
        when = self.t0 + dt.timedelta(minutes=minutes)
        self.traveller.move_to(when)
        return when


@pytest.fixture
def clock() -> Iterator[Clock]:
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    with time_machine.travel(start, tick=True) as traveller:
        yield Clock(traveller, start)


@pytest.fixture
def sign_in(live_server: Any) -> Callable[[Any, Any], Any]:
    """(Re-)sign ``page`` in as ``user`` (a fresh session cookie; used after the clock jumps)."""

    def do(page: Any, user: Any) -> Any:
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        return page

    return do


def type_into(page: Any, locator: Any, text: str) -> None:
    locator.focus()
    page.keyboard.type(text)


def type_when(page: Any, locator: Any, when: dt.datetime) -> None:
    """Type a local date and time into a ``datetime-local`` field segment by segment. The segment order
    follows Chromium's UI locale (en-US here: mm/dd/yyyy, hh:mm AM/PM; a 24-hour dd/mm/yyyy locale is
    tried second); the field's value is checked either way."""
    want = when.strftime("%Y-%m-%dT%H:%M")
    ampm = "A" if when.hour < 12 else "P"
    for date_order, clock_keys in (
        ("%m%d%Y", when.strftime("%I%M") + ampm),
        ("%d%m%Y", when.strftime("%H%M")),
    ):
        locator.focus()
        page.keyboard.type(when.strftime(date_order))
        page.keyboard.press("Tab")  # to the hour segment, inside the same control
        page.keyboard.type(clock_keys)
        if locator.input_value() == want:
            return
    raise AssertionError(f"could not type {want} into {locator}: got {locator.input_value()!r}")


def tick(page: Any, locator: Any) -> None:
    locator.focus()
    page.keyboard.press("Space")
    assert locator.is_checked()


def choose(page: Any, select: Any, text: str, value: str) -> None:
    """Keyboard type-ahead on a focused <select>."""
    select.focus()
    page.keyboard.type(text)
    assert select.input_value() == value, (text, select.input_value())


def press(page: Any, button: Any) -> None:
    """Activate a button from the keyboard and wait for the page it loads."""
    button.focus()
    with page.expect_navigation(timeout=SLOW_MS):
        page.keyboard.press("Enter")


def submit_from(page: Any, field: Any) -> None:
    """Enter in a text field submits its form (implicit submission)."""
    field.focus()
    with page.expect_navigation(timeout=SLOW_MS):
        page.keyboard.press("Enter")


def open_session(page: Any, s: Any, sub: str = "") -> None:
    # the first flowsheet of a process computes the model curves (compiled on first use): allow for it
    page.goto(f"/sessions/{s.pk}/{sub}", timeout=SLOW_MS)


def status_of(page: Any) -> str:
    return page.get_by_test_id("session-status").inner_text()


# --- data --------------------------------------------------------------------------------------------------


@pytest.fixture
def day(org, patient):
    """North is REMS-certified (conftest); the REMS site block, a named prescriber, the patient enrolled."""
    from kairos.dosing.models import RemsSiteProfile
    from kairos.intake.services import enrol_rems

    org.prescriber.first_name, org.prescriber.last_name = "Dana", "Prescott"
    org.prescriber.save()
    RemsSiteProfile.objects.create(
        clinic=org.north, address1="1 Main St", city="Boston", state="MA", zip="02110", phone="617-555-0100"
    )
    enrol_rems(
        org.prescriber,
        patient,
        enrolled_on=dt.date.today() - dt.timedelta(days=30),
        confirmation_id="REMS-PT-0001",
    )
    return org


def _session(org: Any, patient: Any, protocol: str, at: dt.datetime) -> Any:
    from kairos.dosing import services

    return services.create_session(
        org.nurse, patient, protocol_id=protocol, scheduled_for=at, responsible=org.prescriber
    )


def _check_in(
    page: Any, tz: Any, *, sbp: str, dbp: str, weight: str | None, pregnancy: tuple[str, str]
) -> None:
    form = page.get_by_test_id("checkin-form")
    prescriber = form.locator("select[name=prescriber_on_site]")
    expect(prescriber).to_be_focused()  # autofocus: the form starts where the nurse starts
    choose(
        page,
        prescriber,
        "Dana",
        str(form.locator("select[name=prescriber_on_site] option").nth(1).get_attribute("value")),
    )
    tick(page, form.get_by_label("Pulse oximeter on site"))
    if weight:
        type_into(page, form.get_by_label("Weight today (kg)"), weight)
    now = dt.datetime.now(dt.UTC).astimezone(tz)
    type_when(page, form.get_by_label("Last food"), now - dt.timedelta(hours=3))
    type_when(page, form.get_by_label("Last liquid"), now - dt.timedelta(hours=1))
    tick(page, form.get_by_label("Ride home confirmed"))
    tick(page, form.get_by_label("No driving until next day acknowledged"))
    type_into(page, form.get_by_label("Escort"), "Sam (partner)")
    choose(page, form.get_by_label("Pregnancy status"), *pregnancy)
    type_into(page, form.get_by_label("Medicines taken today"), "sertraline 100 mg")
    for name, value in (
        ("sbp", sbp),
        ("dbp", dbp),
        ("heart_rate", "72"),
        ("spo2", "98"),
        ("resp_rate", "14"),
    ):
        type_into(page, form.locator(f"input[name={name}]"), value)
    submit_from(page, form.locator("input[name=resp_rate]"))


def _reading(page: Any, when: dt.datetime, rows: int, **values: str) -> None:
    """Add a flowsheet row through the htmx form and wait for the swapped flowsheet to show it."""
    form = page.get_by_test_id("reading-form")
    type_when(page, form.locator("input[name=taken_at]"), when)
    for name, value in values.items():
        if name == "moaas":
            choose(page, form.locator("select[name=moaas]"), value, value)
        elif name.startswith("cadss_"):
            details = form.locator("details")
            if not details.evaluate("d => d.open"):
                details.locator("summary").focus()
                page.keyboard.press("Enter")
            type_into(page, form.locator(f"input[name={name}]"), value)
        else:
            type_into(page, form.locator(f"input[name={name}]"), value)
    form.locator("input[name=other_effects]").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("flowsheet").locator("tbody tr")).to_have_count(rows)
    expect(page.get_by_test_id("reading-errors")).to_have_count(0)
    # htmx settles the new form and focuses its autofocus field (SBP), ready for the next reading
    expect(page.get_by_test_id("reading-form").locator("input[name=sbp]")).to_be_focused()


# --- (a) esketamine ----------------------------------------------------------------------------------------


def test_esketamine_session_by_keyboard(day, patient, clock, logged_in_page, sign_in):
    from kairos.dosing.models import DischargeNote, DoseOrder, DosingSession, Reading, RemsForm

    org = day
    tz = org.north.tz
    s = _session(org, patient, "esketamine-trd", clock.t0)
    nurse = logged_in_page(org.nurse)
    open_session(nurse, s)
    _check_in(nurse, org.north.tz, sbp="124", dbp="78", weight="80.0", pregnancy=("Neg", "negative_test"))
    expect(nurse.get_by_test_id("gate-outcome"), nurse.locator(".findings").inner_text()).to_have_text("ok")
    assert status_of(nurse) == "Pre-checks done"

    prescriber = logged_in_page(org.prescriber)
    open_session(prescriber, s)
    order = prescriber.get_by_test_id("order-form")
    expect(order.locator("select[name=requested_mg]")).to_be_focused()
    choose(prescriber, order.locator("select[name=requested_mg]"), "56", "56")
    submit_from(prescriber, order.locator("input[name=dose_mg]"))
    expect(prescriber.get_by_role("heading", name=re.compile(r"Order: 56 mg"))).to_be_visible()

    first = clock.to(10)
    open_session(nurse, s)
    start = nurse.get_by_test_id("start-form")
    choose(nurse, start.get_by_label("Product"), "Spravato 56", "spravato-56")
    type_into(nurse, start.get_by_label("Lot number"), "LOT123")
    type_when(nurse, start.get_by_label("Time"), first.astimezone(tz))
    submit_from(nurse, start.get_by_label("Lot number"))
    assert status_of(nurse) == "Dosing"

    clock.to(15)
    device_time = nurse.locator("form[action$='/device/'] input[name=at]")
    type_when(nurse, device_time, (first + 3 * M).astimezone(tz))  # too soon: refused, naming the field
    submit_from(nurse, device_time)
    expect(nurse.get_by_test_id("errors")).to_contain_text("at:")
    expect(nurse.get_by_test_id("errors")).to_contain_text("5 min")
    device_time = nurse.locator("form[action$='/device/'] input[name=at]")
    type_when(nurse, device_time, (first + 5 * M).astimezone(tz))
    submit_from(nurse, device_time)
    assert status_of(nurse) == "Monitoring"

    clock.to(10 + 46)
    sign_in(nurse, org.nurse)
    open_session(nurse, s)
    _reading(nurse, (first + 40 * M).astimezone(tz), 2, sbp="150", dbp="88", heart_rate="80", spo2="97")
    _reading(
        nurse,
        (first + 45 * M).astimezone(tz),
        3,
        moaas="4",
        cadss_1="1",
        cadss_2="1",
        cadss_6="0",
        cadss_7="0",
        cadss_15="0",
        cadss_22="0",
    )
    clock.to(10 + 121)
    sign_in(nurse, org.nurse)
    open_session(nurse, s)
    _reading(
        nurse,
        (first + 118 * M).astimezone(tz),
        4,
        sbp="128",
        dbp="80",
        heart_rate="70",
        spo2="98",
        resp_rate="14",
        moaas="5",
    )
    expect(nurse.get_by_test_id("readiness")).to_be_visible()

    discharge = nurse.get_by_test_id("discharge-form")
    tick(nurse, discharge.get_by_label("Escort present"))
    tick(nurse, discharge.get_by_label("Dissociation resolved"))
    type_into(nurse, discharge.get_by_label("Discharge summary"), "Tolerated 56 mg; left with partner.")
    type_into(nurse, discharge.locator("input[name=ready_to_leave_minutes]"), "90")
    submit_from(nurse, discharge.locator("input[name=ready_to_leave_minutes]"))
    assert status_of(nurse) == "Discharged"
    expect(nurse.get_by_test_id("sign")).to_have_count(0)  # only the responsible clinician signs

    sign_in(prescriber, org.prescriber)
    open_session(prescriber, s)
    press(prescriber, prescriber.get_by_test_id("sign"))
    expect(prescriber.get_by_role("heading", name=re.compile("Discharge note v1"))).to_contain_text("signed")

    open_session(nurse, s, "rems/")
    expect(nurse.get_by_test_id("rems-missing")).to_have_count(0)
    press(nurse, nurse.get_by_test_id("rems-sign"))
    confirmation = nurse.get_by_label("Confirmation")
    expect(confirmation).to_be_focused()
    nurse.keyboard.type("REMS-998877")
    tick(nurse, nurse.get_by_label("Online"))  # how the form was submitted (online or fax), required
    submit_from(nurse, confirmation)
    expect(nurse.get_by_test_id("rems-state")).to_have_text("submitted")

    s = DosingSession.objects.get(pk=s.pk)
    assert s.status == "discharged" and s.dosing_started_at == first
    assert s.precheck.gate_outcome == "ok" and s.precheck.weight.weight_kg == Decimal("80.0")
    assert s.precheck.escort_name == "Sam (partner)" and s.precheck.pregnancy_status == "negative_test"
    order_row = DoseOrder.objects.get(session=s)
    assert (order_row.dose_mg, order_row.devices, order_row.ordered_by) == (Decimal("56"), 2, org.prescriber)
    times = [dt.datetime.fromisoformat(t) for t in s.administration.device_times]
    assert times == [first, first + 5 * M] and s.administration.lot_number == "LOT123"
    readings = list(Reading.objects.filter(session=s).order_by("taken_at"))
    assert [(r.phase, r.sbp, r.moaas, r.cadss6_total) for r in readings] == [
        ("pre_dose", 124, None, None),
        ("post", 150, None, None),
        ("post", None, 4, 2),
        ("post", 128, 5, None),
    ]
    (note,) = DischargeNote.objects.filter(session=s)
    assert (note.version, note.signed_by, note.summary) == (
        1,
        org.prescriber,
        "Tolerated 56 mg; left with partner.",
    )
    assert note.signed_at is not None and note.escort_present and note.dissociation_resolved
    form = RemsForm.objects.get(session=s)
    assert (form.confirmation, form.submitted_by, form.signed_by) == ("REMS-998877", org.nurse, org.nurse)
    stored = form.fields  # the snapshot taken at signing
    assert stored["complete"] and stored["missing"] == [] and stored["problems"] == []
    f = stored["sections"]
    assert f["session"]["dose"] == "56 mg" and f["session"]["lot_number"] == "LOT123"
    assert (f["bp"]["pre_sbp"], f["bp"]["post40_sbp"], f["bp"]["completion_sbp"]) == (124, 150, 128)
    assert f["adverse"]["sedation"] == "Y" and f["adverse"]["dissociation"] == "Y"
    assert f["duration"]["total_minutes"] >= 120
    assert form.due_date == first.astimezone(tz).date() + dt.timedelta(days=7)


# --- (b) IV with a second clinician ------------------------------------------------------------------------


def test_iv_session_with_second_clinician(day, patient, clock, logged_in_page, sign_in):
    from kairos.audit.models import AuditEvent
    from kairos.dosing.models import DischargeNote, DoseOrder, DosingSession, Reading

    org = day
    tz = org.north.tz
    s = _session(org, patient, "iv-racemic", clock.t0)
    nurse = logged_in_page(org.nurse)
    open_session(nurse, s)
    _check_in(nurse, org.north.tz, sbp="130", dbp="82", weight="80.0", pregnancy=("Neg", "negative_test"))
    assert status_of(nurse) == "Pre-checks done"

    prescriber = logged_in_page(org.prescriber)
    open_session(prescriber, s)
    level = prescriber.get_by_test_id("order-form").locator("input[name=level]")
    expect(level).to_be_focused()
    submit_from(prescriber, level)
    expect(prescriber.get_by_role("heading", name=re.compile(r"Order: 40 mg"))).to_be_visible()
    expect(prescriber.get_by_test_id("verify")).to_have_count(0)  # the orderer cannot verify their own dose

    open_session(nurse, s)
    expect(nurse.get_by_test_id("start-form")).to_have_count(0)  # nothing to start before the check
    expect(nurse.get_by_test_id("awaiting-verification")).to_be_visible()
    press(nurse, nurse.get_by_test_id("verify"))
    start = nurse.get_by_test_id("start-form")
    choose(nurse, start.get_by_label("Product"), "Ketamine HCl injection 10 mg", "ketamine-10")
    type_into(nurse, start.get_by_label("Lot number"), "K1")
    assert start.get_by_label("Rate (mL/h)").input_value() == "150.0"
    begun = clock.to(5)
    type_when(nurse, start.get_by_label("Time"), begun.astimezone(tz))
    submit_from(nurse, start.get_by_label("Lot number"))
    assert status_of(nurse) == "Dosing"

    clock.to(5 + 41)
    sign_in(nurse, org.nurse)
    open_session(nurse, s)
    for n, m in enumerate((10, 20, 30, 40), start=2):
        _reading(nurse, (begun + m * M).astimezone(tz), n, sbp="132", dbp="84", heart_rate="76", spo2="97")
    stop = nurse.locator("form[action$='/stop/'] input[name=at]")
    type_when(nurse, stop, (begun + 40 * M).astimezone(tz))
    submit_from(nurse, stop)
    assert status_of(nurse) == "Monitoring"

    clock.to(5 + 96)
    sign_in(nurse, org.nurse)
    open_session(nurse, s)
    _reading(
        nurse,
        (begun + 95 * M).astimezone(tz),
        6,
        sbp="124",
        dbp="78",
        heart_rate="72",
        spo2="98",
        resp_rate="14",
        moaas="5",
    )
    discharge = nurse.get_by_test_id("discharge-form")
    tick(nurse, discharge.get_by_label("Escort present"))
    tick(nurse, discharge.get_by_label("Dissociation resolved"))
    type_into(nurse, discharge.get_by_label("Discharge summary"), "Infusion complete.")
    submit_from(nurse, discharge.locator("input[name=ready_to_leave_minutes]"))
    assert status_of(nurse) == "Discharged"

    sign_in(prescriber, org.prescriber)
    open_session(prescriber, s)
    press(prescriber, prescriber.get_by_test_id("sign"))
    expect(prescriber.get_by_role("link", name="REMS form", exact=True)).to_have_count(
        0
    )  # IV is outside the Spravato REMS

    s = DosingSession.objects.get(pk=s.pk)
    assert s.status == "discharged"
    o = DoseOrder.objects.get(session=s)
    assert (o.dose_mg, o.concentration_mg_ml, o.rate_ml_h) == (
        Decimal("40"),
        Decimal("0.4"),
        Decimal("150.0"),
    )
    assert (o.ordered_by, o.verified_by) == (org.prescriber, org.nurse) and o.verified_at is not None
    assert (s.administration.started_at, s.administration.ended_at) == (begun, begun + 40 * M)
    assert Reading.objects.filter(session=s).count() == 6
    (note,) = DischargeNote.objects.filter(session=s)
    assert note.signed_by == org.prescriber and note.signed_at is not None
    assert not hasattr(s, "rems_form") or s.rems_form is None
    assert AuditEvent.objects.filter(
        object_id=str(o.pk), actor=org.nurse, summary__icontains="verif"
    ).exists()


# --- (c) held: no way on without an override; the override with a reason -----------------------------------


def test_held_session_and_prescriber_override(day, patient, clock, logged_in_page, sign_in):
    from kairos.audit.models import AuditEvent
    from kairos.dosing.models import DoseOrder, DosingSession, Reading

    org = day
    s = _session(org, patient, "iv-racemic", clock.t0)
    nurse = logged_in_page(org.nurse)
    open_session(nurse, s)
    # 175/115: the IV hold (diastolic ≥ 110), below the hypertensive-crisis hold (≥ 180 / ≥ 120, issue #12)
    _check_in(nurse, org.north.tz, sbp="175", dbp="115", weight="80.0", pregnancy=("Neg", "negative_test"))
    assert status_of(nurse) == "Held"
    expect(nurse.get_by_test_id("gate-outcome")).to_have_text("hold")

    clock.to(6)  # the hold is confirmed by a second reading at least 5 min later
    recheck = nurse.locator("form[action$='/recheck/']")
    for name, value in (("sbp", "175"), ("dbp", "115"), ("heart_rate", "80"), ("spo2", "98")):
        type_into(nurse, recheck.locator(f"input[name={name}]"), value)
    submit_from(nurse, recheck.locator("input[name=spo2]"))
    assert status_of(nurse) == "Held"
    expect(nurse.locator(".findings")).to_contain_text("readings 5 min or more apart")
    # the nurse cannot proceed: no override, no order, no administration on the page
    for testid in ("order-form", "start-form"):
        expect(nurse.get_by_test_id(testid)).to_have_count(0)
    expect(nurse.get_by_role("button", name="Override hold")).to_have_count(0)

    prescriber = logged_in_page(org.prescriber)
    prescriber.dialog_reasons = []  # type: ignore[attr-defined]
    prescriber.on("dialog", lambda d: (prescriber.dialog_reasons.append(d.message), d.accept()))
    open_session(prescriber, s)
    expect(prescriber.get_by_test_id("order-form")).to_have_count(0)
    reason = prescriber.get_by_label("Override reason")
    type_into(prescriber, reason, "too short")  # refused by the browser (minlength) and by the server
    reason.evaluate("el => el.removeAttribute('minlength')")  # let the server answer too
    submit_from(prescriber, reason)
    expect(prescriber.get_by_test_id("errors")).to_contain_text("reason: at least 15 characters")
    assert DosingSession.objects.get(pk=s.pk).status == "held"

    why = "Known white-coat hypertension; home BP 135/85; cardiology cleared"
    reason = prescriber.get_by_label("Override reason")
    type_into(prescriber, reason, why)
    submit_from(prescriber, reason)
    assert status_of(prescriber) == "Pre-checks done"
    assert prescriber.dialog_reasons and "audited" in prescriber.dialog_reasons[-1]  # type: ignore[attr-defined]
    expect(prescriber.get_by_test_id("order-form")).to_be_visible()

    s = DosingSession.objects.get(pk=s.pk)
    assert s.status == "prechecks_done" and not DoseOrder.objects.filter(session=s).exists()
    assert [(r.sbp, r.dbp) for r in Reading.objects.filter(session=s)] == [(175, 115), (175, 115)]
    assert s.precheck.override_by == org.prescriber and s.precheck.override_reason == why
    (event,) = AuditEvent.objects.filter(summary="pre-dose hold overridden by prescriber")
    assert (event.actor, event.patient_id, event.reason) == (org.prescriber, patient.pk, why)
    assert event.old == {"status": "held"} and event.new["override"] == [r["code"] for r in s.hold_reasons]
    # the override records the hold the re-check confirmed (bp_hold), not the first reading's pending
    # bp_hold_recheck: a still-held re-check updates hold_reasons
    assert event.new["override"] == ["bp_hold"]
    assert "bp_hold" in [f["code"] for f in s.precheck.gate_result["findings"]]  # confirmed on the re-check
