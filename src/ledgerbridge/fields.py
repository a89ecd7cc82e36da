"""Model fields shared by the apps."""

from __future__ import annotations

import decimal
from typing import Any

from django.db import models
from django.utils.functional import cached_property

# Wide enough to hold, at any of our decimal places, every finite number a
# database column can hand back (SQLite's REAL goes up to about 1.8e308), and
# without traps: reading a row must never raise.
_READ_CONTEXT = decimal.Context(prec=400, traps=[])


class SafeDecimalField(models.DecimalField):
    """A ``DecimalField`` whose stored values always read back.

    SQLite does not enforce ``max_digits``, and Django's SQLite converter
    quantizes every value it reads within a context of ``max_digits`` digits
    (``context`` below), so one value wider than its column raised
    ``InvalidOperation`` on every read of its row: every page, PDF, export and
    even the delete of that document failed. Here a wide value reads back whole
    (quantized to ``decimal_places``), and a stored infinity reads as NaN, so
    that a reader can show the figure and the data check can report it.
    PostgreSQL refuses such values when they are written.

    The column is the same as a ``DecimalField``'s, so migrations name the
    plain field.
    """

    @cached_property
    def context(self) -> decimal.Context:
        return _READ_CONTEXT

    def to_python(self, value: Any) -> Any:
        if isinstance(value, float):
            # As DecimalField does: a float carries max_digits significant digits.
            value = decimal.Context(prec=self.max_digits).create_decimal_from_float(value)
        return super().to_python(value)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
