from django import forms

from kairos.audit.models import Action


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action"), *Action.choices], required=False)
    actor = forms.CharField(max_length=150, required=False, label="User")
    patient_id = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False, label="Patient id")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "until must be on or after since")
        return data
