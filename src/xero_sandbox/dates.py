"""Xero's date formats.

Xero's JSON carries dates as ``/Date(1573755038314+0000)/`` next to ISO
``...String`` fields, and accepts ISO dates, ISO date-times and the ``/Date()/``
form in requests. Document dates are calendar dates (midnight UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_DATE_CALL = re.compile(r"^DateTime\((\d{4}),\s*(\d{1,2}),\s*(\d{1,2})\)$")


def ms_date(value: date | datetime | float) -> str:
    """``/Date(ms+0000)/`` for a date, a datetime or epoch seconds."""
    return f"/Date({epoch_ms(value)}+0000)/"


def ms_timestamp(value: date | datetime | float) -> str:
    """``/Date(ms)/`` without the offset: how Xero writes its response envelope's
    ``DateTimeUTC`` and an organisation's ``CreatedDateUTC`` (document dates such as
    ``UpdatedDateUTC`` carry ``+0000``)."""
    return f"/Date({epoch_ms(value)})/"


def latest_ms_date(values: list[object]) -> str | None:
    """The latest of some ``/Date(...)/`` values, as ``/Date(ms+0000)/``; None if none parse."""
    dates = [d for d in (parse_date(v) for v in values) if d is not None]
    return ms_date(max(dates)) if dates else None


def epoch_ms(value: date | datetime | float) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    return int(value * 1000)


def date_string(value: date) -> str:
    """Xero's ``DateString``: ``2019-11-14T00:00:00``."""
    return f"{value.isoformat()}T00:00:00"


def datetime_string(epoch_seconds: float) -> str:
    dt = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def parse_date(value: object) -> date | None:
    """A request's date: ISO date, ISO date-time or ``/Date(ms)/``; None if unreadable."""
    if isinstance(value, date | datetime):
        return value.date() if isinstance(value, datetime) else value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match[1]))).date()
    match = _DATE_CALL.match(text)
    if match:
        return date(int(match[1]), int(match[2]), int(match[3]))
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_timestamp(value: str) -> float | None:
    """An ``If-Modified-Since`` value: HTTP date, ISO date-time or ``/Date()/``."""
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return int(match[1]) / 1000
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def display_date(value: date) -> str:
    """``31 Jan 2026``, as Xero writes dates in messages."""
    return f"{value.day} {value.strftime('%b %Y')}"
