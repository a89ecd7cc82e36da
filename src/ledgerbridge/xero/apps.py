from django.apps import AppConfig


class XeroConfig(AppConfig):
    name = "ledgerbridge.xero"
    label = "xero"
    verbose_name = "Xero"

    def ready(self) -> None:
        from . import books, import_file, posting, reconcile_rules

        posting.register()
        import_file.register()
        books.register()
        reconcile_rules.register()
