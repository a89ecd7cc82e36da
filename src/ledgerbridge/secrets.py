"""Secrets at rest: Fernet encryption with rotatable keys.

``LEDGERBRIDGE_ENCRYPTION_KEYS`` holds one or more Fernet keys, comma-separated,
newest first. New values are encrypted with the first; any listed key decrypts.
To rotate: put a new key first, run ``ledgerbridge rotate_secrets``, then drop
the old key. Without the variable a key is derived from the secret key, which is
fine for development; with an https public URL (production) nothing starts
without it (see ``ledgerbridge/checks.py``).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def derived_key(secret_key: str) -> str:
    """The Fernet key used when no encryption keys are configured (development)."""
    digest = hashlib.sha256(f"ledgerbridge-secrets:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _fernet() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS) or [derived_key(settings.SECRET_KEY)]
    return MultiFernet([Fernet(key) for key in keys])


class SecretUnreadable(Exception):
    """No configured key decrypts the stored value (keys changed without rotation)."""


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with the configured keys; "
            "check LEDGERBRIDGE_ENCRYPTION_KEYS."
        ) from error


def rotate(token: str) -> str:
    return _fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; reads give the plain text back."""

    def from_db_value(self, value: str | None, expression: object, connection: object) -> str:
        if not value:
            return ""
        return decrypt(value)

    def get_prep_value(self, value: object) -> str:
        if value in (None, ""):
            return ""
        return encrypt(str(value))


def secrets_rotate() -> int:
    """Re-encrypt every stored secret with the newest key. Returns how many values."""
    from django.apps import apps
    from django.db import transaction

    count = 0
    for model in apps.get_models():
        fields = [f for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
        names = [f.attname for f in fields]
        with transaction.atomic():
            # values_list decrypts (from_db_value); update() encrypts again with
            # the newest key (get_prep_value).
            for row in model._default_manager.select_for_update().values_list("pk", *names):
                pk, *tokens = row
                updates = {}
                for name, plain in zip(names, tokens, strict=True):
                    if plain:
                        updates[name] = (
                            plain  # re-saved: get_prep_value encrypts with the newest key
                        )
                        count += 1
                if updates:
                    model._default_manager.filter(pk=pk).update(**updates)
    return count
