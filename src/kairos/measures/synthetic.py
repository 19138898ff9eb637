"""Synthetic measurement data for the demo clinic (seeded, idempotent). Demo data only, never clinical.

What it makes: ``N_NORTH`` + ``N_SOUTH`` synthetic patients (MRNs ``N-3xxx`` / ``S-4xxx``), each with one
treatment course started at some point in the last ten months, its dosing sessions (dates from
:func:`kairos.clinical.schedule.generate_schedule`, so clinic calendar and spacing rules hold), a dose
order, a flowsheet (pre-dose and 40/90/120-minute vitals, MOAA/S, CADSS-6), occasional adverse events, and
months of questionnaire scores:

* MADRS at baseline, before sessions 3 and 5, after the acute series, then every two weeks;
* PHQ-9 at baseline, after the acute series and weekly; the 24-hour PHQ-9 (modified recall) after dose 1.

The MADRS trajectory of each synthetic patient is the pharmacology engine's population response model
(:func:`kairos.measures.adapters.virtual_cohort`) evaluated for that patient's own dose times, with the
patient's own random effects (responder or not, effect size, baseline, visit noise) from a seeded stream —
not hand-typed numbers. PHQ-9 is derived from the modelled MADRS by a documented demo assumption
(``PHQ9_PER_MADRS`` × MADRS + noise; not a validated crosswalk). Item answers are spread to match each
total and scored with :func:`kairos.clinical.instruments.score` (safety items answered 0).

Session safety figures are drawn from the label's orders of magnitude (clinical.md §1.5): most sessions
raise blood pressure modestly, about one in ten by ≥ 40/25 mmHg; sedation and dissociation are common and
mild. Responders on racemic IV get booster sessions every two to four weeks in some cases and none in
others, so the demo shows relapse, booster and Kaplan–Meier censoring.

Bypasses the services on purpose (bulk rows, no audit events): the demo loader runs once on an empty dev
database. Idempotent: a second run finds the marker course plans and does nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from kairos.clinical.instruments import get as get_instrument
from kairos.clinical.instruments import score as score_instrument
from kairos.clinical.schedule import ScheduleError, generate_schedule
from kairos.measures import adapters

TAG = "kairos.measures.synthetic v1"
SEED = 20250611
N_NORTH = 36
N_SOUTH = 8
PHQ9_PER_MADRS = 0.55  # demo assumption (not a validated crosswalk): MADRS 32 → PHQ-9 ≈ 18, 10 → ≈ 5.5
HISTORY_DAYS = 300

GIVEN = (
    "Avery",
    "Blake",
    "Cameron",
    "Dakota",
    "Emerson",
    "Finley",
    "Gray",
    "Harper",
    "Indigo",
    "Jules",
    "Kendall",
    "Logan",
    "Marlow",
    "Noel",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Tatum",
    "Umber",
    "Vale",
    "Wren",
    "Yael",
    "Zion",
    "Ari",
    "Bellamy",
    "Cove",
    "Drew",
    "Eden",
    "Frankie",
    "Hollis",
    "Ira",
    "Jordan",
    "Kai",
    "Lennon",
    "Morgan",
    "Nico",
    "Oren",
    "Peyton",
)
FAMILY = (
    "Abbott",
    "Barros",
    "Castellano",
    "Dlamini",
    "Eriksen",
    "Fontaine",
    "Gallagher",
    "Haddad",
    "Iqbal",
    "Jovanovic",
    "Kowalski",
    "Lindqvist",
    "Mbeki",
    "Nakamura",
    "Okonkwo",
    "Petrov",
    "Quintero",
    "Rossi",
    "Sandoval",
    "Takahashi",
    "Uribe",
    "Varga",
    "Whitaker",
    "Xu",
    "Yilmaz",
    "Zielinski",
)
INDICATIONS = (
    ("Treatment-resistant depression", 0.7),
    ("Major depressive disorder with suicidal ideation", 0.12),
    ("Depression with comorbid anxiety", 0.18),
)
# (protocol, share, drug, route, mg per kg or fixed mg, infusion minutes). Only routes the pharmacology
# engine has a PK model for (no racemic IM model in its library, so no synthetic IM courses).
PROTOCOLS = (
    ("iv-racemic", 0.65, "ketamine", "iv", 0.5, 40.0),
    ("esketamine-trd", 0.35, "esketamine", "intranasal", 56.0, 0.0),
)


@dataclass(frozen=True, slots=True)
class Measurement:
    instrument_id: str
    at: dt.datetime
    total: int


@dataclass(frozen=True, slots=True)
class PatientPlan:
    index: int
    protocol_id: str
    drug: str
    route: str
    dose_mg: float
    duration_min: float
    weight_kg: float
    sessions: tuple[dt.datetime, ...]
    measure_times: tuple[tuple[str, dt.datetime], ...]
    indication: str
    start: dt.date


def _pick(rng: random.Random, options: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    r, acc = rng.random(), 0.0
    for o in options:
        acc += o[1]
        if r <= acc:
            return o
    return options[-1]


def plan_patient(index: int, rng: random.Random, today: dt.date, tz: dt.tzinfo) -> PatientPlan:
    """Dose dates and measurement times of one synthetic patient (pure, seeded by ``rng``)."""
    protocol, _, drug, route, amount, minutes = _pick(rng, PROTOCOLS)
    indication = str(_pick(rng, INDICATIONS)[0])
    weight = round(rng.uniform(55, 105), 1)
    start = today - dt.timedelta(days=rng.randint(10, HISTORY_DAYS))
    mg = round(amount * weight, 1) if route in ("iv", "im") else float(amount)
    try:
        plan = generate_schedule(protocol, start, weight_kg=weight if route in ("iv", "im") else None)
        dates = [s.date for s in plan.sessions]
    except ScheduleError:
        dates = [start + dt.timedelta(days=d) for d in (0, 3, 7, 10, 14, 17)]
    acute_n = 8 if protocol.startswith("esketamine") else 6
    acute = dates[:acute_n]
    later = [d for d in dates[acute_n:]]
    # racemic courses: maintenance is a clinic decision; some get boosters every 2-4 weeks, some none
    if protocol in ("iv-racemic", "im-racemic"):
        later = []
        if rng.random() < 0.55:
            gap = rng.choice((14, 21, 28))
            d = acute[-1] + dt.timedelta(days=gap)
            while d < today and len(later) < 12:
                d2 = d + dt.timedelta(days=(7 - d.weekday()) % 7 if d.weekday() > 4 else 0)
                later.append(d2)
                d = d2 + dt.timedelta(days=gap)
    elif rng.random() < 0.3:  # some esketamine courses stop after induction
        later = []
    days = [d for d in acute + later if d <= today]
    clock = dt.time(rng.choice((9, 10, 11, 13, 14)), rng.choice((0, 30)))
    sessions = tuple(dt.datetime.combine(d, clock, tzinfo=tz) for d in days)
    first = sessions[0] if sessions else dt.datetime.combine(start, clock, tzinfo=tz)
    base = first - dt.timedelta(days=rng.randint(1, 5), hours=1)
    m: list[tuple[str, dt.datetime]] = [("madrs", base), ("phq9", base + dt.timedelta(minutes=20))]
    if sessions:
        m.append(("phq9_24h", first + dt.timedelta(hours=24)))
        for k in (2, 4):
            if len(sessions) > k:
                m.append(("madrs", sessions[k] - dt.timedelta(minutes=50)))
        end = sessions[min(len(sessions), acute_n) - 1] + dt.timedelta(days=1, hours=1)
        m += [("madrs", end), ("phq9", end + dt.timedelta(minutes=15))]
        horizon = min(
            dt.datetime.combine(today, dt.time(17), tzinfo=tz), end + dt.timedelta(days=rng.randint(40, 200))
        )
        t, k = end + dt.timedelta(days=7), 0
        while t < horizon:
            m.append(("phq9", t))
            if k % 2 == 1:
                m.append(("madrs", t + dt.timedelta(minutes=30)))
            t += dt.timedelta(days=7, hours=rng.randint(-20, 20))
            k += 1
    now = dt.datetime.combine(today, dt.time(18), tzinfo=tz)
    return PatientPlan(
        index,
        protocol,
        drug,
        route,
        mg,
        minutes,
        weight,
        sessions,
        tuple(sorted((x for x in m if x[1] <= now), key=lambda x: x[1])),
        indication,
        start,
    )


def simulate(plan: PatientPlan, seed: int = SEED) -> list[Measurement]:
    """Scores of one synthetic patient from the population response model (its own random effects)."""
    if not plan.measure_times:
        return []
    origin = plan.sessions[0] if plan.sessions else plan.measure_times[0][1]
    days = [(s - origin).total_seconds() / 86400 for s in plan.sessions]
    events = adapters.relative_events(
        days, drug=plan.drug, route=plan.route, mg=plan.dose_mg, duration_min=plan.duration_min
    )
    ro = np.array([(t - origin).total_seconds() / 60.0 for _, t in plan.measure_times])
    _, madrs = adapters.virtual_cohort(events, ro, n=1, seed=seed, first=plan.index, weight_kg=plan.weight_kg)
    rng = np.random.default_rng([seed, plan.index, 11])
    out = []
    for (inst, at), v in zip(plan.measure_times, madrs[0], strict=True):
        if inst == "madrs":
            total = int(round(float(v)))
        else:
            total = int(round(PHQ9_PER_MADRS * float(v) + rng.normal(0, 1.2)))
        cap = get_instrument(inst).max_total or 60
        out.append(Measurement(inst, at, max(0, min(int(cap), total))))
    return out


def answers_for(instrument_id: str, total: int, rng: random.Random) -> dict[str, int]:
    """Item answers (non-safety items first) summing to ``total`` for a simple-sum instrument."""
    inst = get_instrument(instrument_id)
    items = [i for i in inst.items if i.scored]
    order = [i for i in items if not i.safety] + [i for i in items if i.safety]
    answers = {i.id: 0 for i in items}
    left = total
    caps = {i.id: max(o.points for o in i.options) for i in items}
    while left > 0:
        candidates = [
            i.id
            for i in order[: len(order) - sum(1 for i in items if i.safety)]
            if answers[i.id] < caps[i.id]
        ]
        if not candidates:
            candidates = [i.id for i in order if answers[i.id] < caps[i.id]]
        if not candidates:
            break
        k = rng.choice(candidates)
        answers[k] += 1
        left -= 1
    return answers


# --- the demo loader ----------------------------------------------------------------------------------


def load_measures_demo(ctx: dict[str, Any]) -> str:
    """EXTRA_LOADERS entry: synthetic courses, sessions and scores for the demo clinics (idempotent)."""
    from kairos.courses.models import Course

    clinics = ctx["clinics"]
    if Course.objects.filter(clinic__in=clinics.values(), plan__synthetic=TAG).exists():
        return "measures: synthetic measurements already loaded"
    made = 0
    responses = 0
    for key, prefix, count, offset in (("north", "N-3", N_NORTH, 0), ("south", "S-4", N_SOUTH, 500)):
        clinic = clinics.get(key)
        if clinic is None:
            continue
        users = ctx["users"]
        prescriber = users.get("demo-prescriber" if key == "north" else "demo2-prescriber")
        nurse = users.get("demo-nurse") if key == "north" else prescriber
        if prescriber is None or nurse is None:
            continue
        r, s = load_clinic(clinic, prefix, count, prescriber=prescriber, nurse=nurse, first_index=offset)
        made += s
        responses += r
    return f"measures: {made} synthetic courses with {responses} modelled questionnaire scores"


def load_clinic(
    clinic: Any,
    mrn_prefix: str,
    count: int,
    *,
    prescriber: Any,
    nurse: Any,
    first_index: int = 0,
    seed: int = SEED,
    today: dt.date | None = None,
) -> tuple[int, int]:
    """Create ``count`` synthetic patients with a course each in ``clinic``; returns (responses, courses).

    The random draws happen in a fixed order (patient, plan, tendencies, sessions, then answers), so the
    same seed gives the same demo data."""
    from django.db import transaction

    from kairos.patients.models import WeightMeasurement

    tz = zoneinfo.ZoneInfo(clinic.time_zone or "UTC")
    today = today or dt.datetime.now(tz).date()
    rng = random.Random(f"{seed}:{clinic.slug}")
    n_resp = 0
    course_ids: list[int] = []
    with transaction.atomic():
        for k in range(count):
            index = first_index + k
            prng = random.Random(f"{seed}:{index}")
            patient = _synthetic_patient(clinic, f"{mrn_prefix}{k + 1:03d}", index, prng)
            plan = plan_patient(index, prng, today, tz)
            measures = simulate(plan, seed)
            course = _synthetic_course(clinic, patient, plan, today, prescriber)
            WeightMeasurement.objects.create(
                patient=patient,
                weight_kg=Decimal(f"{plan.weight_kg:.1f}"),
                measured_at=(plan.sessions[0] if plan.sessions else dt.datetime.now(tz))
                - dt.timedelta(hours=1),
                recorded_by=nurse,
            )
            tend = Tendencies.draw(prng)
            _synthetic_sessions(clinic, patient, course, plan, prng, tend, prescriber=prescriber, nurse=nurse)
            n_resp += _synthetic_scores(clinic, patient, course, measures, rng, prescriber)
            course_ids.append(course.pk)
        # rows written directly: backfill the outcomes dashboard's read model for these courses
        from kairos.measures import outcome_store

        outcome_store.rebuild(course_ids)
    return n_resp, count


def _synthetic_patient(clinic: Any, mrn: str, index: int, prng: random.Random) -> Any:
    from kairos.patients.models import Patient

    given, family = GIVEN[index % len(GIVEN)], FAMILY[(index * 7 + 3) % len(FAMILY)]
    patient, _ = Patient.objects.get_or_create(
        clinic=clinic,
        mrn=mrn,
        defaults={
            "given_name": given,
            "family_name": family,
            "date_of_birth": dt.date(1950 + prng.randint(0, 52), prng.randint(1, 12), prng.randint(1, 28)),
            "sex": prng.choice(("female", "female", "male", "male", "other")),
            "email": f"{given.lower()}.{family.lower()}@example.invalid",
        },
    )
    return patient


def _synthetic_course(clinic: Any, patient: Any, plan: PatientPlan, today: dt.date, prescriber: Any) -> Any:
    from kairos.courses.models import Course, CourseStatus

    last = plan.sessions[-1].date() if plan.sessions else plan.start
    status = CourseStatus.MAINTENANCE if len(plan.sessions) > 8 else CourseStatus.ACTIVE
    if (today - last).days > 45:
        status = CourseStatus.COMPLETED
    return Course.objects.create(
        clinic=clinic,
        patient=patient,
        protocol_id=plan.protocol_id,
        indication=plan.indication,
        status=status,
        start_date=plan.sessions[0].date() if plan.sessions else plan.start,
        plan={"synthetic": TAG, "note": "synthetic demo course (kairos.measures.synthetic)"},
        created_by=prescriber,
    )


def _synthetic_sessions(
    clinic: Any,
    patient: Any,
    course: Any,
    plan: PatientPlan,
    prng: random.Random,
    tend: Tendencies,
    *,
    prescriber: Any,
    nurse: Any,
) -> None:
    """A discharged dosing session with its order, flowsheet and (sometimes) an adverse event per date."""
    from kairos.dosing.models import (
        AdverseEvent,
        DoseOrder,
        DosingSession,
        EventOutcome,
        EventType,
        Reading,
        SessionStatus,
        Severity,
    )

    readings: list[Any] = []
    events: list[Any] = []
    for at in plan.sessions:
        end = at + dt.timedelta(minutes=plan.duration_min or 10)
        ses = DosingSession.objects.create(
            clinic=clinic,
            patient=patient,
            course=course,
            protocol_id=plan.protocol_id,
            drug=plan.drug,
            route=plan.route,
            status=SessionStatus.DISCHARGED,
            scheduled_for=at - dt.timedelta(minutes=30),
            responsible_clinician=prescriber,
            prescriber_on_site=prescriber,
            pulse_oximeter_on_site=True,
            checked_in_at=at - dt.timedelta(minutes=30),
            prechecks_done_at=at - dt.timedelta(minutes=10),
            dosing_started_at=at,
            dosing_ended_at=end,
            ready_at=at + dt.timedelta(minutes=125),
            discharged_at=at + dt.timedelta(minutes=130),
            created_by=nurse,
        )
        DoseOrder.objects.create(
            session=ses,
            dose_mg=Decimal(f"{plan.dose_mg:.2f}"),
            dose_mg_hcl=Decimal(f"{plan.dose_mg * 1.153:.2f}"),
            weight_kg=Decimal(f"{plan.weight_kg:.1f}") if plan.route in ("iv", "im") else None,
            infusion_min=Decimal(f"{plan.duration_min:.1f}") if plan.route == "iv" else None,
            calculation={"synthetic": TAG},
            ordered_by=prescriber,
            ordered_at=at - dt.timedelta(minutes=20),
            verified_by=nurse if plan.route in ("iv", "im") else None,
        )
        readings += _flowsheet(ses, at, prng, nurse, tend)
        if prng.random() < 0.06:
            events.append(
                AdverseEvent(
                    session=ses,
                    event_type=prng.choice(
                        (EventType.NAUSEA_VOMITING, EventType.DIZZINESS, EventType.ANXIETY)
                    ),
                    description="synthetic demo event",
                    onset_at=at + dt.timedelta(minutes=35),
                    severity=Severity.MILD,
                    outcome=EventOutcome.RESOLVED,
                    recorded_by=nurse,
                    recorded_at=at + dt.timedelta(minutes=40),
                )
            )
    Reading.objects.bulk_create(readings)
    AdverseEvent.objects.bulk_create(events)


def _synthetic_scores(
    clinic: Any,
    patient: Any,
    course: Any,
    measures: Sequence[Measurement],
    rng: random.Random,
    prescriber: Any,
) -> int:
    """The modelled questionnaire scores of one course (MADRS clinician-entered, the rest by link)."""
    from kairos.measures.models import QuestionnaireResponse, ResponseSource, Score

    for m in measures:
        inst = get_instrument(m.instrument_id)
        answers = answers_for(m.instrument_id, m.total, rng)
        result = score_instrument(m.instrument_id, answers)
        clinician = m.instrument_id == "madrs"
        resp = QuestionnaireResponse.objects.create(
            clinic=clinic,
            patient=patient,
            course=course,
            instrument_id=inst.id,
            instrument_version=inst.version,
            answers={k2: v for k2, v in answers.items()},
            submitted_at=m.at,
            source=ResponseSource.CLINICIAN if clinician else ResponseSource.LINK,
            entered_by=prescriber if clinician else None,
            created_at=m.at,
        )
        Score.objects.create(
            response=resp,
            instrument_id=inst.id,
            total=result.total,
            raw_total=result.raw_total,
            severity=result.severity or "",
            flags=[f.to_dict() for f in result.flags],
            scorer_version=result.scorer_version,
            recall=result.to_dict()["recall"],
            prorated=result.prorated,
            alerts=[],
            detail=result.to_dict(),
            created_at=m.at,
        )
    return len(measures)


@dataclass(frozen=True, slots=True)
class Tendencies:
    """Per-patient session tendencies (orders of magnitude from clinical.md §1.5: BP rise ≥40/25 in 8–19 %
    of patients, sedation in 48–61 %, dissociation in 61–75 %)."""

    bp: bool
    sedation: bool
    dissociation: bool

    @classmethod
    def draw(cls, rng: random.Random) -> Tendencies:
        return cls(rng.random() < 0.14, rng.random() < 0.5, rng.random() < 0.65)


def _flowsheet(ses: Any, at: dt.datetime, rng: random.Random, nurse: Any, tend: Tendencies) -> list[Any]:
    from kairos.dosing.models import Phase, Reading, ReadingKind

    sbp0, dbp0 = int(rng.gauss(124, 10)), int(rng.gauss(78, 7))
    hr0 = int(rng.gauss(74, 8))
    big = tend.bp and rng.random() < 0.3
    rise_s = int(rng.uniform(40, 55)) if big else max(0, int(rng.gauss(12, 8)))
    rise_d = int(rng.uniform(18, 30)) if big else max(0, int(rng.gauss(7, 5)))
    moaas = 3 if tend.sedation and rng.random() < 0.35 else (5 if rng.random() < 0.6 else 4)
    cadss = max(1, int(rng.gauss(5, 3))) if tend.dissociation and rng.random() < 0.6 else 0

    def r(minutes: int, phase: str, **kw: Any) -> Any:
        return Reading(
            session=ses,
            kind=kw.pop("kind", ReadingKind.VITALS),
            phase=phase,
            taken_at=at + dt.timedelta(minutes=minutes),
            recorded_by=nurse,
            outcome="ok",
            **kw,
        )

    return [
        r(-15, Phase.PRE_DOSE, sbp=sbp0, dbp=dbp0, heart_rate=hr0, spo2=98, resp_rate=14),
        r(-14, Phase.PRE_DOSE, kind=ReadingKind.CADSS6, cadss6_total=0),
        r(40, Phase.POST, sbp=sbp0 + rise_s, dbp=dbp0 + rise_d, heart_rate=hr0 + 8, spo2=97, resp_rate=15),
        r(41, Phase.POST, kind=ReadingKind.MOAAS, moaas=moaas),
        r(42, Phase.POST, kind=ReadingKind.CADSS6, cadss6_total=cadss),
        r(
            90,
            Phase.POST,
            sbp=sbp0 + rise_s // 2,
            dbp=dbp0 + rise_d // 2,
            heart_rate=hr0 + 3,
            spo2=98,
            resp_rate=14,
        ),
        r(91, Phase.POST, kind=ReadingKind.MOAAS, moaas=5),
        r(120, Phase.POST, sbp=sbp0 + 3, dbp=dbp0 + 2, heart_rate=hr0, spo2=98, resp_rate=14),
    ]
