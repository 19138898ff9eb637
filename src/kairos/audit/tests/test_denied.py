"""Refused attempts on clinic-owned objects are recorded as DENIED events, bounded per minute."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from kairos.audit.models import GLOBAL_CHAIN, Action, AuditEvent

pytestmark = pytest.mark.django_db


def _denied(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.DENIED, **filters).order_by("id"))


def _chart(patient_id: int) -> str:
    return reverse("patients:chart", kwargs={"patient_id": patient_id})


def test_foreign_probe_is_recorded_in_the_patients_clinic_chain(org, patient, client_for):
    r = client_for(org.south_prescriber).get(_chart(patient.pk))
    assert r.status_code == 404
    [row] = _denied()
    assert row.actor_id == org.south_prescriber.pk
    assert row.chain == f"clinic-{org.north.pk}"  # north's auditors see the probe
    assert (row.object_type, row.object_id, row.patient_id, row.reason) == (
        "patients.patient",
        str(patient.pk),
        patient.pk,
        "404",
    )
    assert row.new["route"] == "GET patients:chart"
    assert row.new["status"] == 404 and row.new["kwargs"] == {"patient_id": str(patient.pk)}


def test_member_without_permission_is_recorded_as_403(org, patient, client_for):
    r = client_for(org.frontdesk).get(_chart(patient.pk))
    assert r.status_code == 403
    [row] = _denied()
    assert (row.actor_id, row.reason, row.clinic_id) == (org.frontdesk.pk, "403", org.north.pk)


def test_unknown_id_goes_to_the_global_chain(org, client_for):
    r = client_for(org.prescriber).get(_chart(987654))
    assert r.status_code == 404
    [row] = _denied()
    assert (row.chain, row.object_id, row.patient_id) == (GLOBAL_CHAIN, "987654", None)


def test_api_refusal_is_recorded(org, patient, api_client_for):
    r = api_client_for(org.far_prescriber).get(f"/api/v1/patients/{patient.pk}")
    assert r.status_code == 404
    [row] = _denied()
    assert row.actor_id == org.far_prescriber.pk and row.chain == f"clinic-{org.north.pk}"
    assert row.object_type == "patients.patient" and row.object_id == str(patient.pk)


def test_refusal_inside_a_rolled_back_view_is_still_recorded(org, patient, client_for):
    """A POST refused by the service (inside its transaction) leaves the DENIED row."""
    url = reverse("patients:weight_add", kwargs={"patient_id": patient.pk})
    r = client_for(org.therapist).post(url, {"weight_kg": "70"})
    assert r.status_code == 403
    [row] = _denied()
    assert row.new["route"] == "POST patients:weight_add"


def test_anonymous_and_allowed_requests_write_no_denied_row(org, patient, client, client_for):
    assert client.get(_chart(patient.pk)).status_code == 302
    assert client_for(org.prescriber).get(_chart(patient.pk)).status_code == 200
    assert _denied() == []


def test_repeats_of_one_object_are_aggregated_per_minute(org, patient, client_for):
    c = client_for(org.south_prescriber)
    for _ in range(12):
        assert c.get(_chart(patient.pk)).status_code == 404
    assert len(_denied()) == 1
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=True):
        c = client_for(org.south_prescriber)
        assert c.get(_chart(patient.pk)).status_code == 404
    rows = _denied()
    assert len(rows) == 2
    assert rows[1].new["suppressed"] == 11  # the 11 repeats of the first minute, reported in the next row


def test_an_id_walk_is_capped_per_user_per_minute(org, client_for, settings):
    settings.KAIROS_AUDIT_DENIED_PER_MINUTE = 5
    c = client_for(org.nurse)
    for pk in range(900_000, 900_030):
        assert c.get(_chart(pk)).status_code == 404
    assert len(_denied(actor=org.nurse)) == 5
    # another user is not affected by the nurse's cap
    assert client_for(org.therapist).get(_chart(900_000)).status_code == 404
    assert len(_denied(actor=org.therapist)) == 1
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=True):
        assert client_for(org.nurse).get(_chart(900_100)).status_code == 404
    rows = _denied(actor=org.nurse)
    assert len(rows) == 6 and rows[-1].new["suppressed"] == 25
