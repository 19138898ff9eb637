"""A service's field-keyed ValidationError lands on the form field it names, else form-wide."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from kairos.core.forms import add_service_errors


class _Form(forms.Form):
    weight_kg = forms.DecimalField(required=False)


def _bound() -> _Form:
    form = _Form({"weight_kg": "70"})
    assert form.is_valid()
    return form


def test_messages_go_to_their_field_or_form_wide():
    form = _bound()
    add_service_errors(form, ValidationError({"weight_kg": "too heavy", "version": "stale"}))
    assert form.errors["weight_kg"] == ["too heavy"]
    assert form.non_field_errors() == ["stale"]


def test_name_fields_prefixes_each_message_with_its_field():
    form = _bound()
    add_service_errors(form, ValidationError({"weight_kg": ["too heavy", "not today"]}), name_fields=True)
    assert form.errors["weight_kg"] == ["weight_kg: too heavy", "weight_kg: not today"]
