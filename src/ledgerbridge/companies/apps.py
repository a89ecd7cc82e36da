from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "ledgerbridge.companies"
    label = "companies"
    verbose_name = "Companies"
