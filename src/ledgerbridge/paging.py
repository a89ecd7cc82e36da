"""Id-first paging: a deep page costs what the first one does.

A list page joins each document with its partner, sync record and payment
state. Sliced directly, the database builds those joined rows for every
document before the offset, sorts them, and keeps 50. Here the page's ids are
read first from the filtered, ordered query alone (an index scan when the
ordering index serves it), then only those rows are loaded with their joins
and prefetches, and put back in the page's order.

``IdFirst`` stands in for the queryset where Django's ``Paginator`` or ninja's
page-number pagination takes one: it counts, and slices into a list.

An offset still reads every id before it, so an API client walking the whole
ledger pays more per page the deeper it is. A cursor names the last row read by
its place in the ordering (newest issue date first, then highest id), and the
next page starts from there in the index: ``cursor_of`` and ``after``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterator
from typing import Any, Generic, TypeVar, overload

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)

# A list whose count is capped counts this many rows past its page at most, and
# says "more than 10,000" beyond.
COUNT_CAP = 10_000


def count_limit(*, offset: int, page_size: int, cap: int | None = None) -> int:
    """How far a capped count goes for a page starting at ``offset``: to the next
    multiple of ``cap`` (``COUNT_CAP`` unless told) past the page, so "next" always
    leads on."""
    cap = cap or COUNT_CAP
    return cap * ((offset + page_size) // cap + 1)


class InvalidCursor(ValueError):
    """A cursor this list did not hand out (edited, truncated, or of another list)."""


def cursor_of(row: Any, *, date_field: str) -> str:
    """The opaque cursor naming ``row``'s place in a newest-first list."""
    place = f"{getattr(row, date_field).isoformat()}.{row.pk}"
    return base64.urlsafe_b64encode(place.encode()).decode().rstrip("=")


def after(queryset: QuerySet[M], cursor: str, *, date_field: str) -> QuerySet[M]:
    """The rows of ``queryset`` (ordered by ``-date_field, -id``) that come after ``cursor``."""
    try:
        place = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        day, pk = place.split(".")
        date, number = dt.date.fromisoformat(day), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursor(cursor) from error
    if not 0 < number < 2**63:  # beyond any id the database can hold
        raise InvalidCursor(cursor)
    # The plain bound on the date lets the ordering index start at the cursor's day;
    # the Q then skips the rows of that day already read.
    return queryset.filter(
        Q(**{f"{date_field}__lt": date}) | Q(**{date_field: date, "pk__lt": number}),
        **{f"{date_field}__lte": date},
    )


class IdFirst(Generic[M]):
    """``queryset`` read a page at a time: ids first, then the page's rows."""

    def __init__(self, queryset: QuerySet[M], *, count_limit: int | None = None) -> None:
        self.queryset = queryset
        # Without the joins only for loading; filters and ordering stay.
        self._ids = queryset.select_related(None).prefetch_related(None)
        # Count no further than this: a filter through a join (e.g. posted to Xero)
        # would otherwise join every document the filter keeps to count them.
        self.count_limit = count_limit
        self.count_capped = False

    @property
    def ordered(self) -> bool:
        return self.queryset.ordered

    def all(self) -> IdFirst[M]:
        return self

    def count(self) -> int:
        if self.count_limit is None:
            return self._ids.count()
        # One more than the limit says there are more; reported as limit + 1.
        found = self._ids.order_by().values("pk")[: self.count_limit + 1].count()
        self.count_capped = found > self.count_limit
        return found

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[M]:
        return iter(self.queryset)

    @overload
    def __getitem__(self, index: int) -> M: ...

    @overload
    def __getitem__(self, index: slice) -> list[M]: ...

    def __getitem__(self, index: int | slice) -> M | list[M]:
        if not isinstance(index, slice):
            return self.queryset[index]
        ids = list(self._ids.values_list("pk", flat=True)[index])
        if not ids:
            return []
        rows = {row.pk: row for row in self.queryset.filter(pk__in=ids).order_by()}
        return [rows[pk] for pk in ids if pk in rows]
