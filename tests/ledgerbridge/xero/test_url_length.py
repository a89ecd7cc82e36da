"""Requests stay within the URL length Xero's gateway takes (about 2,091 characters):
a longer one is answered 404 as if the resource did not exist."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest

from ledgerbridge.xero.client import URL_ROOM, XERO_MAX_URL, url_groups

from .test_posting import linked, manual  # noqa: F401  (fixtures)


def test_groups_keep_every_item_in_order_within_the_length() -> None:
    numbers = [f"INV-2026-{n:05d}" for n in range(500)]

    groups = list(url_groups(numbers, lambda n: f'InvoiceNumber=="{n}"'))

    assert [n for group, _ in groups for n in group] == numbers
    assert len(groups) > 1
    for group, where in groups:
        assert where == " OR ".join(f'InvoiceNumber=="{n}"' for n in group)
        assert len(quote_plus(where)) <= XERO_MAX_URL - URL_ROOM


def test_ids_are_packed_with_their_commas_escaped() -> None:
    ids = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(120)]

    groups = list(url_groups(ids, str, joiner=","))

    assert [len(group) for group, _ in groups] == [47, 47, 26]
    assert all(len(quote_plus(text)) <= XERO_MAX_URL - URL_ROOM for _, text in groups)


def test_one_item_too_long_for_any_url_is_a_group_of_its_own() -> None:
    long_name = "A" * 3000

    groups = list(url_groups(["short", long_name, "other"], str))

    assert [group for group, _ in groups] == [["short"], [long_name], ["other"]]


@pytest.mark.django_db
def test_fifty_bills_and_fifty_supplier_credits_of_as_many_suppliers_all_post(
    sandbox,
    manual,  # noqa: F811
) -> None:
    # The duplicate-bill check reads each supplier's bills (ContactIDs=) and credit
    # notes (a where clause per contact), and contacts are looked up by number and
    # name: with 50 suppliers each of those is longer than Xero's URL limit unpacked.
    from ledgerbridge.accounting.models import (
        AccountingSettings,
        StepStatus,
        SyncRecord,
        SyncStatus,
    )
    from ledgerbridge.invoicing.models import DocumentType

    from .test_posting import _queue, post_all

    AccountingSettings.objects.filter(company=manual.company).update(
        auto_post_purchase_invoice=False, auto_post_purchase_credit_note=False
    )
    _queue(manual, 50, type=DocumentType.PURCHASE_INVOICE)
    _queue(manual, 50, type=DocumentType.PURCHASE_CREDIT_NOTE)
    # Not about attachments: one call per document would use the minute up.
    SyncRecord.objects.filter(company=manual.company).update(
        attachment_status=StepStatus.NOT_NEEDED
    )
    sandbox.control.clear_calls()

    post_all(manual.company, runs=2)

    records = SyncRecord.objects.filter(company=manual.company)
    assert records.count() == 100
    assert set(records.values_list("status", flat=True)) == {SyncStatus.POSTED}
    calls = sandbox.control.calls()
    assert calls and not [c for c in calls if c["status"] == 404]
