from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kairos.audit"
    label = "audit"
    verbose_name = "Audit trail"
