from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kairos.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from kairos.accounts import signals  # noqa: F401  (login audit receivers)
        from kairos.accounts.models import ApiToken, Clinic
        from kairos.audit import owners

        owners.register("clinic_id", Clinic, lambda c: (c.pk, None))
        owners.register("token_id", ApiToken)
        owners.register("user_id", get_user_model())  # staff pages (a clinic admin's two-factor reset)
