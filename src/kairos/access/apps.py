from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "kairos.access"
    label = "access"
    verbose_name = "Access control"

    def ready(self) -> None:
        # patients sits below access: it asks for break-glass grants through its hook (issue #10).
        from kairos.access.models import BreakGlassGrant
        from kairos.access.selectors import active_grant
        from kairos.audit import owners
        from kairos.patients.hooks import on_grant_lookup

        on_grant_lookup(active_grant)
        owners.register("grant_id", BreakGlassGrant, lambda g: (g.patient.clinic_id, g.patient_id))
