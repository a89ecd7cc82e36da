"""Accounting calls to Xero through the official SDK, behind one small adapter.

The adapter owns what the SDK leaves to us: fresh credentials per call (see
``connection``), timeouts, and mapping every failure to a typed ``XeroError``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import quote_plus

import urllib3
from django.conf import settings
from django.utils import timezone
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException

from ledgerbridge.accounting.connector import package_call_noted
from ledgerbridge.companies.models import Company
from ledgerbridge.metrics import xero_call_counted

from . import connection
from .errors import (
    XeroAuthRejected,
    XeroError,
    XeroNotFound,
    XeroRateLimited,
    XeroUnavailable,
    XeroValidation,
    unreachable_words,
)
from .ratelimit import MINUTE, rate_limiter

T = TypeVar("T")
# (connect, read) seconds. The SDK ignores a float, so this must be a tuple or an int.
REQUEST_TIMEOUT = (5, 30)
# Xero refuses a URL longer than about 2,091 characters with a 404 (its gateway;
# XeroAPI/Xero-NetStandard#471, Xero-OpenAPI#534). Reading by id asks for at most
# 50 ``IDs=`` (52 fit, with commas sent as %2C); a where clause or list of ids of
# any other shape is packed by its encoded length (``url_groups``).
XERO_MAX_URL = 2091
IDS_PER_CALL = 50
# What the origin, the path and a request's other parameters take at most, so that
# one packed parameter may have the rest.
URL_ROOM = 250


def url_groups(
    items: Sequence[T], term: Callable[[T], str], *, joiner: str = " OR "
) -> Iterator[tuple[list[T], str]]:
    """``items`` in groups whose terms, joined, stay within the URL length Xero
    takes once encoded as the SDK sends them (spaces as +, quotes and commas
    escaped); each group with its joined text (a where clause, or ids for a list
    parameter with ``joiner=","``). An item too long for a URL of its own is a
    group of its own: Xero says so, in its words, rather than it being dropped."""
    budget = XERO_MAX_URL - URL_ROOM
    joiner_length = len(quote_plus(joiner))
    group: list[T] = []
    pieces: list[str] = []
    length = 0
    for item in items:
        piece = term(item)
        added = len(quote_plus(piece)) + (joiner_length if group else 0)
        if group and length + added > budget:
            yield group, joiner.join(pieces)
            group, pieces, length = [], [], 0
            added = len(quote_plus(piece))
        group.append(item)
        pieces.append(piece)
        length += added
    if group:
        yield group, joiner.join(pieces)


# Waits longer than this are not slept through: the job is rescheduled instead,
# so one company's backlog does not hold a worker that others need.
MAX_INLINE_WAIT = 5.0


def _timeouts() -> tuple[float, tuple[float, float]]:
    """The inline wait and the (connect, read) timeouts, all within the worker's lease.

    A worker renews its lease before each call; the wait and the call together
    must end before the lease does, or a second worker could settle the same
    documents while the first one's request is still on its way.
    """
    lease = settings.WORKER_LEASE_SECONDS
    connect, read = REQUEST_TIMEOUT
    return min(MAX_INLINE_WAIT, lease / 8), (min(connect, lease / 8), min(read, lease / 2))


def accounting_base_url() -> str:
    return f"{settings.XERO_API_URL}/api.xro/2.0"


def sdk_configuration() -> Configuration:
    """A Configuration of our own for each client.

    The SDK's ``Configuration()`` hands out copies of the first one ever made,
    sharing its OAuth2Token object, so arguments given later are ignored and
    tokens would leak between clients. Setting the token on the copy keeps
    each client's credentials its own.
    """
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id="", client_secret="")
    return configuration


class XeroClient:
    """Calls for one company's organisation.

    ``interactive``: a person is waiting for these calls (Check setup, Authorise,
    Check payments now, a Retry...). They go ahead of the backlog, which leaves
    them room (see ``ratelimit``); the backlog's calls leave it as they find it.
    """

    def __init__(
        self,
        company: Company,
        *,
        interactive: bool = False,
        reading: bool = False,
        on_answer: Callable[[int], None] | None = None,
    ) -> None:
        self.company = company
        self.interactive = interactive
        # Reading the books (reconciliation): after posting and people, within its
        # share of the day (see ``ratelimit``).
        self.reading = reading
        # Told the size of every answer's body as received (success or error, 0 when
        # none came): what reading the books downloaded.
        self.on_answer = on_answer
        self._credentials = connection.xero_credentials(company=company)
        # No expiry given: the SDK then never tries to refresh; ``connection`` does.
        self._token: dict[str, Any] = {
            "access_token": self._credentials.access_token,
            "token_type": "Bearer",
            "scope": [],
            "expires_in": None,
        }
        api_client = ApiClient(
            sdk_configuration(), pool_threads=1, oauth2_token_getter=lambda: self._token
        )
        # urllib3 would otherwise retry 429/503 by itself, sleeping Retry-After
        # (an hour, for the daily limit) inside the worker. We decide instead.
        api_client.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(
            total=0, redirect=0, raise_on_status=False, respect_retry_after_header=False
        )
        if reading:
            # Xero prices apps partly by data downloaded: a compressed answer, where
            # Xero sends one, costs less (urllib3 decodes it; the meter counts the wire).
            api_client.set_default_header("Accept-Encoding", "gzip")
        self.api = AccountingApi(api_client, base_url=accounting_base_url())

    @property
    def tenant_id(self) -> str:
        return self._credentials.tenant_id

    def _wait_for_room(self) -> None:
        limiter = rate_limiter()
        deadline = time.monotonic() + _timeouts()[0]
        while True:
            now = time.time()
            wait = limiter.acquire(
                self.tenant_id,
                interactive=self.interactive,
                reading_share=settings.RECONCILE_DAILY_SHARE if self.reading else None,
                now=now,
            )
            if wait <= 0:
                return
            if time.monotonic() + wait > deadline:
                day = wait > 2 * MINUTE / limiter.scale
                raise XeroRateLimited(
                    self._limited_message(wait, day=day, now=now),
                    retry_after=wait,
                    problem="day" if day else "minute",
                )
            time.sleep(wait)

    def _limited_message(self, wait: float, *, day: bool, now: float) -> str:
        limit = "daily" if day else "per-minute"
        if not self.interactive:
            return f"Holding back to stay within Xero's {limit} limit; next call in {wait:.0f} s."
        # Even the calls kept for people are in use (several people at once, or
        # a day used up): say when to try again rather than fail without a time.
        at = timezone.localtime(dt.datetime.fromtimestamp(now + wait, tz=dt.UTC))
        when = f"at {at:%H:%M}" if day else f"in {wait:.0f} s (at {at:%H:%M:%S})"
        return f"Xero's {limit} limit for this organisation is used up for now; try again {when}."

    def call(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one SDK operation for this tenant within the limits, mapping failures to XeroError.

        A 401 gets one fresh token and one more try; a second 401 (or a 403)
        means the link needs a person.
        """
        for attempt in (1, 2):
            self._wait_for_room()
            try:
                # With _return_http_data_only=False the SDK answers (data, status, headers).
                answer: Any = operation(
                    self.tenant_id,
                    *args,
                    _request_timeout=_timeouts()[1],
                    _return_http_data_only=False,
                    **kwargs,
                )
                data, status, headers = answer
            except ApiException as error:
                self._answered(error.body)
                xero_call_counted(operation=_name(operation), status=error.status or 0)
                package_call_noted(correlation_id(error.headers))
                rate_limiter().observe(self.tenant_id, dict(error.headers or {}))
                mapped = map_api_exception(error)
                if isinstance(mapped, XeroAuthRejected):
                    if mapped.status == 401 and attempt == 1:
                        self._renew_token()
                        continue
                    connection.xero_call_rejected(company=self.company, message=mapped.message)
                raise mapped from error
            except (urllib3.exceptions.HTTPError, OSError) as error:
                self._answered(None)
                xero_call_counted(operation=_name(operation), status=0)
                package_call_noted("")  # no answer, no id
                raise XeroUnavailable(
                    f"Xero could not be reached: {unreachable_words(error)}."
                ) from error
            self._answered(_wire_body(self.api.api_client.last_response))
            xero_call_counted(operation=_name(operation), status=status)
            package_call_noted(correlation_id(headers))
            rate_limiter().observe(self.tenant_id, dict(headers or {}))
            connection.xero_call_succeeded(company=self.company)
            return cast(T, data)
        raise AssertionError("unreachable")

    def _answered(self, body: Any) -> None:
        """Tell ``on_answer`` what an answer's body weighed (bytes, or its size in bytes)."""
        if self.on_answer is None:
            return
        if isinstance(body, str):
            body = body.encode()
        if isinstance(body, bytes):
            body = len(body)
        self.on_answer(body if isinstance(body, int) else 0)

    def _renew_token(self) -> None:
        self._credentials = connection.xero_credentials(company=self.company, force_refresh=True)
        self._token["access_token"] = self._credentials.access_token


