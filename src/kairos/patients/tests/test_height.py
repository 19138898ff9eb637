"""Issue #12 §4: height on the patient record, range-checked with the dosing rules' height.min_cm/max_cm."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from kairos.audit.models import AuditEvent
from kairos.patients.models import HeightMeasurement
from kairos.patients.services import record_height

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("cm", "ok"), [("119.9", False), ("120", True), ("230", True), ("230.1", False)])
def test_record_height_range(org, patient, cm, ok):
    if ok:
        h = record_height(org.nurse, patient, cm)
        assert str(h.height_cm) == f"{float(cm):.1f}"
        assert AuditEvent.objects.filter(summary="height recorded", patient_id=patient.pk).exists()
    else:
        with pytest.raises(ValidationError, match=r"height_cm: .* allowed range \[120\.0, 230\.0\] cm"):
            record_height(org.nurse, patient, cm)


def test_front_desk_cannot_record_height(org, patient):
    with pytest.raises(PermissionDenied):
        record_height(org.frontdesk, patient, "170")


@pytest.mark.parametrize("raw", ["abc", "nan", "inf", "999", "50"])
def test_height_form_bad_input_is_400_naming_the_field(org, patient, raw):
    c = Client()
    c.force_login(org.nurse)
    r = c.post(reverse("patients:height_add", args=[patient.pk]), {"height_cm": raw})
    assert r.status_code == 400
    assert "height_cm" in r.content.decode()
    assert HeightMeasurement.objects.count() == 0


def test_height_form_records_and_the_chart_shows_it(org, patient):
    c = Client()
    c.force_login(org.nurse)
    r = c.post(reverse("patients:height_add", args=[patient.pk]), {"height_cm": "168.4"})
    assert r.status_code == 302
    assert [str(h.height_cm) for h in patient.heights.all()] == ["168.4"]
    assert "168.4" in c.get(reverse("patients:chart", args=[patient.pk])).content.decode()
