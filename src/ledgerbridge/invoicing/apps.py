from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "ledgerbridge.invoicing"
    label = "invoicing"
