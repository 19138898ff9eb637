from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "kairos.access"
    label = "access"
    verbose_name = "Access control"
