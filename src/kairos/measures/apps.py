from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "kairos.measures"
    label = "measures"
    verbose_name = "Measurement-based care"
