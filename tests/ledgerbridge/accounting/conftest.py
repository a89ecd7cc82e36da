"""The outbox's fast layer: a company on the accounting package's API, served by the fake."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ledgerbridge.accounting.connector import connector_registered, reader_registered
from ledgerbridge.accounting.fake import FakeConnector
from ledgerbridge.accounting.models import AccountingPackage, AccountingSettings, SyncStatus
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.companies.models import Company, Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document, Task
from ledgerbridge.invoicing.workflow import task_complete
from tests.ledgerbridge.factories import (
    make_actor,
    make_company,
    make_document,
    store_stand_in_pdf,
)


@pytest.fixture
def package():
    """The fake package, in place of Xero for every company on the API while the test runs."""
    fake = FakeConnector()
    with connector_registered(AccountingPackage.XERO_API, lambda: fake):
        yield fake


@pytest.fixture
def books(package):
    """The fake package, read back for reconciliation too (its ``BooksReader``)."""
    with reader_registered(AccountingPackage.XERO_API, lambda: package):
        yield package


@pytest.fixture
def admin() -> Actor:
    """The Super Admin of a company posting through the package's API (auto-posting);
    tests that run the outbox ask for ``package`` too."""
    company = make_company("Northway Haulage Ltd")
    AccountingSettings.objects.create(company=company, package=AccountingPackage.XERO_API)
    return make_actor(company, Role.SUPER_ADMIN)


@pytest.fixture
def manual(admin) -> Actor:
    """The same company, whose "Post to Xero" tasks wait for a user to complete them."""
    AccountingSettings.objects.filter(company=admin.company).update(auto_post_sales_invoice=False)
    return admin


def post_all(company: Company, runs: int = 3) -> None:
    """Run the worker a few times, as the queue and the sweep would (due or not)."""
    from ledgerbridge.accounting.models import SyncRecord

    for _ in range(runs):
        SyncRecord.objects.filter(company=company, status=SyncStatus.PENDING).update(
            next_attempt_at=None
        )
        sync_company_run(company_id=company.pk, now=timezone.now())


def final(actor: Actor, **kwargs) -> Document:
    """A final document (one line unless told), a stand-in PDF stored in place of
    rendering one (about a second each, which would be most of these tests' time);
    rendering is tested with the documents."""
    document = make_document(actor, finalise=True, **{"lines": 1, **kwargs})
    store_stand_in_pdf(document)
    return document


def queue(actor: Actor, count: int, **kwargs) -> list[Document]:
    """Final documents whose "Post to Xero" a user completed: records pending."""
    documents = [final(actor, **kwargs) for _ in range(count)]
    for document in documents:
        task_complete(
            actor=actor, task_id=Task.objects.get(document=document, type="post_to_xero").pk
        )
    return documents
