from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "kairos.measures"
    label = "measures"
    verbose_name = "Measurement-based care"

    def ready(self) -> None:
        from kairos.dosing.hooks import on_session_changed
        from kairos.measures.outcome_store import session_changed
        from kairos.measures.synthetic import load_measures_demo
        from kairos.web.demo import EXTRA_LOADERS

        if load_measures_demo not in EXTRA_LOADERS:
            EXTRA_LOADERS.append(load_measures_demo)
        on_session_changed(session_changed)
