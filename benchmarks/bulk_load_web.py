"""Bulk loader for the web benchmark: a clinic, staff, N patients and a chart patient with two years of
history. Bypasses the services on purpose (bulk_create, no audit rows): benchmark data, never clinical.

Usage: DJANGO_SETTINGS_MODULE=kairos.config.settings python benchmarks/bulk_load_web.py [--patients N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kairos.config.settings")

import bench_history  # noqa: E402  (benchmarks/ is on sys.path above)

BENCH_PASSWORD = "bench-password-1"  # noqa: S105 - benchmark database only


def load(patients: int = 2000, history_days: int = 730, seed: int = 7) -> dict[str, int]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from kairos.accounts.models import Clinic, Membership, Organisation
    from kairos.patients.models import Patient, WeightMeasurement

    rng = random.Random(seed)
    with transaction.atomic():
        org, _ = Organisation.objects.get_or_create(name="Bench Health")
        clinic, _ = Clinic.objects.get_or_create(
            slug="bench", defaults={"organisation": org, "name": "Bench Clinic"}
        )
        User = get_user_model()
        users = []
        for i in range(32):
            u, created = User.objects.get_or_create(username=f"bench-{i}")
            if created:
                u.set_password(BENCH_PASSWORD)
                u.save()
            Membership.objects.get_or_create(user=u, clinic=clinic, defaults={"role": "prescriber"})
            users.append(u)
        have = Patient.objects.filter(clinic=clinic).count()
        Patient.objects.bulk_create(
            [
                Patient(
                    clinic=clinic,
                    mrn=f"B-{i:07d}",
                    given_name=f"Given{i}",
                    family_name=f"Family{i}",
                    date_of_birth=dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                )
                for i in range(have, patients)
            ],
            batch_size=2000,
        )
        chart = Patient.objects.get(clinic=clinic, mrn="B-0000000")
        if not chart.weights.exists():
            now = timezone.now()
            WeightMeasurement.objects.bulk_create(
                [
                    WeightMeasurement(
                        patient=chart,
                        weight_kg=Decimal(f"{70 + rng.uniform(-3, 3):.1f}"),
                        measured_at=now - dt.timedelta(days=d),
                        recorded_by=users[0],
                    )
                    for d in range(history_days)
                ],
                batch_size=2000,
            )
        # courses, sessions with flowsheets and weekly scores for the chart patient
        bench_history.load(chart, users, history_days, rng)
    from kairos.dosing.models import Reading

    history = (
        chart.weights.count()
        + chart.courses.count()
        + chart.dosing_sessions.count()
        + chart.questionnaire_responses.count()
        + Reading.objects.filter(session__patient=chart).count()
    )
    return {"patients": patients, "chart_patient": chart.pk, "history_rows": history}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=2000)
    print(load(parser.parse_args().patients))
