"""Page-number pagination with a page number the database can take, and cursors."""

# No `from __future__ import annotations`: ninja reads these annotations at runtime.
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import ValidationError
from ninja.pagination import PageNumberPagination, PaginationBase

from ledgerbridge import paging
from ledgerbridge.paging import IdFirst, InvalidCursor, after, count_limit, cursor_of

# Pages beyond this would be empty anyway; a far larger one overflowed the
# OFFSET (a 500 found by fuzzing the API).
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100


class Pages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1)


class CursorPages(PaginationBase):
    """Pages of a newest-first list by number or by cursor, with a count that stops.

    A page number reads every id before its page, and an exact count every
    matching id: both grow with the ledger. ``next`` names where this page ends,
    so a client walking the whole list (``after=next`` until ``next`` is null)
    pays the first page's cost on every page. ``count`` is counted to at most
    10,000 past the page asked (10,000 when paging by cursor); beyond, it is one
    more than that limit and ``count_capped`` is true.
    """

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description="page number, from 1")
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)
        after: str | None = Field(
            None,
            description="the `next` of the previous answer: the page after it (`page` is then ignored)",
        )

    class Output(Schema):
        items: list[Any]
        count: int = Field(
            description=(
                "documents matching, counted to at most 10,000 past the page asked "
                "(10,000 when paging by `after`); when there are more, one more than "
                "that limit, and `count_capped` is true"
            )
        )
        count_capped: bool = Field(description="there are more documents than `count`")
        next: str | None = Field(
            description="pass as `after` for the following page; null on the last page"
        )

    def __init__(self, *, date_field: str, page_size: int = 50, **kwargs: Any) -> None:
        self.date_field = date_field
        self.page_size = page_size
        super().__init__(**kwargs)

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        size = pagination.page_size or self.page_size
        # The order the cursor names places in, whatever the query had.
        queryset = queryset.order_by(f"-{self.date_field}", "-pk")
        if pagination.after:
            try:
                rows = after(queryset, pagination.after, date_field=self.date_field)
            except InvalidCursor:
                raise ValidationError(
                    [{"loc": ["query", "after"], "msg": "This is not a `next` this list gave."}]
                ) from None
            offset, limit = 0, paging.COUNT_CAP
        else:
            rows, offset = queryset, (pagination.page - 1) * size
            limit = count_limit(offset=offset, page_size=size)
        # One more row than the page says whether another follows.
        items = IdFirst(rows)[offset : offset + size + 1]
        counted = IdFirst(queryset, count_limit=limit)
        count = counted.count()
        return {
            "items": items[:size],
            "count": count,
            "count_capped": counted.count_capped,
            "next": cursor_of(items[size - 1], date_field=self.date_field)
            if len(items) > size
            else None,
        }
