from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms

from kairos.clinical.protocols import all_protocols
from kairos.core import reasons


def protocol_choices() -> list[tuple[str, str]]:
    return [(p.id, p.title) for p in all_protocols()]


class PlanForm(forms.Form):
    protocol_id = forms.ChoiceField(label="Protocol")
    start_date = forms.DateField(label="Start date", widget=forms.DateInput(attrs={"type": "date"}))
    indication = forms.CharField(label="Indication", max_length=200, required=False)
    therapist = forms.TypedChoiceField(
        label="Therapist (integration sessions)", coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, therapists: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        protocol, therapist = self.fields["protocol_id"], self.fields["therapist"]
        assert isinstance(protocol, forms.ChoiceField) and isinstance(therapist, forms.ChoiceField)
        protocol.choices = protocol_choices()
        therapist.choices = [("", "first free therapist"), *therapists]


class MoveForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=300, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=reasons.DEFAULT_MAX_LENGTH)  # the one reason rule (kairos.core)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[])
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from kairos.courses.models import CourseStatus

        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = CourseStatus.choices


WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class ClinicSettingsForm(forms.Form):
    rems_certified = forms.BooleanField(label="Certified Spravato REMS healthcare setting", required=False)
    rems_certification_id = forms.CharField(label="REMS certification id", max_length=64, required=False)
    open_weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    opens_at = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), initial=dt.time(8))
    closes_at = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), initial=dt.time(18))


class ChairForm(forms.Form):
    name = forms.CharField(max_length=60)


class ClosureForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=200, required=False)
