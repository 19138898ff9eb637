from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kairos.api"
    label = "kairos_api"
    verbose_name = "API"
