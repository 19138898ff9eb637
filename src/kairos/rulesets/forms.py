from __future__ import annotations

from django import forms

from kairos.rulesets.models import REASON_MAX


class OverrideForm(forms.Form):
    """A new value for one param. The value is text here, parsed by the param's type in the view (so every
    refusal names the param and its allowed range); the reason's 15–2000 rule is the service's."""

    value = forms.CharField(max_length=200, required=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=REASON_MAX + 200, required=False
    )
    # the version the signer saw (0: none); a newer one makes the service refuse instead of replacing it
    expected_version = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, widget=forms.HiddenInput
    )


class RevertForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=REASON_MAX + 200, required=False
    )
    expected_version = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, widget=forms.HiddenInput
    )
