"""Id-first paging: a deep page costs what the first one does.

A list page joins each document with its partner, sync record and payment
state. Sliced directly, the database builds those joined rows for every
document before the offset, sorts them, and keeps 50. Here the page's ids are
read first from the filtered, ordered query alone (an index scan when the
ordering index serves it), then only those rows are loaded with their joins
and prefetches, and put back in the page's order.

``IdFirst`` stands in for the queryset where Django's ``Paginator`` or ninja's
page-number pagination takes one: it counts, and slices into a list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar, overload

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


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
