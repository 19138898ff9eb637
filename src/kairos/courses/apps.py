from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "kairos.courses"
    label = "courses"
    verbose_name = "Treatment courses and scheduling"

    def ready(self) -> None:
        from kairos.courses import demo
        from kairos.web.demo import EXTRA_LOADERS

        if demo.load_courses_demo not in EXTRA_LOADERS:
            EXTRA_LOADERS.append(demo.load_courses_demo)
