"""Registry writes: validation names the field, nothing partial is saved, every change is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kairos.audit.models import Action, AuditEvent
from kairos.patients import selectors, services
from kairos.patients.models import Patient, WeightMeasurement

pytestmark = pytest.mark.django_db

VALID = {
    "mrn": "N-77",
    "given_name": "Ana",
    "family_name": "Lima",
    "date_of_birth": dt.date(1990, 4, 5),
    "sex": "female",
}


def test_create_is_audited_with_the_new_values(org):
    patient = services.create_patient(org.nurse, org.north.pk, VALID)
    event = AuditEvent.objects.get(action=Action.CREATE, object_id=str(patient.pk))
    assert event.new["mrn"] == "N-77" and event.actor_username == "nurse" and event.clinic_id == org.north.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mrn": "bad mrn!"}, "mrn"),
        ({"date_of_birth": dt.date.today() + dt.timedelta(days=1)}, "date_of_birth"),
        ({"date_of_birth": dt.date(1850, 1, 1)}, "date_of_birth"),
        ({"given_name": ""}, "given_name"),
        ({"sex": "robot"}, "sex"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(org, changes, field):
    before = (Patient.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as err:
        services.create_patient(org.nurse, org.north.pk, {**VALID, **changes})
    assert field in err.value.message_dict
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before


def test_duplicate_mrn_in_one_clinic_is_refused_but_allowed_in_another(org):
    services.create_patient(org.nurse, org.north.pk, VALID)
    with pytest.raises(ValidationError, match="already used"):
        services.create_patient(org.nurse, org.north.pk, VALID)
    services.create_patient(org.south_prescriber, org.south.pk, VALID)
    assert Patient.objects.filter(mrn="N-77").count() == 2


def test_update_audits_only_changed_fields(org, patient):
    services.update_patient(org.nurse, patient, {"phone": "555-0100", "given_name": patient.given_name})
    event = AuditEvent.objects.get(action=Action.UPDATE, object_id=str(patient.pk))
    assert event.old == {"phone": ""} and event.new == {"phone": "555-0100"}


@pytest.mark.parametrize("kg", ["0", "-5", "19.9", "350.1", "NaN", "Infinity", "heavy"])
def test_implausible_weight_is_refused(org, patient, kg):
    with pytest.raises(ValidationError) as err:
        services.record_weight(org.nurse, patient, kg)
    assert "weight_kg" in err.value.message_dict
    assert not WeightMeasurement.objects.exists()


def test_write_permissions_follow_the_policy(org, patient, south_patient):
    with pytest.raises(PermissionDenied):
        services.record_weight(org.frontdesk, patient, "70")  # same clinic, role lacks it
    with pytest.raises(Http404):
        services.record_weight(org.nurse, south_patient, "70")  # other clinic: not found
    with pytest.raises(PermissionDenied):
        services.create_patient(org.auditor, org.north.pk, VALID)  # auditors never write


def test_chart_read_is_audited_exactly_once(org, patient, client_for):
    response = client_for(org.prescriber).get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    reads = AuditEvent.objects.filter(action=Action.READ, patient=patient)
    assert reads.count() == 1
    assert reads.get().request_id == response["X-Request-ID"]


def test_selector_scopes_by_clinic(org, patient, south_patient):
    assert list(selectors.visible_patients(org.prescriber)) == [patient]
    with pytest.raises(Http404):
        selectors.get_patient(org.prescriber, south_patient.pk)
    with pytest.raises(Http404):
        selectors.get_patient(org.far_prescriber, patient.pk)
    with pytest.raises(PermissionDenied):
        selectors.get_patient(org.frontdesk, patient.pk)  # member of the clinic, but no chart permission
    with pytest.raises(Http404):
        selectors.get_patient(org.prescriber, "not-a-number")
