"""Form helpers shared by every app's views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.BaseForm, exc: ValidationError, *, name_fields: bool = False) -> None:
    """Show a service's field-keyed :class:`ValidationError` on ``form``: each message on its field when the
    form has one, else as a form-wide error. ``name_fields`` prefixes every message with its field name, for
    services whose messages do not already name it (the user must always see which field is wrong)."""
    for field, messages in exc.message_dict.items():
        shown = [f"{field}: {m}" for m in messages] if name_fields else messages
        form.add_error(field if field in form.fields else None, shown)
