"""``ledgerbridge demo``: load the demo data once."""

from django.core.management.base import BaseCommand

from ledgerbridge.demo import LOGINS, demo_load


class Command(BaseCommand):
    help = "Load the demo transport company (once; safe to run again)."

    def handle(self, *args, **options):
        demo_load(progress=self.stdout.write)
        self.stdout.write("Logins: " + ", ".join(f"{x.username} / {x.password}" for x in LOGINS))
