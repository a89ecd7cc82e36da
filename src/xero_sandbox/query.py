"""Reading Xero list queries: the ``where`` filter, ``order``, paging.

``where`` is a small C#-like expression language at Xero. The sandbox supports
what clients really send: comparisons (``==``, ``!=``, ``<``, ``<=``, ``>``,
``>=``) of a (dotted) field with a string, number, boolean, ``null``,
``Guid("...")`` or ``DateTime(y, m, d)``; ``.Contains("x")``,
``.StartsWith("x")``, ``.EndsWith("x")``; joined with ``AND`` / ``&&`` or
``OR`` / ``||`` (AND binds tighter), optional outer parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .dates import parse_date
from .store import Json

Predicate = Callable[[Json], bool]


class BadQuery(ValueError):
    """A where/order clause the sandbox cannot read."""


_CONDITION = re.compile(
    r"""^\s*(?P<field>[A-Za-z_][\w.]*)\s*
    (?:
        (?P<op>==|!=|>=|<=|>|<)\s*(?P<value>.+?)
      | \.(?P<method>Contains|StartsWith|EndsWith)\(\s*"(?P<arg>(?:[^"\\]|\\.)*)"\s*\)
    )\s*$""",
    re.VERBOSE,
)
_SPLIT_OR = re.compile(r"\s+OR\s+|\s*\|\|\s*", re.IGNORECASE)
_SPLIT_AND = re.compile(r"\s+AND\s+|\s*&&\s*", re.IGNORECASE)


def _strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    in_string = False
    for char in text:
        if char == '"':
            in_string = not in_string
        elif not in_string:
            depth += (char == "(") - (char == ")")
            if depth < 0:
                return False
    return depth == 0


def _split_outside_strings(pattern: re.Pattern[str], text: str) -> list[str]:
    # Protect quoted strings so " AND " inside a name is not a conjunction.
    strings: list[str] = []

    def hide(match: re.Match[str]) -> str:
        strings.append(match.group(0))
        return f"\x00{len(strings) - 1}\x00"

    hidden = re.sub(r'"(?:[^"\\]|\\.)*"', hide, text)
    parts = pattern.split(hidden)
    return [re.sub(r"\x00(\d+)\x00", lambda m: strings[int(m[1])], p) for p in parts]


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return text[1:-1].replace('\\"', '"')
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered == "null":
        return None
    match = re.fullmatch(r'Guid\(\s*"([0-9a-fA-F-]{36})"\s*\)', text)
    if match:
        return match[1].lower()
    match = re.fullmatch(r"DateTime\(\s*(\d{4})\s*,\s*(\d{1,2})\s*,\s*(\d{1,2})[\s\d,]*\)", text)
    if match:
        return date(int(match[1]), int(match[2]), int(match[3]))
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise BadQuery(f"cannot read value {text!r}") from exc


def field_value(doc: Json, path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        # Xero field names are case-insensitive in where clauses.
        if part in value:
            value = value[part]
        else:
            lowered = part.lower()
            value = next((v for k, v in value.items() if k.lower() == lowered), None)
    return value


def _coerce_pair(actual: Any, expected: Any) -> tuple[Any, Any]:
    if isinstance(expected, date):
        parsed = parse_date(actual) if actual is not None else None
        return parsed, expected
    if isinstance(expected, bool):
        return actual, expected
    if isinstance(expected, Decimal):
        try:
            return Decimal(str(actual)), expected
        except (InvalidOperation, ValueError):
            return None, expected
    if isinstance(expected, str):
        return (str(actual).lower() if actual is not None else None), expected.lower()
    return actual, expected


def _condition(text: str) -> Predicate:
    match = _CONDITION.match(_strip_parens(text))
    if not match:
        raise BadQuery(f"cannot read condition {text!r}")
    path = match["field"]
    if match["method"]:
        method, arg = match["method"], match["arg"].lower()

        def text_test(doc: Json) -> bool:
            value = field_value(doc, path)
            if value is None:
                return False
            s = str(value).lower()
            if method == "Contains":
                return arg in s
            if method == "StartsWith":
                return s.startswith(arg)
            return s.endswith(arg)

        return text_test
    op = match["op"]
    expected_raw = _literal(match["value"])

    def compare(doc: Json) -> bool:
        actual, expected = _coerce_pair(field_value(doc, path), expected_raw)
        if op == "==":
            return bool(actual == expected)
        if op == "!=":
            return bool(actual != expected)
        if actual is None or expected is None:
            return False
        try:
            if op == ">":
                return bool(actual > expected)
            if op == "<":
                return bool(actual < expected)
            if op == ">=":
                return bool(actual >= expected)
            return bool(actual <= expected)
        except TypeError:
            return False

    return compare


def parse_where(text: str | None) -> Predicate | None:
    if not text or not text.strip():
        return None
    text = _strip_parens(text)
    alternatives = []
    for alternative in _split_outside_strings(_SPLIT_OR, text):
        conditions = [_condition(c) for c in _split_outside_strings(_SPLIT_AND, alternative)]
        alternatives.append(conditions)

    def predicate(doc: Json) -> bool:
        return any(all(c(doc) for c in conditions) for conditions in alternatives)

    return predicate


def apply_order(docs: list[Json], order: str | None) -> list[Json]:
    if not order:
        return docs
    for clause in reversed([c.strip() for c in order.split(",") if c.strip()]):
        parts = clause.split()
        path = parts[0]
        descending = len(parts) > 1 and parts[1].upper() == "DESC"

        def key(doc: Json, path: str = path) -> tuple[int, Any]:
            value = field_value(doc, path)
            if isinstance(value, str) and value.startswith("/Date("):
                parsed = parse_date(value)
                return (0, parsed.isoformat() if parsed else "")
            if value is None:
                return (1, "")
            return (0, value if isinstance(value, int | float) else str(value).lower())

        docs = sorted(docs, key=key, reverse=descending)
    return docs


def paginate(docs: list[Json], page: int, page_size: int) -> tuple[list[Json], Json]:
    total = len(docs)
    start = (page - 1) * page_size
    items = docs[start : start + page_size]
    page_count = (total + page_size - 1) // page_size
    return items, {"page": page, "pageSize": page_size, "pageCount": page_count, "itemCount": total}
