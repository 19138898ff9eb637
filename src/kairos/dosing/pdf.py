"""Printable PDFs (REMS Patient Monitoring Form, discharge summary) rendered with WeasyPrint from HTML
templates (issue #11 §3). Every download is an audited PHI export."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string

# The official Patient Monitoring Form's sections, in its order (clinical.md §1.4); the keys are those of
# kairos.clinical.safety.rems.MonitoringForm.sections().
REMS_SECTION_TITLES: dict[str, str] = {
    "patient": "Patient information",
    "concomitant": "Concomitant medicines",
    "hcp": "Healthcare provider",
    "setting": "Healthcare setting",
    "session": "Treatment session",
    "duration": "Monitoring duration (min)",
    "vitals": "Vital signs",
    "bp": "Blood pressure (mmHg)",
    "adverse": "Adverse events during monitoring",
}


def ordered_sections(sections: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, title, values) in the official form's order; unknown sections follow in their own order."""
    known = [(k, t, sections[k]) for k, t in REMS_SECTION_TITLES.items() if k in sections]
    rest = [
        (k, k.replace("_", " ").capitalize(), v) for k, v in sections.items() if k not in REMS_SECTION_TITLES
    ]
    return known + rest


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render ``template`` to HTML and lay it out as a paginated PDF."""
    import weasyprint  # imported lazily: system libraries (pango) are needed only when printing

    html = render_to_string(template, context)
    return bytes(weasyprint.HTML(string=html).write_pdf())


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    resp = HttpResponse(data, content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp["Cache-Control"] = "no-store"
    return resp
