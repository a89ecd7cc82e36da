"""An allocation whose answer was lost is recognised on the retry, not called "already paid".

Found by the fault suite (``ledgerbridge bench faults``): Xero allocated the
credit note, the answer was dropped, and the retry read the invoice's amount due
(now 0, because of that very allocation) as "already paid in Xero; the credit
note stays unallocated" — telling Finance to refund or allocate it again.
"""

from __future__ import annotations

import pytest

from ledgerbridge.accounting.models import StepStatus, SyncRecord
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from tests.ledgerbridge.factories import line, make_document

from .conftest import authorise
from .test_posting import post_all, xero_get

pytestmark = pytest.mark.django_db


def test_a_dropped_allocation_answer_is_settled_as_allocated_once(
    sandbox, admin, django_capture_on_commit_callbacks
):
    authorise(sandbox, admin, [sandbox.tenant_id])
    with django_capture_on_commit_callbacks(execute=True):
        invoice = make_document(admin, lines=[line("freight", unit_price="100")], finalise=True)
    sandbox.control.add_fault("drop", method="PUT", path="/Allocations$", times=1)
    with django_capture_on_commit_callbacks(execute=True):
        credit = credit_note_create_from_invoice(actor=admin, invoice_id=invoice.pk)
        document_finalise(actor=admin, document_id=credit.pk)
    record = SyncRecord.objects.get(document=credit)
    assert record.allocation_status == StepStatus.WAITING  # the answer was lost

    post_all(admin.company, runs=1)

    record.refresh_from_db()
    assert record.allocation_status == StepStatus.DONE, record.allocation_message
    assert record.allocation_message == ""
    [xero_credit] = xero_get(sandbox, f"CreditNotes/{record.external_id}")["CreditNotes"]
    assert [a["Amount"] for a in xero_credit["Allocations"]] == [float(credit.gross_total)]
