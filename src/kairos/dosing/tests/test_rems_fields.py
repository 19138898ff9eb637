"""The REMS form's 'ready to leave' question is asked at discharge and required there for esketamine
(issue #11 §3); other routes keep it optional."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from kairos.dosing import services

from .conftest import checked_in

pytestmark = pytest.mark.django_db
M = dt.timedelta(minutes=1)


def test_esketamine_discharge_form_requires_ready_to_leave(org, patient, enrolled, site, t0, client_for):
    s = checked_in(org, patient, t0)
    services.order_dose(org.prescriber, s)
    services.start_dosing(org.nurse, s, product_code="spravato-56", lot_number="LOT9", at=t0 + 10 * M)
    services.record_device(org.nurse, s, at=t0 + 15 * M)
    html = client_for(org.nurse).get(reverse("dosing:detail", args=[s.pk])).content.decode()
    m = re.search(r'<input[^>]*name="ready_to_leave_minutes"[^>]*>', html)
    assert m is not None
    tag = m.group(0)
    assert " required" in tag
    assert 'min="0"' in tag and 'max="600"' in tag
    assert "If there were no 2-hour minimum".lower() in html.lower()
