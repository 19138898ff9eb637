from django.apps import AppConfig


class RulesetsConfig(AppConfig):
    name = "kairos.rulesets"
    label = "rulesets"
    verbose_name = "Clinic rule overrides"
