"""Reading a Xero organisation's books for reconciliation and going live (the port's
``BooksReader``).

Cheap by construction, because Xero counts calls (5,000 a day per organisation)
and, since March 2026, prices apps partly by data downloaded:

- a period is read in pages at Xero's largest ``pageSize`` (1,000), every status
  asked for by name, dated in the period, and with ``If-Modified-Since`` when
  only changes are wanted. Invoices come as summaries (``summaryOnly=true``: no
  lines, no payments) unless the caller wants lines: Xero's paged lists carry
  line items, so a page with lines costs one call as a summary page does, only
  more bytes, and saves reading the documents again by id. Credit notes have no
  summary in Xero's API: their pages always carry their lines (``lines_read``);
- details are read in batches of ids (``IDs=`` for invoices, a where clause of
  ids for credit notes, as ``polling`` does), only for the documents the
  caller needs;
- every call goes through the shared limiter after posting and people, within
  ``RECONCILE_DAILY_SHARE`` of the organisation's day, and adds one call and
  the answer's bytes to the caller's ``ReadMeter``.

The mapping from Xero's shapes is ``payloads``' (``remote_document``,
``remote_contact``); this module only asks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from itertools import count
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from ledgerbridge.accounting.connector import (
    ConnectorError,
    NotLinked,
    PausedUntil,
    ReadMeter,
    RemoteContact,
    RemoteDocument,
    TryLater,
    reader_register,
)
from ledgerbridge.accounting.models import AccountingPackage
from ledgerbridge.companies.models import Company
from ledgerbridge.iterables import chunks

from .client import IDS_PER_CALL, XeroClient, url_groups
from .errors import XeroAuthRejected, XeroError, XeroRateLimited, XeroUnavailable
from .models import XeroConnection
from .payloads import enum_value, remote_contact, remote_document
from .posting import deep_link
from .ratelimit import rate_limiter, reading_allowance

T = TypeVar("T")

# Xero's largest page (``pageSize``); its default is 100.
PAGE_SIZE = 1000
# Asked for by name: Xero's defaults leave some out of lists.
ALL_STATUSES = ["DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"]


def _day(value: dt.date) -> str:
    return f"DateTime({value.year},{value.month:02},{value.day:02})"


def _period(date_from: dt.date, date_to: dt.date) -> str:
    return f"Date>={_day(date_from)} AND Date<={_day(date_to)}"


def _last_page(result: Any, page: int, items: Sequence[Any]) -> bool:
    """Xero's ``pagination`` says how many pages there are; without it, a short page is the last."""
    pagination = getattr(result, "pagination", None)
    page_count = getattr(pagination, "page_count", None)
    if isinstance(page_count, int):
        return page >= page_count
    return len(items) < PAGE_SIZE


