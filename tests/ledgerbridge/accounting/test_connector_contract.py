"""What every accounting connector honours, run against each: the fake and Xero's.

One contract, parametrised over the implementations (as Warehouse tests its
service interfaces): the outbox's fast tests rely on the fake behaving as the
Xero connector does against the sandbox. Each implementation comes with a
``Package`` harness that provokes, in its own way, what the contract speaks of
(a refused document, a lost answer, a rate limit, a used-up day, a revoked link,
a payment, a bill entered by hand).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Protocol

import httpx
import pytest
from django.utils import timezone

from ledgerbridge.accounting.connector import (
    AccountingConnector,
    NotLinked,
    PausedUntil,
    Problem,
    Rejected,
    TryLater,
    connector_for,
    connector_registered,
)
from ledgerbridge.accounting.fake import FakeConnector, package_number
from ledgerbridge.accounting.models import AccountingPackage, SyncRecord
from ledgerbridge.accounting.outbox import sync_record_request
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document, DocumentType, PartnerKind
from ledgerbridge.invoicing.pdf import document_pdf_ensure
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from tests.ledgerbridge.factories import line, make_document, make_partner
from tests.ledgerbridge.xero.conftest import authorise, sandbox  # noqa: F401
from tests.ledgerbridge.xero.test_duplicate_bills import type_into_xero
from xero_sandbox.testing import RunningSandbox

pytestmark = pytest.mark.django_db

LOCKED_UP_TO = dt.date(2026, 6, 30)
OLD = dt.date(2026, 3, 1)  # before the lock date: the package refuses it


class Package(Protocol):
    """A connector, and the means to make its package do what the contract speaks of."""

    connector: AccountingConnector

    def refuse_old_documents(self) -> None: ...
    def accept_old_documents(self) -> None: ...
    def lose_next_answer(self, operation: str) -> None: ...
    def rate_limit_next_call(self, retry_after: int) -> None: ...
    def fail_next_post(self) -> None: ...
    def use_up_the_day(self) -> None: ...
    def revoke(self) -> None: ...
    def pay(self, record: SyncRecord) -> None: ...
    def enter_bill(self, supplier, number: str, total: Decimal) -> None: ...
    def attachments(self, record: SyncRecord) -> list[str]: ...
    def amount_due(self, record: SyncRecord) -> Decimal: ...


class FakePackage:
    def __init__(self, actor: Actor) -> None:
        self.connector = FakeConnector()
        self.company = actor.company

    def refuse_old_documents(self) -> None:
        for document in Document.objects.filter(company=self.company, issue_date__lte=LOCKED_UP_TO):
            self.connector.refuse(
                package_number(document),
                Problem(kind="lock_date", detail=f"The period is locked up to {LOCKED_UP_TO}."),
            )

    def accept_old_documents(self) -> None:
        for document in Document.objects.filter(company=self.company):
            self.connector.accept(package_number(document))

    def lose_next_answer(self, operation: str) -> None:
        self.connector.lose_answer(operation)

    def rate_limit_next_call(self, retry_after: int) -> None:
        self.connector.try_later("post", retry_after=retry_after)

    def fail_next_post(self) -> None:
        self.connector.try_later("post", maybe_sent=True)

    def use_up_the_day(self) -> None:
        self.connector.pause(timezone.now() + dt.timedelta(hours=2))

    def revoke(self) -> None:
        self.connector.unlink("The app's access was revoked.")

    def pay(self, record: SyncRecord) -> None:
        self.connector.record_payment(self.company, record.external_id)

    def enter_bill(self, supplier, number: str, total: Decimal) -> None:
        self.connector.enter(
            self.company,
            type=DocumentType.PURCHASE_INVOICE,
            number=number,
            partner_id=supplier.pk,
            total=total,
        )

    def attachments(self, record: SyncRecord) -> list[str]:
        return self.connector.books[self.company.pk][record.external_id].attachments

    def amount_due(self, record: SyncRecord) -> Decimal:
        return self.connector.books[self.company.pk][record.external_id].amount_due


class XeroPackage:
    """The Xero connector, against an organisation of the sandbox (real HTTP)."""

    def __init__(self, running: RunningSandbox) -> None:
        self.sandbox = running
        self.connector = connector_for(AccountingPackage.XERO_API)

    def refuse_old_documents(self) -> None:
        self.sandbox.control.set_lock_date(self.sandbox.tenant_id, LOCKED_UP_TO.isoformat())

    def accept_old_documents(self) -> None:
        self.sandbox.control.set_lock_date(self.sandbox.tenant_id, None)

    def lose_next_answer(self, operation: str) -> None:
        path = {"post": "/Invoices$", "allocate": "/Allocations$"}[operation]
        self.sandbox.control.add_fault("drop", method="PUT", path=path, times=1)

    def rate_limit_next_call(self, retry_after: int) -> None:
        self.sandbox.control.add_fault("rate_limit", retry_after=retry_after, times=1)

    def fail_next_post(self) -> None:
        self.sandbox.control.add_fault(
            "error", status=503, method="PUT", path="/Invoices$", times=1
        )

    def use_up_the_day(self) -> None:
        self.sandbox.control.add_fault("rate_limit", problem="day", retry_after=7200, times=10)

    def revoke(self) -> None:
        self.sandbox.control.revoke(self.sandbox.tenant_id)

    def pay(self, record: SyncRecord) -> None:
        self.sandbox.control.record_payment(self.sandbox.tenant_id, invoice_id=record.external_id)

    def enter_bill(self, supplier, number: str, total: Decimal) -> None:
        type_into_xero(self.sandbox, supplier.name, number, amount=f"{total:.2f}")

    def attachments(self, record: SyncRecord) -> list[str]:
        answer = self._get(f"Invoices/{record.external_id}/Attachments")
        return [a["FileName"] for a in answer["Attachments"]]

    def amount_due(self, record: SyncRecord) -> Decimal:
        [invoice] = self._get(f"Invoices/{record.external_id}")["Invoices"]
        return Decimal(str(invoice["AmountDue"]))

    def _get(self, path: str) -> dict:
        tokens = self.sandbox.control.mint_token(tenant_ids=[self.sandbox.tenant_id])
        answer = httpx.get(
            f"{self.sandbox.base_url}/api.xro/2.0/{path}",
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "xero-tenant-id": self.sandbox.tenant_id,
                "Accept": "application/json",
            },
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(params=["fake", "xero"])
def package(request, admin):
    if request.param == "fake":
        fake = FakePackage(admin)
        with connector_registered(AccountingPackage.XERO_API, lambda: fake.connector):
            yield fake
    else:
        running = request.getfixturevalue("sandbox")
        authorise(running, admin, [running.tenant_id])
        yield XeroPackage(running)


def records(*documents: Document) -> list[SyncRecord]:
    """Records asked for as the outbox asks (the worker is not run: the test calls)."""
    return [sync_record_request(document=d, now=timezone.now()) for d in documents]


def posted(package: Package, *documents: Document) -> list[SyncRecord]:
    """Post the documents; their records, with what the package answered kept."""
    these = records(*documents)
    outcomes = package.connector.post(these[0].document.company, these, request_key=_key())
    by_id = {o.record_id: o for o in outcomes}
    for record in these:
        outcome = by_id[record.pk]
        assert outcome.posted is not None, outcome.messages
        record.external_id = outcome.posted.external_id
        record.external_number = outcome.posted.number
        record.status = "posted"
        record.save()
    return these


def _key() -> str:
    return f"lb-contract-{uuid.uuid4().hex}"


def invoice(actor: Actor, amount: str = "100", **kwargs) -> Document:
    return make_document(actor, lines=[line("freight", unit_price=amount)], finalise=True, **kwargs)


def bill(actor: Actor, supplier, number: str, amount: str = "640.00") -> Document:
    return make_document(
        actor,
        DocumentType.PURCHASE_INVOICE,
        partner=supplier,
        supplier_reference=number,
        lines=[line("fuel", sales=False, unit_price=amount)],
        finalise=True,
    )


@pytest.fixture
def supplier(admin):
    return make_partner(admin.company, PartnerKind.SUPPLIER, name="M62 Fuels Ltd")


# ------------------------------------------------------------------ posting


def test_post_answers_each_document_with_the_packages_id_number_and_totals(package, admin):
    documents = [invoice(admin, "100"), invoice(admin, "250")]
    these = records(*documents)
    outcomes = package.connector.post(admin.company, these, request_key=_key())
    assert sorted(o.record_id for o in outcomes) == sorted(r.pk for r in these)
    by_record = {o.record_id: o for o in outcomes}
    for record, document in zip(these, documents, strict=True):
        outcome = by_record[record.pk]
        assert outcome.ok and not outcome.problems and outcome.duplicate is None
        assert outcome.posted.number == document.number
        assert outcome.posted.total == document.gross_total
        assert outcome.posted.tax == document.tax_total
        assert outcome.posted.url
    assert len({o.posted.external_id for o in outcomes}) == 2
    assert package.connector.batch_size >= 1


def test_the_same_request_sent_again_posts_nothing_twice(package, admin):
    these = records(invoice(admin))
    key = _key()
    first = package.connector.post(admin.company, these, request_key=key)
    again = package.connector.post(admin.company, these, request_key=key)
    assert [o.posted.external_id for o in again] == [o.posted.external_id for o in first]


def test_find_recovers_a_posted_document_by_our_number_and_only_that(package, admin):
    sent, unsent = invoice(admin), invoice(admin)
    [record] = posted(package, sent)
    [other] = records(unsent)
    found = package.connector.find(admin.company, [record, other])
    assert list(found) == [record.pk]
    assert found[record.pk].external_id == record.external_id
    assert found[record.pk].number == sent.number
    assert found[record.pk].total == sent.gross_total


def test_find_recovers_a_bill_by_the_suppliers_number(package, admin, supplier):
    document = bill(admin, supplier, "M62-88411")
    [record] = posted(package, document)
    assert record.external_number == "M62-88411"
    found = package.connector.find(admin.company, [record])
    assert found[record.pk].external_id == record.external_id


def test_a_refused_document_is_an_outcome_with_problems_and_the_rest_go_in(package, admin):
    good, old = invoice(admin), invoice(admin, issue_date=OLD)
    package.refuse_old_documents()
    these = records(good, old)
    outcomes = {
        o.record_id: o for o in package.connector.post(admin.company, these, request_key=_key())
    }
    assert outcomes[these[0].pk].ok
    refused = outcomes[these[1].pk]
    assert not refused.ok and refused.messages
    assert [p.kind for p in refused.problems] == ["lock_date"]

    package.accept_old_documents()
    [again] = package.connector.post(admin.company, [these[1]], request_key=_key())
    assert again.ok


def test_a_bill_the_package_holds_from_the_same_supplier_is_not_sent(package, admin, supplier):
    package.enter_bill(supplier, "M62-90001", Decimal("768.00"))
    document = bill(admin, supplier, "m62- 90001")
    [record] = records(document)
    [outcome] = package.connector.post(admin.company, [record], request_key=_key())
    assert not outcome.ok and outcome.messages
    assert outcome.duplicate is not None and outcome.duplicate.number == "M62-90001"

    record.allow_duplicate = True
    [outcome] = package.connector.post(admin.company, [record], request_key=_key())
    assert outcome.ok


# ------------------------------------------------------------------ failures


def test_a_lost_answer_may_have_been_sent_and_find_recovers_it(package, admin):
    document = invoice(admin)
    these = records(document)
    package.lose_next_answer("post")
    with pytest.raises(TryLater) as lost:
        package.connector.post(admin.company, these, request_key=_key())
    assert lost.value.maybe_sent is True
    found = package.connector.find(admin.company, these)
    assert found[these[0].pk].number == document.number


def test_a_rate_limit_says_when_to_come_back_and_nothing_was_sent(package, admin):
    these = records(invoice(admin))
    package.rate_limit_next_call(retry_after=1)
    with pytest.raises(TryLater) as limited:
        package.connector.post(admin.company, these, request_key=_key())
    assert limited.value.retry_after == 1
    assert limited.value.maybe_sent is False
    assert package.connector.find(admin.company, these) == {}


def test_a_server_failure_is_a_passing_one_with_no_time_named(package, admin):
    these = records(invoice(admin))
    package.fail_next_post()
    with pytest.raises(TryLater) as failed:
        package.connector.post(admin.company, these, request_key=_key())
    assert failed.value.retry_after is None
    [outcome] = package.connector.post(admin.company, these, request_key=_key())
    assert outcome.ok


def test_a_used_up_day_pauses_until_a_time_to_come(package, admin):
    these = records(invoice(admin))
    package.use_up_the_day()
    with pytest.raises(PausedUntil) as paused:
        package.connector.post(admin.company, these, request_key=_key())
    assert paused.value.until > timezone.now() + dt.timedelta(hours=1)
    assert paused.value.message


def test_a_revoked_link_is_not_linked(package, admin):
    these = records(invoice(admin))
    package.revoke()
    with pytest.raises(NotLinked) as not_linked:
        package.connector.post(admin.company, these, request_key=_key())
    assert not_linked.value.message


# ------------------------------------------------------------------ follow-up steps


def test_attach_puts_the_pdf_on_the_posted_document(package, admin):
    document = invoice(admin)
    [record] = posted(package, document)
    pdf = document_pdf_ensure(document=document)
    package.connector.attach(
        admin.company, record, filename=pdf.filename, content=bytes(pdf.content)
    )
    assert package.attachments(record) == [f"{document.number}.pdf"]


def test_attaching_to_a_document_the_package_does_not_hold_is_rejected(package, admin):
    document = invoice(admin)
    [record] = records(document)
    record.external_id = str(uuid.uuid4())
    with pytest.raises(Rejected):
        package.connector.attach(admin.company, record, filename="x.pdf", content=b"%PDF-1.4\n")


def _credit_note(actor: Actor, original: Document) -> Document:
    credit = credit_note_create_from_invoice(actor=actor, invoice_id=original.pk)
    return document_finalise(actor=actor, document_id=credit.pk)


def test_allocate_applies_a_credit_note_to_its_invoice_once(package, admin):
    original = invoice(admin, "100")
    [invoice_record] = posted(package, original)
    credit = _credit_note(admin, original)
    [credit_record] = posted(package, credit)
    now = timezone.now()
    outcome = package.connector.allocate(admin.company, credit_record, invoice_record, now=now)
    assert (outcome.allocated, outcome.note) == (credit.gross_total, "")
    assert package.amount_due(invoice_record) == original.gross_total - credit.gross_total
    # Asked again (the answer was lost): the allocation it made, not "already paid".
    again = package.connector.allocate(admin.company, credit_record, invoice_record, now=now)
    assert (again.allocated, again.note) == (credit.gross_total, "")


def test_an_allocation_whose_answer_was_lost_is_recognised_on_the_retry(package, admin):
    original = invoice(admin, "100")
    [invoice_record] = posted(package, original)
    credit = _credit_note(admin, original)
    [credit_record] = posted(package, credit)
    now = timezone.now()
    package.lose_next_answer("allocate")
    with pytest.raises(TryLater) as lost:
        package.connector.allocate(admin.company, credit_record, invoice_record, now=now)
    assert lost.value.maybe_sent is True
    again = package.connector.allocate(admin.company, credit_record, invoice_record, now=now)
    assert again.allocated == credit.gross_total


def test_a_credit_note_for_a_paid_invoice_is_not_allocated_and_says_why(package, admin):
    original = invoice(admin, "100")
    [invoice_record] = posted(package, original)
    package.pay(invoice_record)
    credit = _credit_note(admin, original)
    [credit_record] = posted(package, credit)
    outcome = package.connector.allocate(
        admin.company, credit_record, invoice_record, now=timezone.now()
    )
    assert outcome.allocated == 0
    assert "already paid" in outcome.note
