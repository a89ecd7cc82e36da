"""Linking a benchmark's company to a sandbox organisation without the consent page."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Django is set up later, by the command
    from ledgerbridge.xero.models import XeroConnection
    from xero_sandbox.testing import ControlClient


def sandbox_link(
    control: ControlClient,
    *,
    company_id: int,
    tenant_id: str,
    scale: float = 1.0,
    tenant_name: str = "Demo",
    short_code: str = "!Bench",
) -> XeroConnection:
    """Link a company to a sandbox organisation with a token set minted by the sandbox's
    control API: what authorising through the consent page gives, without the browser.
    ``scale`` is the sandbox clock's speed, so the token expires when Xero says."""
    from django.utils import timezone

    from ledgerbridge.xero.models import LinkStatus, XeroConnection

    now = timezone.now()
    tokens = control.mint_token(tenant_ids=[tenant_id])
    return XeroConnection.objects.create(
        company_id=company_id,
        status=LinkStatus.CONNECTED,
        tenant_id=tenant_id,
        tenant_name=tenant_name,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        access_expires_at=now + dt.timedelta(seconds=tokens["expires_in"] / scale),
        refresh_obtained_at=now,
        connection_id=tokens["connection_ids"][0],
        short_code=short_code,
        connected_at=now,
    )