class XeroBooksReader:
    """The organisation's invoices, bills, credit notes and contacts, read cheaply."""

    # -- plumbing ----------------------------------------------------------------------
    def _client(self, company: Company, meter: ReadMeter) -> XeroClient:
        try:
            return XeroClient(
                company, reading=True, on_answer=lambda size: meter.add(calls=1, size=size)
            )
        except XeroAuthRejected as error:
            raise NotLinked(error.message) from error
        except XeroError as error:  # the login service could not be reached
            raise TryLater(error.message, maybe_sent=False) from error

    def _call(self, client: XeroClient, operation: Callable[..., T], **kwargs: Any) -> T:
        try:
            return client.call(operation, **kwargs)
        except XeroRateLimited as error:
            if error.problem == "day":
                until = timezone.now() + dt.timedelta(seconds=error.retry_after or 3600)
                raise PausedUntil(_paused_message(client, until), until=until) from error
            raise TryLater(
                "Reading Xero for reconciliation waits for posting and people to use the "
                f"organisation's calls first; it can read again in {error.retry_after or 60:.0f} s.",
                retry_after=error.retry_after,
                maybe_sent=False,
            ) from error
        except XeroUnavailable as error:
            raise TryLater(error.message, maybe_sent=False) from error
        except XeroAuthRejected as error:
            raise NotLinked(error.message) from error
        except XeroError as error:
            raise ConnectorError(error.message) from error

    @staticmethod
    def _short_code(company: Company) -> str:
        return (
            XeroConnection.objects.filter(company=company)
            .values_list("short_code", flat=True)
            .first()
            or ""
        )

    @staticmethod
    def _document(item: Any, short_code: str) -> RemoteDocument:
        xero_id = str(getattr(item, "invoice_id", None) or getattr(item, "credit_note_id", ""))
        kind = enum_value(item.type)
        url = deep_link(short_code, kind, xero_id) if short_code and kind else ""
        return remote_document(item, url=url)

    # -- the port ----------------------------------------------------------------------
    def documents_read(
        self,
        company: Company,
        *,
        date_from: dt.date,
        date_to: dt.date,
        meter: ReadMeter,
        modified_since: dt.datetime | None = None,
        lines: bool = False,
    ) -> Iterator[RemoteDocument]:
        client = self._client(company, meter)
        short_code = self._short_code(company)
        since: dict[str, Any] = {"if_modified_since": modified_since} if modified_since else {}
        where = _period(date_from, date_to)
        for page in count(1):
            result = self._call(
                client,
                client.api.get_invoices,
                where=where,
                statuses=ALL_STATUSES,
                summary_only=not lines,
                page=page,
                page_size=PAGE_SIZE,
                **since,
            )
            invoices = result.invoices or []
            for invoice in invoices:
                yield self._document(invoice, short_code)
            if _last_page(result, page, invoices):
                break
        for page in count(1):
            answer = self._call(
                client,
                client.api.get_credit_notes,
                where=where,
                page=page,
                page_size=PAGE_SIZE,
                **since,
            )
            credit_notes = answer.credit_notes or []
            for credit_note in credit_notes:
                yield self._document(credit_note, short_code)
            if _last_page(answer, page, credit_notes):
                break

    def documents_detail(
        self, company: Company, external_ids: Sequence[str], *, meter: ReadMeter
    ) -> list[RemoteDocument]:
        """Invoices by ``IDs=`` first; the ids Xero did not know as invoices are read
        as credit notes (the port does not say which is which)."""
        wanted = sorted({i.lower() for i in external_ids if i})
        if not wanted:
            return []
        client = self._client(company, meter)
        short_code = self._short_code(company)
        found: dict[str, RemoteDocument] = {}
        for chunk in chunks(wanted, IDS_PER_CALL):
            # page=1: Xero's lists carry line items only when paged or asked by id.
            result = self._call(client, client.api.get_invoices, i_ds=chunk, page=1)
            for invoice in result.invoices or []:
                document = self._document(invoice, short_code)
                found[document.external_id.lower()] = document
        rest = [i for i in wanted if i not in found]
        for _, where in url_groups(rest, lambda i: f'CreditNoteID==Guid("{i}")'):
            answer = self._call(client, client.api.get_credit_notes, where=where, page=1)
            for credit_note in answer.credit_notes or []:
                document = self._document(credit_note, short_code)
                found[document.external_id.lower()] = document
        return [found[i] for i in wanted if i in found]

    def contacts_read(self, company: Company, *, meter: ReadMeter) -> Iterator[RemoteContact]:
        client = self._client(company, meter)
        for page in count(1):
            result = self._call(
                client,
                client.api.get_contacts,
                include_archived=True,
                summary_only=True,
                page=page,
                page_size=PAGE_SIZE,
            )
            contacts = result.contacts or []
            for contact in contacts:
                yield remote_contact(contact)
            if _last_page(result, page, contacts):
                break


def _paused_message(client: XeroClient, until: dt.datetime) -> str:
    share = settings.RECONCILE_DAILY_SHARE
    at = f"{timezone.localtime(until):%H:%M}"
    used = rate_limiter().reading_used(client.tenant_id, share=share)
    if used >= reading_allowance(share):
        return (
            f"Reading Xero for reconciliation has used its share of the organisation's daily "
            f"calls ({share:.0%}, {used:,} calls), leaving the rest to posting and people; "
            f"it can read again from {at}."
        )
    return (
        "Xero's daily limit for this organisation is nearly used up and is kept for posting "
        f"and people; reading for reconciliation can go on from {at}."
    )


def register() -> None:
    reader_register(AccountingPackage.XERO_API, XeroBooksReader)
