"""Computing a line's dimension values from the company's ordered rules.

A rule holds when all its conditions hold; the first rule that holds gives the
value; otherwise the dimension's default; otherwise the line cannot be saved,
and the error says which line and which dimension need a rule or a default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledgerbridge.errors import ApplicationError

from .models import Dimension, DimensionRule, DimensionValue

# The fields a condition may test, with a label for the configuration screen.
FIELDS: dict[str, str] = {
    "partner.number": "Partner number",
    "partner.name": "Partner name",
    "partner.country": "Partner country",
    "partner.kind": "Partner kind (customer / supplier)",
    "document.type": "Document type",
    "document.currency": "Currency",
    "document.reference": "Reference",
    "document.order_reference": "Order reference",
    "document.trip_reference": "Trip reference",
    "line.charge_type": "Charge type",
    "line.nominal_code": "Nominal code",
    "line.tax_rate": "Tax rate code",
    "line.description": "Line description",
}


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip().lower() for v in value]
    return [v.strip().lower() for v in str(value).split(",") if v.strip()]


OPERATORS: dict[str, tuple[str, Callable[[str, Any], bool]]] = {
    "equals": ("is", lambda actual, expected: actual == str(expected).strip().lower()),
    "not_equals": ("is not", lambda actual, expected: actual != str(expected).strip().lower()),
    "in": ("is one of", lambda actual, expected: actual in _as_list(expected)),
    "starts_with": (
        "starts with",
        lambda actual, expected: actual.startswith(str(expected).strip().lower()),
    ),
    "contains": ("contains", lambda actual, expected: str(expected).strip().lower() in actual),
}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any

    def holds(self, facts: Mapping[str, str]) -> bool:
        actual = str(facts.get(self.field, "")).strip().lower()
        return OPERATORS[self.op][1](actual, self.value)

    def describe(self) -> str:
        return f"{FIELDS[self.field]} {OPERATORS[self.op][0]} {self.value}"


def conditions_validate(raw: Any) -> list[Condition]:
    """Parse a rule's conditions, with errors a Super Admin can act on."""
    if not isinstance(raw, list):
        raise ApplicationError("Conditions must be a list.", field="conditions")
    conditions = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ApplicationError(f"Condition {i} is not a condition.", field="conditions")
        field, op, value = item.get("field"), item.get("op"), item.get("value")
        if field not in FIELDS:
            raise ApplicationError(
                f"Condition {i}: unknown field {field!r}; choose one of {', '.join(FIELDS)}.",
                field="conditions",
            )
        if op not in OPERATORS:
            raise ApplicationError(
                f"Condition {i}: unknown operator {op!r}; choose one of {', '.join(OPERATORS)}.",
                field="conditions",
            )
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ApplicationError(
                f"Condition {i}: enter a value to compare with.", field="conditions"
            )
        conditions.append(Condition(field=field, op=op, value=value))
    return conditions


@dataclass(frozen=True)
class CompiledDimension:
    dimension: Dimension
    rules: Sequence[tuple[list[Condition], DimensionValue]]
    default: DimensionValue | None


def compile_dimensions(company_id: int) -> list[CompiledDimension]:
    """Load the active dimensions with their rules once per document save."""
    compiled = []
    dimensions = Dimension.objects.filter(company_id=company_id, active=True).select_related(
        "default_value"
    )
    rules_by_dimension: dict[int, list[DimensionRule]] = {}
    for rule in DimensionRule.objects.filter(dimension__in=dimensions).select_related("value"):
        rules_by_dimension.setdefault(rule.dimension_id, []).append(rule)
    for dimension in dimensions:
        rules = [
            (conditions_validate(rule.conditions), rule.value)
            for rule in rules_by_dimension.get(dimension.pk, [])
        ]
        compiled.append(
            CompiledDimension(dimension=dimension, rules=rules, default=dimension.default_value)
        )
    return compiled


def evaluate(
    compiled: Sequence[CompiledDimension], facts: Mapping[str, str], *, line_label: str
) -> dict[Dimension, DimensionValue]:
    result: dict[Dimension, DimensionValue] = {}
    for item in compiled:
        value = next(
            (value for conditions, value in item.rules if all(c.holds(facts) for c in conditions)),
            item.default,
        )
        if value is None:
            raise ApplicationError(
                f"{line_label}: no rule of dimension “{item.dimension.name}” matches "
                f"(charge type {facts.get('line.charge_type', '?')}, partner "
                f"{facts.get('partner.number', '?')}) and the dimension has no default value. "
                "Add a rule or a default in Configuration > Dimensions.",
                field="lines",
            )
        result[item.dimension] = value
    return result
