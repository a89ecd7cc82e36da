"""The OAuth scopes LedgerBridge asks Xero for — kept in this one place.

Xero apps created since 2 March 2026 must use granular scopes. We ask for the
least we need: write access where we create things (contacts, invoices and
credit notes, attachments, missing tracking options), read-only for payments.
Older apps may still use the broad ``accounting.transactions`` until September
2027 (setting ``LEDGERBRIDGE_XERO_BROAD_SCOPES=1``).
"""

from __future__ import annotations

IDENTITY = ("openid", "profile", "email", "offline_access")

GRANULAR = (
    "accounting.settings",  # accounts, tax rates, tracking categories (+ creating options)
    "accounting.contacts",  # customers and suppliers become contacts
    "accounting.invoices",  # invoices, credit notes and their allocations
    "accounting.payments.read",  # payment status back
    "accounting.attachments",  # the invoice PDF
)

BROAD = (
    "accounting.settings",
    "accounting.contacts",
    "accounting.transactions",
    "accounting.attachments",
)


def requested_scopes(*, broad: bool) -> list[str]:
    return [*IDENTITY, *(BROAD if broad else GRANULAR)]
