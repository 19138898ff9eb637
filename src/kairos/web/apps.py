from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kairos.web"
    label = "web"
    verbose_name = "Web"
