"""Forms of the measures app: the clinic's measurement settings (clinic admin)."""

from __future__ import annotations

from typing import Any

from django import forms

from kairos.measures.services import clinic_config

LINK_LOW, LINK_HIGH = clinic_config.LINK_VALID_HOURS
REMINDER_LOW = clinic_config.REMINDER_MIN_HOURS


def _range(field: str, low: int, high: int) -> dict[str, str]:
    msg = f"{field}: whole hours in the allowed range [{low}, {high}]"
    return {"required": f"{field}: required", "invalid": msg, "min_value": msg, "max_value": msg}


class MeasureSettingsForm(forms.Form):
    crisis_text = forms.CharField(
        label="Crisis resources shown to patients",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        max_length=4000,
        error_messages={
            "required": "crisis_text: required (1–4000 characters)",
            "max_length": "crisis_text: at most 4000 characters",
        },
        help_text="Shown to a patient who answers a safety question positively. Check the numbers and "
        "services for your clinic's country and area.",
    )
    mark_reviewed = forms.BooleanField(
        label="I have reviewed this crisis text for our clinic",
        required=False,
        help_text="Records you as the reviewer, now. Saving a changed text also counts as a review.",
    )
    licences = forms.MultipleChoiceField(
        label="Instrument licences held by the clinic",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "licences: %(value)s is not a known licence"},
    )
    link_valid_hours = forms.IntegerField(
        label="Questionnaire link lifetime (hours)",
        min_value=LINK_LOW,
        max_value=LINK_HIGH,
        error_messages=_range("link_valid_hours", LINK_LOW, LINK_HIGH),
        help_text=f"{LINK_LOW}–{LINK_HIGH} hours (14 days).",
    )
    reminder_before_hours = forms.IntegerField(
        label="Reminder before an unused link expires (hours)",
        min_value=REMINDER_LOW,
        max_value=LINK_HIGH - 1,
        error_messages=_range("reminder_before_hours", REMINDER_LOW, LINK_HIGH - 1),
        help_text="0 = no reminder; otherwise shorter than the link lifetime.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        licences = self.fields["licences"]
        assert isinstance(licences, forms.MultipleChoiceField)
        licences.choices = clinic_config.licence_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours, lead = data.get("link_valid_hours"), data.get("reminder_before_hours")
        if hours is not None and lead is not None and lead >= hours:
            self.add_error(
                "reminder_before_hours",
                f"reminder_before_hours: {lead} is outside the allowed range [{REMINDER_LOW}, {hours - 1}] "
                f"hours (shorter than the link lifetime of {hours} h)",
            )
        return data
