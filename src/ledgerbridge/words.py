"""How LedgerBridge words a count: "1 document", "3 documents", never "document(s)"."""

from __future__ import annotations


def counted(count: int, word: str, plural: str = "") -> str:
    """``counted(3, "document")`` reads "3 documents"; ``plural`` names an irregular one."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"
