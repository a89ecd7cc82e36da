"""Background jobs of the Xero adapter (Huey)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .connection import xero_links_keep_alive


@db_periodic_task(crontab(minute="17", hour="3"))
def keep_xero_links_alive() -> None:
    xero_links_keep_alive()