def _wire_body(response: Any) -> bytes | int | None:
    """The answer the SDK just read, measured as it came over the wire (compressed, if
    it was), else its body: counted, never read again."""
    raw = getattr(response, "urllib3_response", None)
    wire = raw.tell() if raw is not None and hasattr(raw, "tell") else 0
    return wire if isinstance(wire, int) and wire > 0 else getattr(response, "data", None)


def correlation_id(headers: Any) -> str:
    """Xero's ``Xero-Correlation-Id`` of an answer (on every one): what Xero support asks for."""
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "xero-correlation-id":
            return str(value)[:100]
    return ""


def map_api_exception(error: ApiException) -> XeroError:
    status = error.status or 0
    body = _json(error.body)
    headers = {k.lower(): v for k, v in (error.headers or {}).items()}
    if status == 429:
        retry_after = float(headers.get("retry-after") or 60)
        problem = headers.get("x-rate-limit-problem", "")
        return XeroRateLimited(
            f"Xero's {problem or 'rate'} limit was reached; retrying after {retry_after:.0f} s.",
            retry_after=retry_after,
            problem=problem,
        )
    if status in (401, 403):
        detail = body.get("Detail") or body.get("Title") or error.reason or ""
        return XeroAuthRejected(
            f"Xero refused access (HTTP {status}{': ' + str(detail) if detail else ''}). "
            "A Super Admin must authorise the link again.",
            status=status,
        )
    if status == 404:
        return XeroNotFound("Xero does not know this item.", status=404)
    if status == 400:
        messages = validation_messages(body)
        return XeroValidation("; ".join(messages) or "Xero refused the data.", messages=messages)
    if status >= 500 or status == 0:
        return XeroUnavailable(
            f"Xero had a problem (HTTP {status}); trying again later.", status=status
        )
    return XeroError(f"Xero answered HTTP {status}.", status=status)


def _json(raw: Any) -> dict[str, Any]:
    if isinstance(raw, bytes | str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def validation_messages(body: dict[str, Any]) -> list[str]:
    """The ``ValidationErrors`` messages of a Xero ValidationException body."""
    messages: list[str] = []
    for element in body.get("Elements") or []:
        for item in element.get("ValidationErrors") or []:
            if item.get("Message") and item["Message"] not in messages:
                messages.append(item["Message"])
    if not messages and body.get("Message"):
        messages.append(str(body["Message"]))
    return messages


def _name(operation: Callable[..., Any]) -> str:
    """The SDK method's name (get_invoices...): one of a fixed set, a safe label."""
    return str(getattr(operation, "__name__", "other"))
