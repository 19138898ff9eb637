from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "kairos.dosing"
    label = "dosing"
    verbose_name = "Dosing sessions"

    def ready(self) -> None:
        from kairos.dosing import demo
        from kairos.web.demo import EXTRA_LOADERS

        if demo.load_dosing_demo not in EXTRA_LOADERS:
            EXTRA_LOADERS.append(demo.load_dosing_demo)
