from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "kairos.courses"
    label = "courses"
    verbose_name = "Treatment courses and scheduling"

    def ready(self) -> None:
        from kairos.audit import owners
        from kairos.courses.models import Appointment, Course

        owners.register("course_id", Course)
        owners.register("appointment_id", Appointment)
