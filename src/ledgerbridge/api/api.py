"""The REST API for the TMS and scripts. OpenAPI at /api/docs."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(
    title="LedgerBridge API",
    version="1.0",
    description="Partners and invoicing documents of one company, addressed by its API token.",
    urls_namespace="api",
)
