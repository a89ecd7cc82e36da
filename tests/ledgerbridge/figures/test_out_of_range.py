"""A document holding a figure outside its bounds is marked and held back.

It shows on its page as needing correction, with each figure, its value and
the allowed range; it cannot be finalised, and a file export leaves it out.
``ledgerbridge check-data`` and the operations page list every such figure.
These figures fit their columns, so the same holds on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ledgerbridge.accounting.exports import ExportFilters, export_preview
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.figures import figure_problems
from ledgerbridge.invoicing.models import Document, DocumentStatus, TaxRate
from ledgerbridge.invoicing.services import document_finalise
from tests.ledgerbridge.factories import (
    PASSWORD,
    make_actor,
    make_company,
    make_document,
    make_user,
)

from .conftest import sqlite_only, store_raw

pytestmark = pytest.mark.django_db


def test_finalising_is_refused_naming_each_figure_and_its_range(finance):
    draft = make_document(finance)
    store_raw(draft.lines.first(), "discount_percent", "150")
    store_raw(draft.lines.last(), "quantity", "-2")
    with pytest.raises(ApplicationError) as refused:
        document_finalise(actor=finance, document_id=draft.pk)
    assert refused.value.message == (
        "Figures out of range need correcting first: "
        "Line 1: discount 150 must be between 0 and 100 %; "
        "Line 2: quantity -2 must be between 0.0001 and 99,999,999.9999."
    )
    draft.refresh_from_db()
    assert draft.status == DocumentStatus.DRAFT and not draft.number


def test_the_page_marks_the_document_as_needing_correction(finance, web):
    draft = make_document(finance)
    store_raw(draft.lines.first(), "discount_percent", "150")
    page = web.get(reverse("document_detail", args=[draft.pk])).content.decode()
    assert "Needs correction: figures out of range." in page
    assert "Line 1: discount 150 must be between 0 and 100 %" in page
    response = web.post(reverse("document_finalise", args=[draft.pk]), follow=True)
    assert "Not finalised: Figures out of range need correcting first" in response.content.decode()
    assert Document.objects.get(pk=draft.pk).is_draft


def test_a_page_without_such_figures_has_no_mark(finance, web):
    draft = make_document(finance)
    page = web.get(reverse("document_detail", args=[draft.pk])).content.decode()
    assert "figures-out-of-range" not in page


def test_a_file_export_leaves_the_document_out_with_the_reason(finance):
    good = make_document(finance, finalise=True)
    bad = make_document(finance, finalise=True)
    store_raw(bad.lines.first(), "discount_percent", "150")
    preview = export_preview(actor=finance, filters=ExportFilters())
    assert preview.included_ids == [good.pk]
    [left_out] = preview.left_out
    assert left_out.document_id == bad.pk
    assert "Line 1: discount 150 must be between 0 and 100 %" in left_out.reasons[-1]


def _bad_rows(company):
    draft = make_document(make_actor(company))
    store_raw(draft.lines.first(), "discount_percent", "150")
    rate = TaxRate.objects.get(company=company, code="S20")
    store_raw(rate, "rate", "250")
    return draft


def test_check_data_lists_every_figure_out_of_range_and_exits_non_zero(company, capsys):
    draft = _bad_rows(company)
    other = make_company("Southern Freight plc")
    make_document(make_actor(other))  # nothing wrong there
    with pytest.raises(SystemExit) as exited:
        call_command("check-data")
    assert exited.value.code == 1
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert lines == [
        f"Northern Haulage Ltd (id {company.pk})\tDraft {draft.pk} (id {draft.pk})\tLine 1\t"
        "discount_percent\t150\tbetween 0 and 100 %, at most 2 decimal places",
        f"Northern Haulage Ltd (id {company.pk})\t—\tTax rate S20\trate\t250\t"
        "between 0 and 100 %, at most 3 decimal places",
    ]
    assert "2 stored figures out of range" in out.err


def test_check_data_is_quiet_and_succeeds_when_all_is_well(company, capsys):
    make_document(make_actor(company), finalise=True)
    call_command("check-data")
    assert "No stored figure is out of range." in capsys.readouterr().out


@sqlite_only
def test_check_data_reports_values_wider_than_their_columns(company, capsys):
    draft = make_document(make_actor(company))
    store_raw(draft.lines.first(), "unit_price", "99999999999999999999")
    store_raw(draft.lines.last(), "quantity", "9e999")
    store_raw(draft, "net_total", "'not a number'")
    problems = {(p.field, p.value, p.problem) for p in figure_problems()}
    assert problems == {
        (
            "unit_price",
            "1E+20",
            "must be between -9,999,999,999.9999 and 9,999,999,999.9999",
        ),
        ("quantity", "Inf", "is not a number"),
        ("net_total", "not a number", "is not a number"),
    }


def test_the_search_is_one_query_per_model_however_many_companies(
    company, django_assert_num_queries
):
    _bad_rows(company)
    for name in ("A Ltd", "B Ltd"):
        _bad_rows(make_company(name))
    with django_assert_num_queries(3):
        assert len(figure_problems()) == 6


def test_the_operations_page_lists_them(company):
    draft = _bad_rows(company)
    staff = Client()
    user = make_user(platform_staff=True)
    assert staff.login(username=user.username, password=PASSWORD)
    page = staff.get(reverse("platform_operations")).content.decode()
    section = page[page.index('id="figures-out-of-range"') :]
    assert f"Draft {draft.pk}" in section
    assert "Tax rate S20" in section
    assert "between 0 and 100 %, at most 2 decimal places" in section


def test_the_operations_page_says_when_there_are_none(company):
    staff = Client()
    user = make_user(platform_staff=True)
    assert staff.login(username=user.username, password=PASSWORD)
    page = staff.get(reverse("platform_operations")).content.decode()
    assert "None: every stored figure is within its range." in page


@pytest.mark.django_db
def test_the_platform_wide_check_reads_only_the_partial_indexes_of_out_of_range_rows():
    """Documents and lines are found through an index holding only the rows out of
    range, so the operations page's check does not read a whole ledger."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    make_document(make_actor(make_company()), lines=2)
    with CaptureQueriesContext(connection) as queries:
        figure_problems(limit=100)
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: else a scan is cheaper
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans[query["sql"].split(" FROM ")[1].split()[0]] = "\n".join(
                row[0] for row in cursor.fetchall()
            )
    assert "line_figures_out_idx" in plans['"invoicing_documentline"']
    assert "document_figures_out_idx" in plans['"invoicing_document"']
