"""``ledgerbridge reconcile`` names the package as the page does: "Missing in Xero",
"Xero could not be read", never the port's "the package"."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .conftest import final
from .test_reconcile import FROM, TO

pytestmark = pytest.mark.django_db


def reconcile(admin) -> str:
    out = StringIO()
    call_command(
        "reconcile",
        "--company",
        str(admin.company.pk),
        "--from",
        FROM.isoformat(),
        "--to",
        TO.isoformat(),
        stdout=out,
    )
    return out.getvalue()


def test_the_classes_and_rows_name_the_package(books, manual):
    document = final(manual)
    text = reconcile(manual)
    assert "Missing in Xero" in text and "Only in Xero" in text
    assert f"Missing in Xero: {document.number}" in text
    assert "the package" not in text


def test_a_package_that_cannot_be_read_is_named(books, admin):
    books.try_later("documents_read", message="Xero is not answering.")
    with pytest.raises(CommandError, match=r"^Xero could not be read: Xero is not answering"):
        reconcile(admin)


def test_the_command_waits_out_the_per_minute_limit_and_goes_on(books, manual, monkeypatch):
    from ledgerbridge.accounting.management.commands import reconcile as command

    slept: list[float] = []
    monkeypatch.setattr(command.time, "sleep", slept.append)
    document = final(manual)
    books.try_later("documents_read", times=2, retry_after=32, message="Xero's minute is used.")

    text = reconcile(manual)

    assert slept == [32, 32]
    assert text.count("Waiting 32 s for Xero's per-minute limit.") == 2
    assert f"Missing in Xero: {document.number}" in text
