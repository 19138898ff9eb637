from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kairos.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from kairos.accounts import signals  # noqa: F401  (login audit receivers)
