"""Dependencies point inwards: each part imports only the parts below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ledgerbridge

SRC = Path(ledgerbridge.__file__).parent

# What each part must not import (the parts above it, or its adapter).
FORBIDDEN = {
    "companies": ("accounting", "xero", "invoicing", "web", "api", "demo", "operations"),
    "invoicing": ("accounting", "xero", "web", "api", "demo", "operations"),
    "accounting": ("xero", "web", "api", "demo", "operations"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_a_part_imports_nothing_above_it(part):
    found = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in sorted((SRC / part).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(
            name == f"ledgerbridge.{above}" or name.startswith(f"ledgerbridge.{above}.")
            for above in FORBIDDEN[part]
        )
    ]
    assert found == []


def test_modules_log_structlog_events_and_only_logging_py_configures_the_stdlib():
    found = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in sorted(SRC.rglob("*.py"))
        if path != SRC / "logging.py"
        for name in sorted(_imports(path))
        if name == "logging" or name.startswith("logging.")
    ]
    assert found == []
