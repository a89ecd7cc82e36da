from django.apps import AppConfig


class AccountingConfig(AppConfig):
    name = "ledgerbridge.accounting"
    label = "accounting"
    verbose_name = "Accounting"

    def ready(self) -> None:
        from .workflow import register

        register()
