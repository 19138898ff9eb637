from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "kairos.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        from kairos.audit import owners
        from kairos.patients.models import Patient

        owners.register("patient_id", Patient, lambda p: (p.clinic_id, p.pk))
