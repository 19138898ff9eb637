from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "kairos.dosing"
    label = "dosing"
    verbose_name = "Dosing sessions"

    def ready(self) -> None:
        from kairos.audit import owners
        from kairos.courses import hooks as course_hooks
        from kairos.dosing.models import AdverseEvent, DosingSession
        from kairos.dosing.selectors import board_states

        course_hooks.on_board_states(board_states)

        from kairos.dosing.selectors import overdue_rems_forms
        from kairos.web.hooks import on_badge_count

        on_badge_count("rems_overdue", overdue_rems_forms)

        owners.register("session_id", DosingSession)
        owners.register("event_id", AdverseEvent, lambda e: (e.session.clinic_id, e.session.patient_id))
