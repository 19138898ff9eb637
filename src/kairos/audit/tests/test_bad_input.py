"""Audit filter query parameters: malformed values answer 400 naming the field (a huge patient id was a
500: OverflowError converting to an SQL integer)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patient_id", "9" * 400),
        ("patient_id", str(2**63)),
        ("patient_id", "NaN"),
        ("patient_id", "-1"),
        ("since", "2024-02-30"),
        ("until", "9999-99-99"),
        ("action", "nonsense"),
    ],
)
@pytest.mark.parametrize("name", ["audit:list", "audit:export"])
def test_bad_filters_are_400_naming_the_field(org, client_for, name, field, value):
    resp = client_for(org.auditor).get(reverse(name), {field: value})
    assert resp.status_code == 400
    assert field.encode() in resp.content or field.replace("_", " ").encode() in resp.content.lower()


@pytest.mark.parametrize("page", ["abc", "NaN", "-1", "9" * 400, ""])
def test_bad_page_numbers_fall_back_to_a_page(org, client_for, page):
    assert client_for(org.auditor).get(reverse("audit:list"), {"page": page}).status_code == 200
