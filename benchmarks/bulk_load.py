"""Bulk loader for the outcomes-dashboard benchmark: N patients, one course each, six dosing sessions with a
small flowsheet, and M questionnaire responses with scores. Bypasses the services on purpose (bulk_create,
no audit rows): benchmark data, never clinical. Scores come from the pharmacology engine's population
response model (``kairos.measures.adapters.virtual_cohort``, vectorised per regimen), so response,
remission and relapse rates are realistic.

Usage: DATABASE_URL=postgres://… python benchmarks/bulk_load.py --patients 10000 --responses 500000
Idempotent per clinic slug: patients/responses already present are kept and topped up to the targets.
The rows bypass the services, so the outcomes dashboard's read model (course outcome summaries, session
safety findings) is backfilled for the new courses at the end (``kairos.measures.outcome_store.rebuild``;
for data loaded before it existed run ``manage.py measures_rebuild_outcomes``).
See docs/PERFORMANCE.md (## Measurement-based care).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kairos.config.settings")

SLUG = "bench-outcomes"
DOSE_DAYS = (0, 3, 7, 10, 14, 17)
REGIMENS = (  # protocol, drug, route, mg, infusion minutes
    ("iv-racemic", "ketamine", "iv", 35.0, 40.0),
    ("esketamine-trd", "esketamine", "intranasal", 56.0, 0.0),
)


def _readout_days(k: int) -> list[float]:
    """k measurement days relative to dose 1: baseline, 24 h, then roughly twice a week, then weekly."""
    days = [-2.0, 1.0, 4.0, 8.0, 11.0, 15.0, 18.0]
    d = 25.0
    while len(days) < k:
        days.append(d)
        d += 7.0 if d < 120 else 14.0
    return days[:k]


def load(patients: int, responses: int, seed: int = 11, log: bool = True) -> dict[str, float]:
    import django

    django.setup()
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from kairos.accounts.models import Clinic, Membership, Organisation
    from kairos.courses.models import Course
    from kairos.dosing.models import DoseOrder, DosingSession, Reading
    from kairos.measures import adapters
    from kairos.measures.models import QuestionnaireResponse, Score
    from kairos.patients.models import Patient

    t_start = time.perf_counter()
    rng = np.random.default_rng(seed)
    org, _ = Organisation.objects.get_or_create(name="Bench Outcomes Health")
    clinic, _ = Clinic.objects.get_or_create(
        slug=SLUG, defaults={"organisation": org, "name": "Bench Outcomes Clinic", "time_zone": "UTC"}
    )
    User = get_user_model()
    prescriber, _ = User.objects.get_or_create(username="bench-outcomes-prescriber")
    nurse, _ = User.objects.get_or_create(username="bench-outcomes-nurse")
    Membership.objects.get_or_create(user=prescriber, clinic=clinic, defaults={"role": "prescriber"})
    Membership.objects.get_or_create(user=nurse, clinic=clinic, defaults={"role": "nurse"})
    have = Patient.objects.filter(clinic=clinic).count()
    if have >= patients:
        if log:
            print(f"bulk_load: {have} patients already present; nothing to add")
        return {"patients": float(have), "seconds": time.perf_counter() - t_start}
    per_patient = max(1, responses // patients)
    days = _readout_days(per_patient)
    today = dt.date.today()
    new = list(range(have, patients))
    with transaction.atomic():
        pts = Patient.objects.bulk_create(
            [
                Patient(
                    clinic=clinic,
                    mrn=f"BO-{i:07d}",
                    given_name=f"G{i}",
                    family_name=f"F{i}",
                    date_of_birth=dt.date(1940 + i % 60, 1 + i % 12, 1 + i % 28),
                    sex=("female", "male", "other")[i % 3],
                )
                for i in new
            ],
            batch_size=5000,
        )
        starts = {p.pk: today - dt.timedelta(days=int(rng.integers(0, 360))) for p in pts}
        courses = Course.objects.bulk_create(
            [
                Course(
                    clinic=clinic,
                    patient=p,
                    protocol_id=REGIMENS[i % 2][0],
                    indication="Treatment-resistant depression",
                    status="active",
                    start_date=starts[p.pk],
                    created_by=prescriber,
                )
                for i, p in zip(new, pts, strict=True)
            ],
            batch_size=5000,
        )
        t_rows = time.perf_counter()
        sessions = []
        for i, c in zip(new, courses, strict=True):
            _, drug, route, _, _ = REGIMENS[i % 2]
            for d in DOSE_DAYS:
                at = dt.datetime.combine(c.start_date + dt.timedelta(days=d), dt.time(14), tzinfo=dt.UTC)
                sessions.append(
                    DosingSession(
                        clinic=clinic,
                        patient_id=c.patient_id,
                        course=c,
                        protocol_id=c.protocol_id,
                        drug=drug,
                        route=route,
                        status="discharged",
                        scheduled_for=at,
                        dosing_started_at=at,
                        responsible_clinician=prescriber,
                        created_by=nurse,
                    )
                )
        sessions = DosingSession.objects.bulk_create(sessions, batch_size=5000)
        DoseOrder.objects.bulk_create(
            [
                DoseOrder(
                    session=s,
                    dose_mg=Decimal("35.00"),
                    dose_mg_hcl=Decimal("40.36"),
                    calculation={},
                    ordered_by=prescriber,
                )
                for s in sessions
            ],
            batch_size=5000,
        )
        readings = []
        sbp0 = rng.normal(124, 10, len(sessions)).astype(int)
        rise = np.where(
            rng.random(len(sessions)) < 0.08, 45, rng.normal(12, 8, len(sessions)).clip(0)
        ).astype(int)
        for s, b, r in zip(sessions, sbp0, rise, strict=True):
            at = s.dosing_started_at
            readings += [
                Reading(
                    session=s,
                    kind="vitals",
                    phase="pre_dose",
                    taken_at=at - dt.timedelta(minutes=10),
                    sbp=int(b),
                    dbp=78,
                    recorded_by=nurse,
                ),
                Reading(
                    session=s,
                    kind="vitals",
                    phase="post",
                    taken_at=at + dt.timedelta(minutes=40),
                    sbp=int(b + r),
                    dbp=84,
                    recorded_by=nurse,
                ),
                Reading(
                    session=s,
                    kind="moaas",
                    phase="post",
                    taken_at=at + dt.timedelta(minutes=41),
                    moaas=int(rng.choice((3, 4, 5, 5, 5))),
                    recorded_by=nurse,
                ),
            ]
        Reading.objects.bulk_create(readings, batch_size=10000)
        # scores from the population response model, vectorised per regimen
        ro = np.array(days) * 1440.0
        n_resp = 0
        for reg_index, (_protocol, drug, route, mg, minutes) in enumerate(REGIMENS):
            members = [(i, c) for i, c in zip(new, courses, strict=True) if i % 2 == reg_index]
            if not members:
                continue
            events = adapters.relative_events(DOSE_DAYS, drug=drug, route=route, mg=mg, duration_min=minutes)
            _, madrs = adapters.virtual_cohort(events, ro, n=len(members), seed=seed, first=members[0][0])
            batch_r: list[QuestionnaireResponse] = []
            batch_t: list[int] = []
            for row, (_i, c) in enumerate(members):
                for j, d in enumerate(days):
                    inst = "madrs" if j % 2 == 0 else "phq9"
                    v = float(madrs[row, j])
                    total = int(round(v)) if inst == "madrs" else int(min(27, max(0, round(0.55 * v))))
                    at = dt.datetime.combine(c.start_date, dt.time(13), tzinfo=dt.UTC) + dt.timedelta(days=d)
                    batch_r.append(
                        QuestionnaireResponse(
                            clinic=clinic,
                            patient_id=c.patient_id,
                            course=c,
                            instrument_id=inst,
                            instrument_version="1",
                            answers={},
                            submitted_at=at,
                            source="clinician",
                        )
                    )
                    batch_t.append(total)
                if len(batch_r) >= 20000:
                    n_resp += _flush(batch_r, batch_t, QuestionnaireResponse, Score)
                    batch_r, batch_t = [], []
            n_resp += _flush(batch_r, batch_t, QuestionnaireResponse, Score)
    # the rows above bypass the services that keep the dashboard's read model current: backfill it
    from kairos.measures import outcome_store

    t_backfill = time.perf_counter()
    outcome_store.rebuild([c.pk for c in courses])
    backfill_s = time.perf_counter() - t_backfill
    out = {
        "backfill_seconds": backfill_s,
        "patients": float(patients),
        "responses": float(n_resp),
        "sessions": float(len(sessions)),
        "readings": float(len(readings)),
        "seconds": time.perf_counter() - t_start,
        "row_seconds": time.perf_counter() - t_rows,
    }
    if log:
        print(
            f"bulk_load: {len(new)} patients, {len(sessions)} sessions, {len(readings)} readings, {n_resp} responses in {out['seconds']:.1f} s"
        )
    return out


def _flush(batch_r: list, batch_t: list[int], QR: type, Score: type) -> int:  # type: ignore[type-arg]
    if not batch_r:
        return 0
    made = QR.objects.bulk_create(batch_r, batch_size=5000)  # type: ignore[attr-defined]
    Score.objects.bulk_create(  # type: ignore[attr-defined]
        [
            Score(response=r, instrument_id=r.instrument_id, total=t, raw_total=t, scorer_version="bench")
            for r, t in zip(made, batch_t, strict=True)
        ],
        batch_size=5000,
    )
    return len(made)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--responses", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    if not (1 <= a.patients <= 1_000_000 and a.patients <= a.responses <= 50_000_000):
        ap.error("--patients must be in [1, 1000000] and --responses in [patients, 50000000]")
    load(a.patients, a.responses, a.seed)
