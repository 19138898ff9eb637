from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "kairos.measures"
    label = "measures"
    verbose_name = "Measurement-based care"

    def ready(self) -> None:
        from kairos.audit import owners
        from kairos.dosing.hooks import on_session_changed
        from kairos.measures.models import MeasureAlert, MeasurementDue
        from kairos.measures.outcome_store import session_changed

        on_session_changed(session_changed)
        from kairos.measures.badge import home_panel, open_tasks, open_urgent_alerts
        from kairos.web.hooks import on_badge_count, on_home_panel

        on_home_panel("alerts", home_panel)
        on_badge_count("alerts", open_urgent_alerts)
        on_badge_count("tasks", open_tasks)
        owners.register("alert_id", MeasureAlert)
        owners.register("due_id", MeasurementDue, lambda d: (d.patient.clinic_id, d.patient_id))
