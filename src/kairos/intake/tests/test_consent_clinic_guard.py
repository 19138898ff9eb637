"""A consent document of another clinic is refused for that reason (issue #17 §1).

The patient's own clinic has a current consent document, so the only thing wrong with the other clinic's
document is its clinic: each guard (the view's clinic-scoped lookup and the service's own check) is
tested on its own, with the exact reason, and the same name typed on the own clinic's document is accepted.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kairos.audit.models import Action, AuditEvent
from kairos.intake import services
from kairos.intake.models import ConsentAcceptance, ConsentDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs(org: Any) -> tuple[ConsentDocument, ConsentDocument]:
    """(own, other): the current document of the patient's clinic (north) and one of clinic far."""
    own = services.publish_consent_document(
        org.admin, org.north, title="Consent", body="I consent to ketamine treatment at North."
    )
    other = ConsentDocument.objects.create(
        clinic=org.far,
        version=1,
        title="Consent",
        body="I consent to ketamine treatment at Far.",
        created_by=org.far_prescriber,
    )
    assert own.version == other.version == 1  # same version number: only the clinic differs
    return own, other


def test_service_refuses_another_clinics_document_naming_the_reason(org, patient, docs):
    _, other = docs
    signs = AuditEvent.objects.filter(action=Action.SIGN).count()
    with pytest.raises(ValidationError) as exc:
        services.accept_consent(org.nurse, patient, other, typed_name="Pat Ient")
    assert exc.value.message_dict == {"document": ["document belongs to another clinic"]}
    assert not ConsentAcceptance.objects.exists()
    assert AuditEvent.objects.filter(action=Action.SIGN).count() == signs


def test_view_refuses_another_clinics_document_naming_the_reason(org, patient, docs, client_for):
    _, other = docs
    r = client_for(org.nurse).post(
        f"/intake/patient/{patient.pk}/consent/", {"document": str(other.pk), "typed_name": "Pat Ient"}
    )
    assert r.status_code == 400
    # the reason is on the form's (hidden) document field; intake/_form.html does not show hidden-field
    # errors yet (reported in #17), so the reason is read from the form the view rendered
    assert r.context["form"].errors["document"] == ["document: not a consent document of this clinic"]
    assert not ConsentAcceptance.objects.exists()


def test_own_clinics_current_document_is_accepted(org, patient, docs, client_for):
    own, _ = docs
    r = client_for(org.nurse).post(
        f"/intake/patient/{patient.pk}/consent/", {"document": str(own.pk), "typed_name": "Pat Ient"}
    )
    assert r.status_code == 302
    acc = ConsentAcceptance.objects.get()
    assert (acc.patient_id, acc.document_id) == (patient.pk, own.pk)
