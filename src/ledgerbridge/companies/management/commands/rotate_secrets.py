"""``ledgerbridge rotate_secrets``: re-encrypt stored secrets with the newest key."""

from django.core.management.base import BaseCommand

from ledgerbridge.secrets import secrets_rotate
from ledgerbridge.words import counted


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret at rest with the first key of LEDGERBRIDGE_ENCRYPTION_KEYS. "
        "Run after putting a new key first; then the old key can be removed."
    )

    def handle(self, *args, **options):
        count = secrets_rotate()
        self.stdout.write(f"Re-encrypted {counted(count, 'secret value')} with the newest key.")
