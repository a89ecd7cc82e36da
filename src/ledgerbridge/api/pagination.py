"""Page-number pagination with a page number the database can take."""

# No `from __future__ import annotations`: ninja reads these annotations at runtime.
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

# Pages beyond this would be empty anyway; a far larger one overflowed the
# OFFSET (a 500 found by fuzzing the API).
MAX_PAGE = 1_000_000


class Pages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1)
