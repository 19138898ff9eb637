from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from kairos.patients.models import WEIGHT_MAX_KG, WEIGHT_MIN_KG, Patient

# ModelForm is generic only in the stubs: subscripting it at run time needs django_stubs_ext.monkeypatch().
if TYPE_CHECKING:
    _PatientModelForm = forms.ModelForm[Patient]
else:
    _PatientModelForm = forms.ModelForm


class PatientForm(_PatientModelForm):
    class Meta:
        model = Patient
        fields = ["mrn", "given_name", "family_name", "date_of_birth", "sex", "email", "phone"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}


class NewPatientForm(PatientForm):
    # Not a model field of the form (Patient.clinic is a foreign key; the service sets it after the
    # permission check), so ``construct_instance`` never assigns the raw id to ``Patient.clinic``.
    clinic = forms.TypedChoiceField(coerce=int, label="Clinic")
    field_order = ["clinic", *PatientForm.Meta.fields]

    def __init__(self, *args: Any, clinics: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clinic = self.fields["clinic"]
        assert isinstance(clinic, forms.TypedChoiceField)
        clinic.choices = clinics
        if len(clinics) == 1:
            clinic.initial = clinics[0][0]


class HeightForm(forms.Form):
    """Body height (cm); the range is the dosing rules' height.min_cm / height.max_cm (the service checks it
    again and names the range)."""

    height_cm = forms.DecimalField(label="Height (cm)", decimal_places=1, max_digits=4)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kairos.patients.services import height_bounds

        lo, hi = height_bounds()
        field = self.fields["height_cm"]
        assert isinstance(field, forms.DecimalField)
        field.validators.extend([MinValueValidator(lo), MaxValueValidator(hi)])


class WeightForm(forms.Form):
    weight_kg = forms.DecimalField(
        label="Weight (kg)", min_value=WEIGHT_MIN_KG, max_value=WEIGHT_MAX_KG, decimal_places=1, max_digits=5
    )
