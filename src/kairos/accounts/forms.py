"""Forms of the staff administration pages (the services validate again and name the field)."""

from __future__ import annotations

from django import forms

from kairos.accounts.staff import EMAIL_MAX, NAME_MAX
from kairos.core.roles import Role


class InviteForm(forms.Form):
    name = forms.CharField(label="Full name", max_length=NAME_MAX)
    email = forms.EmailField(label="E-mail address (their username)", max_length=EMAIL_MAX)
    role = forms.ChoiceField(label="Role", choices=Role.choices)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # every message names its field, so a bad request says exactly what to fix
        for name, field in self.fields.items():
            field.error_messages = {
                **field.error_messages,
                "required": f"{name}: required",
                "invalid": f"{name}: a valid e-mail address" if name == "email" else f"{name}: invalid",
                "invalid_choice": f"{name}: one of {', '.join(Role.values)} (got %(value)s)",
                "max_length": f"{name}: at most %(limit_value)d characters",
            }


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=Role.choices,
        error_messages={
            "required": "role: required",
            "invalid_choice": f"role: one of {', '.join(Role.values)} (got %(value)s)",
        },
    )
