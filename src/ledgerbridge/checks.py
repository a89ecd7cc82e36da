"""Deployment checks: production refuses to run on the development keys.

An ``https`` public URL means production. There the secret key (sessions,
CSRF, password reset tokens) and the Fernet keys for secrets at rest (Xero
tokens) must be the operator's own: the development secret key is published
in this repository, and so is every key derived from it.

The checks are errors, not deployment warnings, so every management command
(``migrate``, ``run_huey``, ``check`` with or without ``--deploy``) stops on
them; the WSGI application, which runs no checks, calls
``production_keys_require`` and refuses to load.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from ledgerbridge.secrets import derived_key

GENERATE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
GENERATE_ENCRYPTION_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
    except ValueError:
        return False
    return True


def production_key_errors() -> list[checks.Error]:
    if not settings.HTTPS:
        return []
    return key_errors()


def _production() -> str:
    return "; the public URL is https (production)" if settings.HTTPS else ""


def key_errors() -> list[checks.Error]:
    """The keys' problems whatever the public URL (``ledgerbridge doctor`` asks always)."""
    errors = []
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        errors.append(
            checks.Error(
                "LEDGERBRIDGE_SECRET_KEY is not set: the development secret key is published "
                f"in the repository{_production()}.",
                hint=f"Set LEDGERBRIDGE_SECRET_KEY to a long random value: {GENERATE_SECRET_KEY}",
                id="ledgerbridge.E001",
            )
        )
    keys = settings.ENCRYPTION_KEYS
    development = derived_key(settings.DEVELOPMENT_SECRET_KEY)
    if not keys:
        problem = "is not set, so secrets at rest would use a key derived from the secret key"
    elif development in keys:
        problem = "holds the development key, derived from the published development secret key"
    elif not all(_is_fernet_key(key) for key in keys):
        problem = "holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)"
    else:
        problem = ""
    if problem:
        errors.append(
            checks.Error(
                f"LEDGERBRIDGE_ENCRYPTION_KEYS {problem}{_production()}.",
                hint=(
                    "Set LEDGERBRIDGE_ENCRYPTION_KEYS to one or more Fernet keys, newest first, "
                    f"comma-separated: {GENERATE_ENCRYPTION_KEY}"
                ),
                id="ledgerbridge.E002",
            )
        )
    return errors


def production_keys_check(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    return production_key_errors()


def production_keys_require() -> None:
    """Refuse to serve with the development keys in production."""
    errors = production_key_errors()
    if errors:
        raise ImproperlyConfigured(
            "\n".join(f"{error.id}: {error.msg} {error.hint}" for error in errors)
        )
