from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ledgerbridge.web"
    label = "web"

    def ready(self) -> None:
        # Wiring: the worker (run_huey) loads every app, so this covers it too.
        from django.core import checks
        from huey.contrib.djhuey import HUEY

        from ledgerbridge.checks import production_keys_check
        from ledgerbridge.jobs import job_log_context_register, worker_heartbeat_register

        job_log_context_register(HUEY)
        worker_heartbeat_register(HUEY)
        checks.register(production_keys_check, checks.Tags.security)
