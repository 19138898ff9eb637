from __future__ import annotations

from django import forms

from kairos.clinical.safety.eligibility import DrugClass
from kairos.intake import domain, services
from kairos.intake.models import EligibilityDecisionKind, TrialOutcome


class DiagnosisForm(forms.Form):
    key = forms.ChoiceField(
        label="Diagnosis",
        choices=[
            (d.key, f"{d.display} — SNOMED {d.snomed or '—'} / ICD-10-CM {d.icd10 or '—'}")
            for d in domain.DIAGNOSES
        ],
    )


class TrialForm(forms.Form):
    drug = forms.CharField(max_length=100)
    dose_mg = forms.DecimalField(min_value=0.01, max_value=5000, decimal_places=2)
    weeks = forms.IntegerField(min_value=1, max_value=104)
    adequate = forms.BooleanField(required=False, label="Adequate dose and duration")
    outcome = forms.ChoiceField(choices=TrialOutcome.choices)
    current_episode = forms.BooleanField(required=False, initial=True, label="In the current episode")


class MedicineForm(forms.Form):
    name = forms.CharField(max_length=120)
    drug_class = forms.ChoiceField(
        required=False,
        choices=[("", "unknown / other"), *[(c.value, c.value.replace("_", " ")) for c in DrugClass]],
    )


TRI = [("", "not recorded"), ("yes", "yes"), ("no", "no")]


class HistoryForm(forms.Form):
    hypertension = forms.BooleanField(required=False)
    uncontrolled_hypertension = forms.BooleanField(required=False)
    aneurysmal_vascular_disease = forms.BooleanField(required=False, label="Aneurysmal vascular disease")
    arteriovenous_malformation = forms.BooleanField(required=False, label="Arteriovenous malformation")
    intracerebral_haemorrhage = forms.BooleanField(
        required=False, label="History of intracerebral haemorrhage"
    )
    psychosis = forms.BooleanField(required=False)
    substance_use_disorder = forms.BooleanField(required=False, label="Substance use disorder")
    pregnant = forms.TypedChoiceField(
        choices=TRI, required=False, coerce=lambda v: {"yes": True, "no": False}.get(v), empty_value=None
    )
    pregnancy_possible = forms.BooleanField(required=False)
    breastfeeding = forms.BooleanField(required=False)


class VitalsForm(forms.Form):
    systolic = forms.DecimalField(required=False, label="Systolic BP (mm[Hg], LOINC 8480-6)")
    diastolic = forms.DecimalField(required=False, label="Diastolic BP (mm[Hg], LOINC 8462-4)")
    heart_rate = forms.DecimalField(required=False, label="Heart rate (/min, LOINC 8867-4)")
    spo2 = forms.DecimalField(required=False, label="SpO2 (%, LOINC 59408-5)")
    resp_rate = forms.DecimalField(required=False, label="Respiratory rate (/min, LOINC 9279-1)")


class EligibilitySignForm(forms.Form):
    decision = forms.ChoiceField(choices=EligibilityDecisionKind.choices)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=services.NOTE_MAX
    )
    amend_reason = forms.CharField(
        required=False, max_length=500, label="Amendment reason (when changing a signed decision)"
    )


class ConsentAcceptForm(forms.Form):
    document = forms.IntegerField(widget=forms.HiddenInput)
    typed_name = forms.CharField(max_length=200, label="Patient types their full name")


class RemsForm(forms.Form):
    enrolled_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    confirmation_id = forms.CharField(max_length=64)


class ConsentDocumentForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}))
