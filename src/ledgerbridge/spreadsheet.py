"""CSV files people open in a spreadsheet: every CSV LedgerBridge writes goes
through ``SafeCsvWriter``.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in
some, a tab or carriage return) as a formula, whatever the file meant: a partner
named ``=HYPERLINK("http://…","x")`` becomes a link, ``@SUM(1+1)*cmd|' /C calc'!A0``
a command. As OWASP recommends for CSV, such a cell is written with a leading
single quote, which spreadsheets read as "this is text". Plain numbers (``-12.50``,
``-1.4325``) are not formulas and stay as they are, so amounts remain numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a cell no spreadsheet will run: text that could start a formula
    gets a leading ``'``; plain numbers and other values are returned unchanged."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through ``spreadsheet_safe``."""

    def __init__(self, buffer: Any, **options: Any) -> None:
        self._writer = csv.writer(buffer, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])
