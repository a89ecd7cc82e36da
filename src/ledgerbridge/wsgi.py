"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerbridge.settings")
application = get_wsgi_application()

# Gunicorn runs no system checks; production must not serve on the development keys.
from ledgerbridge.checks import production_keys_require  # noqa: E402

production_keys_require()
