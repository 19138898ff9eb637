from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "kairos.patients"
    label = "patients"
    verbose_name = "Patients"
