"""The REMS Patient Monitoring Form prints to a real, paginated PDF (WeasyPrint), in the official form's
section order, as an audited, clinic-scoped export (issue #11 §3)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from kairos.audit.models import AuditEvent

from .test_pages_api import done_session  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

# clinical.md §1.4: the Patient Monitoring Form's sections, in order.
SECTION_ORDER = [
    "Patient information",
    "Healthcare provider",
    "Healthcare setting",
    "Treatment session",
    "Monitoring duration (min)",
    "Blood pressure (mmHg)",
    "Signature and submission",
]


def _text(data: bytes) -> tuple[int, str]:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def test_rems_pdf_is_a_real_pdf_with_sections_in_order(done_session, org, client_for):  # noqa: F811
    s = done_session
    resp = client_for(org.prescriber).get(reverse("dosing:rems_form_pdf", args=[s.pk]))
    assert resp.status_code == 200
    assert resp["Content-Type"] == "application/pdf"
    data = resp.content
    assert data.startswith(b"%PDF-")
    pages, text = _text(data)
    assert pages >= 1
    assert s.patient.display_name in text
    positions = [text.find(title) for title in SECTION_ORDER]
    assert all(p >= 0 for p in positions), dict(zip(SECTION_ORDER, positions, strict=True))
    assert positions == sorted(positions)
    assert (
        AuditEvent.objects.filter(
            action="export", patient=s.patient, summary="REMS monitoring form printed to PDF"
        ).count()
        == 1
    )


@pytest.mark.parametrize(("who", "status"), [("far_prescriber", 404), ("south_prescriber", 404)])
def test_rems_pdf_other_clinic_is_404(done_session, org, client_for, who, status):  # noqa: F811
    resp = client_for(getattr(org, who)).get(reverse("dosing:rems_form_pdf", args=[done_session.pk]))
    assert resp.status_code == status
    assert not AuditEvent.objects.filter(
        action="export", summary="REMS monitoring form printed to PDF"
    ).exists()


def test_rems_pages_link_the_pdf(done_session, org, client_for):  # noqa: F811
    url = reverse("dosing:rems_form_pdf", args=[done_session.pk])
    c = client_for(org.prescriber)
    assert url in c.get(reverse("dosing:rems_form", args=[done_session.pk])).content.decode()
    assert url in c.get(reverse("dosing:rems_list")).content.decode()


def test_submission_records_method_and_refuses_unknown(done_session, org):  # noqa: F811
    from django.core.exceptions import ValidationError

    from kairos.dosing import services
    from kairos.dosing.models import RemsForm

    s = done_session
    services.sign_rems_form(org.prescriber, s)
    with pytest.raises(ValidationError) as exc:
        services.submit_rems_form(org.nurse, s, confirmation="REMS-1", method="email")
    assert "method" in exc.value.message_dict
    services.submit_rems_form(org.nurse, s, confirmation="REMS-123", method="fax")
    assert RemsForm.objects.get(session=s).submission_method == "fax"
    assert AuditEvent.objects.filter(action="export", summary="REMS monitoring form submitted").count() == 1


def test_discharge_summary_pdf(done_session, org, client_for):  # noqa: F811
    s = done_session
    resp = client_for(org.nurse).get(reverse("dosing:discharge_pdf", args=[s.pk]))
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF-")
    pages, text = _text(resp.content)
    assert pages >= 1
    assert s.patient.display_name in text and "Discharge summary" in text and "Well." in text
    assert AuditEvent.objects.filter(action="export", summary="discharge summary printed to PDF").count() == 1
    assert client_for(org.far_prescriber).get(reverse("dosing:discharge_pdf", args=[s.pk])).status_code == 404
