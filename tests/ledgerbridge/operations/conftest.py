"""Companies in every state the operations page shows, made without the slow paths."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.test import Client
from django.utils import timezone

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.companies.models import Company, Role
from ledgerbridge.invoicing.models import Document, DocumentType, Partner, PartnerKind
from ledgerbridge.xero.models import LinkStatus, XeroConnection, XeroPaymentPoll
from tests.ledgerbridge.factories import PASSWORD, make_company, make_user

_seq = itertools.count(1)


def make_operated_company(
    name: str | None = None,
    *,
    package: str = "xero_api",
    link: str | None = LinkStatus.CONNECTED,
    tenant_name: str = "",
    last_error: str = "",
    pending: int = 0,
    posting: int = 0,
    failed: int = 0,
    needs_attention: int = 0,
    posted: int = 0,
    failure_message: str = "",
    waiting_since: dt.datetime | None = None,
    paused_until: dt.datetime | None = None,
    polled_at: dt.datetime | None = None,
) -> Company:
    """A company with its package, Xero link and sync records as given (rows written directly)."""
    n = next(_seq)
    company = make_company(name or f"Operated {n:04d} Ltd", starter=False)
    AccountingSettings.objects.create(company=company, package=package, paused_until=paused_until)
    if link is not None:
        connected = link != LinkStatus.NOT_CONNECTED
        XeroConnection.objects.create(
            company=company,
            status=link,
            tenant_id=f"tenant-{company.pk}" if connected else "",
            tenant_name=tenant_name or (f"{company.legal_name} (Xero)" if connected else ""),
            last_error=last_error,
            last_error_at=timezone.now() if last_error else None,
        )
    if polled_at:
        XeroPaymentPoll.objects.create(company=company, last_polled_at=polled_at)
    statuses = (
        [SyncStatus.PENDING] * pending
        + [SyncStatus.POSTING] * posting
        + [SyncStatus.FAILED] * failed
        + [SyncStatus.NEEDS_ATTENTION] * needs_attention
        + [SyncStatus.POSTED] * posted
    )
    if statuses:
        partner = Partner.objects.create(
            company=company, kind=PartnerKind.CUSTOMER, number="C0001", name="Customer Ltd"
        )
        documents = Document.objects.bulk_create(
            Document(
                company=company,
                type=DocumentType.SALES_INVOICE,
                status="final",
                partner=partner,
                issue_date=dt.date(2026, 11, 2),
                due_date=dt.date(2026, 12, 2),
            )
            for _ in statuses
        )
        SyncRecord.objects.bulk_create(
            SyncRecord(
                company=company,
                document=document,
                status=status,
                message=failure_message if status in ("failed", "needs_attention") else "",
            )
            for document, status in zip(documents, statuses, strict=True)
        )
        if waiting_since:
            SyncRecord.objects.filter(company=company).update(created_at=waiting_since)
    return company


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    user = make_user(platform_staff=True)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def member_client(db):
    """``member_client(role)``: logged in as a member (not platform staff) of a company."""

    def make(role: str = Role.SUPER_ADMIN) -> Client:
        client = Client()
        user = make_user(make_company(starter=False), role)
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return make
