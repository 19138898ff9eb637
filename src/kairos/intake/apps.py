from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kairos.intake"
    label = "intake"
    verbose_name = "Intake, eligibility and consent"
