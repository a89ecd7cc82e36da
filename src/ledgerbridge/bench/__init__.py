"""Benchmarks and the fault suite: tooling, not part of the running product.

``ledgerbridge bench <name> [options]`` (or ``python -m ledgerbridge.bench``)
runs one of them. They drive the product against the Xero sandbox, so they
need the ``sandbox`` extra; ``scale --plot`` also needs the ``bench`` extra
(matplotlib). Nothing in the product imports this package.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module, what it measures); each module has ``main(argv) -> int``.
COMMANDS: dict[str, tuple[str, str]] = {
    "post": ("post", "Xero calls per document and share of the rate limit used, one process"),
    "scale": ("scale", "many companies, several worker processes, PostgreSQL and Redis"),
    "faults": ("faults", "the production setup under faults (kills, outages, 429s), then an audit"),
    "payments": ("payments", "how long a payment made in Xero takes to show on the document"),
    "export": ("export", "time and memory of one export of 10,000 documents"),
    "sandbox-load": ("sandbox_load", "requests per second the Xero sandbox answers"),
    "pages": ("pages", "each page's time and queries as a company's ledger grows (PostgreSQL)"),
    "reconcile": ("reconcile", "what reconciliation finds of a Xero user's changes, and its cost"),
}


def usage() -> str:
    lines = ["usage: ledgerbridge bench <name> [--help | options]", "", "benchmarks:"]
    lines += [f"  {name:<13} {about}" for name, (_, about) in COMMANDS.items()]
    lines += [
        "",
        "They need the sandbox extra (pip install -e '.[sandbox]'); scale --plot also",
        "needs the bench extra (pip install -e '.[bench]'). ./test installs both.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] not in COMMANDS:
        print(f"ledgerbridge bench: no benchmark named {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"ledgerbridge.bench.{COMMANDS[argv[0]][0]}")
    result: int = module.main(argv[1:])
    return result
