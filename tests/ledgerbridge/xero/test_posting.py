"""Posting documents to the sandbox through the outbox and the Xero connector."""

from __future__ import annotations

import httpx
import pytest

from ledgerbridge.accounting.models import AccountingSettings, StepStatus, SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.invoicing.models import Task, TaskStatus
from tests.ledgerbridge.factories import line, make_document, make_partner

from .conftest import authorise

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    return admin


def xero_get(sandbox, path, **params):
    tokens = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])
    answer = httpx.get(
        f"{sandbox.base_url}/api.xro/2.0/{path}",
        params=params,
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "xero-tenant-id": sandbox.tenant_id,
            "Accept": "application/json",
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_final_sales_invoice_is_posted_with_lines_tracking_and_its_pdf(
    sandbox, linked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(
            linked,
            lines=[
                line("freight", quantity="2", unit_price="450"),
                line("fuel_surcharge", unit_price="63.50"),
            ],
            finalise=True,
        )
    record = SyncRecord.objects.get(document=document)
    assert record.status == SyncStatus.POSTED, record.message
    assert record.attachment_status == StepStatus.DONE
    [invoice] = xero_get(sandbox, f"Invoices/{record.external_id}")["Invoices"]
    assert invoice["InvoiceNumber"] == document.number
    assert invoice["Type"] == "ACCREC"
    assert invoice["Total"] == float(document.gross_total)
    assert [li["AccountCode"] for li in invoice["LineItems"]] == ["200", "201"]
    assert invoice["LineItems"][0]["Tracking"][0]["Option"] == "Domestic"
    attachments = xero_get(sandbox, f"Invoices/{record.external_id}/Attachments")["Attachments"]
    assert [a["FileName"] for a in attachments] == [f"{document.number}.pdf"]
    task = Task.objects.get(document=document, type="post_to_xero")
    assert task.status == TaskStatus.DONE
    assert "Posted to Xero" in task.message
