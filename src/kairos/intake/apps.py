from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kairos.intake"
    label = "intake"
    verbose_name = "Intake, eligibility and consent"

    def ready(self) -> None:
        from kairos.intake import demo
        from kairos.web.demo import EXTRA_LOADERS

        if demo.load_intake_demo not in EXTRA_LOADERS:
            EXTRA_LOADERS.append(demo.load_intake_demo)
