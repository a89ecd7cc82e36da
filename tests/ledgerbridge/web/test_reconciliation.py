"""Invoices > Reconciliation: a run's rows by class, side by side, per role, and what a
hostile request gets (another company's row, an empty reason, a formula in a name).

Runs and rows are written here as the engine stores them (its own tests cover
comparing); the page is about showing them and acting on them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    ReconcileOutcome,
    ReconcileRunStatus,
    ReconciliationAcknowledgement,
    ReconciliationRow,
    ReconciliationRun,
)
from ledgerbridge.accounting.reconcile_read import documents_reconcile_open, row_compared
from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import make_actor, make_company, make_final_document

from .conftest import ROLES

pytestmark = pytest.mark.django_db

PERIOD = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
STARTED = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
QUERY = "date_from=2026-11-01&date_to=2026-11-30"
URL = "/invoices/reconciliation/"


def make_run(company, *, started=STARTED, counts=None, status=ReconcileRunStatus.DONE, **fields):
    return ReconciliationRun.objects.create(
        company=company,
        period_from=fields.pop("period_from", PERIOD[0]),
        period_to=fields.pop("period_to", PERIOD[1]),
        status=status,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=3) if status != "running" else None,
        requested_by_label="Fiona Finance",
        counts=counts or {},
        documents_read=fields.pop("documents_read", 120),
        calls=fields.pop("calls", 3),
        bytes_read=fields.pop("bytes_read", 45_200),
        **fields,
    )


def values(gross="1200.00", status="authorised", **more):
    return {"date": "2026-11-02", "gross": gross, "net": "1000.00", "status": status, **more}


def make_row(run, outcome=ReconcileOutcome.DIFFERS, *, document=None, **fields):
    defaults = {
        ReconcileOutcome.DIFFERS: (
            values(),
            values(gross="1000.00"),
            ["total 1,200.00 → 1,000.00"],
        ),
        ReconcileOutcome.MISSING: (values(), {}, ["not in the package"]),
        ReconcileOutcome.ONLY_IN_PACKAGE: ({}, values(), ["not in LedgerBridge"]),
        ReconcileOutcome.STATUS_DIFFERS: (values(), values(status="voided"), ["voided there"]),
        ReconcileOutcome.AGREES: (values(), values(), []),
    }
    ours, theirs, differences = defaults[outcome]
    return ReconciliationRow.objects.create(
        run=run,
        company=run.company,
        outcome=outcome,
        document=document,
        external_id=fields.pop("external_id", "" if outcome == "missing" else "x-1"),
        type=fields.pop("type", "sales_invoice"),
        number=fields.pop("number", document.number if document else "INV-X"),
        contact_name=fields.pop("contact_name", "Acme Freight"),
        currency="GBP",
        ours=fields.pop("ours", ours),
        theirs=fields.pop("theirs", theirs),
        differences=fields.pop("differences", differences),
        **fields,
    )


def acknowledge(row, reason="Agreed with the customer"):
    ack = ReconciliationAcknowledgement.objects.create(
        company=row.company,
        document=row.document,
        outcome=row.outcome,
        differences=row.differences,
        reason=reason,
        by_label="Fiona Finance",
        at=STARTED,
    )
    row.acknowledgement = ack
    row.save(update_fields=["acknowledgement"])
    return row


@pytest.fixture
def world(company):
    AccountingSettings.objects.update_or_create(
        company=company, defaults={"package": AccountingPackage.XERO_API}
    )
    actor = make_actor(company, Role.FINANCE)
    run = make_run(company)
    differs = make_row(run, document=make_final_document(actor), contact_name="Acme Freight")
    missing = make_row(run, ReconcileOutcome.MISSING, number="INV-MISSING")
    only = make_row(run, ReconcileOutcome.ONLY_IN_PACKAGE, number="HAND-1")
    agrees = make_row(run, ReconcileOutcome.AGREES, number="INV-AGREES")
    accepted = acknowledge(make_row(run, number="INV-ACCEPTED"))
    return {
        "actor": actor,
        "run": run,
        "differs": differs,
        "missing": missing,
        "only": only,
        "agrees": agrees,
        "accepted": accepted,
    }


def counts_of(response) -> dict[str, int]:
    return {t["key"]: t["count"] for t in response.context["tabs"]}


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_last_runs_rows_by_class_with_its_counts(client_for, world, role):
    response = client_for(role).get(URL)
    assert response.status_code == 200
    assert counts_of(response) == {
        "open": 3,
        "differs": 1,
        "status_differs": 0,
        "missing": 1,
        "only_in_package": 1,
        "agrees": 1,
        "acknowledged": 1,
        "all": 5,
    }
    page = response.content.decode()
    assert "Missing in Xero" in page and "Only in Xero" in page
    # The last run's period is the default, and what reading cost is shown.
    assert response.context["date_from"] == PERIOD[0]
    assert "120 documents read from Xero in 3 calls, 45.2 kB" in " ".join(page.split())
    # To look at: neither agreeing nor acknowledged.
    shown = {row.pk for row in response.context["page"].object_list}
    assert shown == {world["differs"].pk, world["missing"].pk, world["only"].pk}


def test_a_differing_row_shows_ours_and_the_packages_values_side_by_side(client_for, world):
    response = client_for(Role.VIEWER).get(f"{URL}?{QUERY}&tab=differs")
    [row] = response.context["page"].object_list
    gross = next(c for c in row.compared if c.key == "gross")
    assert (gross.ours, gross.theirs, gross.differs) == ("1,200.00 GBP", "1,000.00 GBP", True)
    assert not next(c for c in row.compared if c.key == "date").differs
    page = response.content.decode()
    assert "total 1,200.00 → 1,000.00" in page
    assert page.count('class="recon-diff"') == 2  # the total, ours and theirs


def test_our_status_and_the_packages_differ_in_words_only_where_the_class_says_so(world):
    row = make_row(
        world["run"], ours=values(status="unpaid"), theirs=values(status="authorised", gross="9")
    )
    status = next(c for c in row_compared(row) if c.key == "status")
    assert (status.ours, status.theirs, status.differs) == ("Unpaid", "Authorised", False)
    voided = make_row(world["run"], ReconcileOutcome.STATUS_DIFFERS)
    status = next(c for c in row_compared(voided) if c.key == "status")
    assert (status.ours, status.theirs, status.differs) == ("Authorised", "Voided", True)


def test_the_acknowledged_tab_lists_who_acknowledged_and_why(client_for, world):
    response = client_for(Role.VIEWER).get(f"{URL}?{QUERY}&tab=acknowledged")
    assert [r.pk for r in response.context["page"].object_list] == [world["accepted"].pk]
    assert "“Agreed with the customer”" in response.content.decode()


def test_a_viewer_sees_no_button_to_start_acknowledge_or_act(client_for, world):
    page = client_for(Role.VIEWER).get(URL).content.decode()
    assert "reconcile-start" not in page
    assert "Acknowledge…" not in page
    assert 'data-action="' not in page


def test_finance_may_start_acknowledge_and_act_where_safe(client_for, world):
    response = client_for(Role.FINANCE).get(URL)
    page = response.content.decode()
    assert 'id="reconcile-start"' in page
    assert page.count("Acknowledge…") == 3
    actions = {
        row.outcome: [(a.action, a.label) for a in row.allowed.buttons]
        for row in response.context["page"].object_list
    }
    assert actions["differs"] == [("recheck", "Check again")]
    assert actions["missing"] == []  # no document of ours to post behind it
    assert actions["only_in_package"] == []  # nothing of ours to link it to


def test_a_company_not_posting_through_the_api_is_told_why_it_cannot_reconcile(client_for, company):
    page = client_for(Role.FINANCE).get(URL).content.decode()
    assert 'id="reconcile-start"' not in page
    assert 'id="reconcile-no-api"' in page
    # Only the note: "no reconciliation yet" would promise one that cannot come.
    assert "No reconciliation of" not in page
    assert 'id="reconcile-no-api"' in client_for(Role.VIEWER).get(URL).content.decode()


def test_a_search_and_type_narrow_the_rows(client_for, world):
    client = client_for(Role.VIEWER)
    response = client.get(f"{URL}?{QUERY}&tab=all&search=hand-")
    assert [r.pk for r in response.context["page"].object_list] == [world["only"].pk]
    response = client.get(f"{URL}?{QUERY}&tab=all&type=purchase_invoice")
    assert list(response.context["page"].object_list) == []


@pytest.mark.parametrize(
    "query",
    [
        "tab=<script>alert(1)</script>",
        "date_from=yesterday&date_to=2026-11-30",
        "date_from=2026-11-30&date_to=2026-11-01",
        "date_from=99999-01-01&date_to=2026-11-30",
        "page=999999&tab=all",
        "page=-1",
        "search=" + "%27%22%3E%3Cscript%3E" * 30,
        "type=nonsense",
    ],
)
def test_hostile_queries_get_a_page_not_an_error(client_for, world, query):
    response = client_for(Role.VIEWER).get(f"{URL}?{query}")
    assert response.status_code == 200
    assert b"<script>alert" not in response.content
    assert b"><script>" not in response.content


def test_a_backwards_period_is_said_in_words(client_for, world):
    response = client_for(Role.VIEWER).get(f"{URL}?date_from=2026-11-30&date_to=2026-11-01")
    assert "The period ends before it starts." in response.content.decode()


def test_the_trend_has_a_point_per_finished_run(client_for, world, company):
    for days, differs in ((3, 4), (2, 2)):
        make_run(company, started=STARTED - dt.timedelta(days=days), counts={"differs": differs})
    response = client_for(Role.VIEWER).get(URL)
    [tab] = [t for t in response.context["tabs"] if t["key"] == "differs"]
    assert len(tab["trend"].split()) == 3
    assert b'class="recon-trend recon-trend-differs"' in response.content


def test_the_pager_pages_the_rows(client_for, world):
    for i in range(55):
        make_row(world["run"], number=f"MANY-{i:02}")
    client = client_for(Role.VIEWER)
    first = client.get(f"{URL}?{QUERY}&tab=differs")
    assert len(first.context["page"].object_list) == 50
    second = client.get(f"{URL}?{QUERY}&tab=differs&page=2")
    assert [r.number for r in second.context["page"].object_list] == [
        f"MANY-{i:02}" for i in range(49, 55)
    ]


# -- a row's place, progress -------------------------------------------------------------


def test_a_rows_link_leads_to_its_tab_and_page(client_for, world):
    late = [make_row(world["run"], number=f"LATE-{i}") for i in range(60)][-1]
    response = client_for(Role.VIEWER).get(f"/invoices/reconciliation/rows/{late.pk}/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"tab=differs&page=2#row-{late.pk}")
    assert "date_from=2026-11-01&date_to=2026-11-30" in response["Location"]


def test_a_running_run_is_polled_and_the_page_reloads_when_it_has_finished(
    client_for, world, company
):
    running = make_run(company, status=ReconcileRunStatus.RUNNING, started=STARTED.replace(hour=10))
    client = client_for(Role.VIEWER)
    page = client.get(URL)
    assert page.context["running"] == running
    assert page.context["run"] == world["run"]  # the last finished run's rows meanwhile
    assert f"/invoices/reconciliation/progress?run={running.pk}" in page.content.decode()
    poll = client.get(f"/invoices/reconciliation/progress?run={running.pk}")
    assert poll.status_code == 200 and b"Reconciling" in poll.content
    running.status = ReconcileRunStatus.DONE
    running.save()
    poll = client.get(f"/invoices/reconciliation/progress?run={running.pk}")
    assert poll.status_code == 204
    assert poll["HX-Refresh"] == "true"


def test_a_run_waiting_for_the_package_says_until_when_while_it_is_polled(
    client_for, world, company
):
    running = make_run(
        company,
        status=ReconcileRunStatus.RUNNING,
        started=STARTED.replace(hour=10),
        error="Waiting for Xero's per-minute limit: goes on at 14:32.",
    )
    client = client_for(Role.VIEWER)
    for answer in (
        client.get(URL),
        client.get(f"/invoices/reconciliation/progress?run={running.pk}"),
    ):
        text = answer.content.decode()
        assert "Waiting for Xero&#x27;s per-minute limit: goes on at 14:32." in text
        assert "Failed" not in text


# -- another company's rows ---------------------------------------------------------------


def test_another_companys_rows_and_runs_are_not_found(client_for, world):
    other = make_company("Southern Freight plc")
    their_run = make_run(other)
    theirs = make_row(their_run, number="THEIR-SECRET", contact_name="Zebra Secret")
    client = client_for(Role.FINANCE)
    assert client.get(f"/invoices/reconciliation/rows/{theirs.pk}/").status_code == 404
    assert client.get(f"/invoices/reconciliation/progress?run={their_run.pk}").status_code == 404
    for path in ("acknowledge", "act"):
        response = client.post(
            f"/invoices/reconciliation/rows/{theirs.pk}/{path}",
            {"reason": "mine now", "action": "recheck"},
        )
        assert response.status_code == 404, path
    theirs.refresh_from_db()
    assert theirs.acknowledgement_id is None
    page = client.get(f"{URL}?{QUERY}&tab=all&search=THEIR").content.decode()
    assert "THEIR-SECRET" not in page and "Zebra Secret" not in page


# -- acknowledging --------------------------------------------------------------------------


def test_acknowledging_with_a_reason_moves_the_row_to_acknowledged(client_for, world):
    row = world["differs"]
    client = client_for(Role.FINANCE)
    response = client.post(
        f"/invoices/reconciliation/rows/{row.pk}/acknowledge",
        {"reason": "Customer agreed a discount by phone", "next": f"{URL}?{QUERY}"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.acknowledgement.reason == "Customer agreed a discount by phone"
    after = client.get(response["Location"])
    assert counts_of(after)["differs"] == 0
    assert counts_of(after)["acknowledged"] == 2
    assert "acknowledged" in after.content.decode()


@pytest.mark.parametrize("reason", ["", "   \n\t "])
def test_acknowledging_without_a_reason_is_refused_with_the_form_open(client_for, world, reason):
    row = world["differs"]
    response = client_for(Role.FINANCE).post(
        f"/invoices/reconciliation/rows/{row.pk}/acknowledge",
        {"reason": reason, "next": f"{URL}?{QUERY}&tab=differs"},
    )
    assert response.status_code == 400
    assert response.context["ack_row"] == row.pk
    page = response.content.decode()
    assert f'id="reason-error-{row.pk}"' in page
    assert response.context["tab"] == "differs"
    row.refresh_from_db()
    assert row.acknowledgement_id is None


def test_a_reason_too_long_is_refused_and_a_hostile_one_is_shown_as_text(client_for, world):
    row = world["differs"]
    client = client_for(Role.FINANCE)
    url = f"/invoices/reconciliation/rows/{row.pk}/acknowledge"
    response = client.post(url, {"reason": "x" * 2001, "next": f"{URL}?{QUERY}"})
    assert response.status_code == 400
    assert f'id="reason-error-{row.pk}"' in response.content.decode()
    hostile = '<script>alert("ack")</script> =cmd|calc'
    client.post(url, {"reason": hostile, "next": f"{URL}?{QUERY}"})
    page = client.get(f"{URL}?{QUERY}&tab=acknowledged").content.decode()
    assert "&lt;script&gt;alert(&quot;ack&quot;)&lt;/script&gt;" in page
    assert '<script>alert("ack")' not in page
    csv_text = client.get(f"{URL}?{QUERY}&tab=acknowledged&format=csv").content.decode()
    [reason] = [r[-2] for r in csv.reader(io.StringIO(csv_text)) if r[2] == row.number]
    assert reason == hostile  # text, not a formula: it does not start with one


@pytest.mark.parametrize("which", ["agrees", "accepted"])
def test_a_row_with_nothing_to_acknowledge_says_why_above_the_list(client_for, world, which):
    row = world[which]
    response = client_for(Role.FINANCE).post(
        f"/invoices/reconciliation/rows/{row.pk}/acknowledge",
        {"reason": "again", "next": f"{URL}?{QUERY}&tab=all"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"message-error" in response.content
    row.refresh_from_db()
    assert ReconciliationAcknowledgement.objects.filter(reason="again").count() == 0


def test_an_open_redirect_in_next_is_ignored(client_for, world):
    row = world["differs"]
    response = client_for(Role.FINANCE).post(
        f"/invoices/reconciliation/rows/{row.pk}/acknowledge",
        {"reason": "fine", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(URL)


@pytest.mark.parametrize("path", ["acknowledge", "act"])
def test_a_viewer_may_not_acknowledge_or_act(client_for, world, path):
    row = world["differs"]
    response = client_for(Role.VIEWER).post(
        f"/invoices/reconciliation/rows/{row.pk}/{path}",
        {"reason": "because", "action": "recheck"},
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.acknowledgement_id is None


def test_a_viewer_may_not_start_a_run(client_for, world):
    before = ReconciliationRun.objects.count()
    response = client_for(Role.VIEWER).post(
        "/invoices/reconciliation/start", {"date_from": "2026-11-01", "date_to": "2026-11-30"}
    )
    assert response.status_code == 403
    assert ReconciliationRun.objects.count() == before


def test_an_action_not_offered_for_the_row_is_refused_in_words(client_for, world):
    row = world["agrees"]
    client = client_for(Role.FINANCE)
    response = client.post(
        f"/invoices/reconciliation/rows/{row.pk}/act", {"action": "post"}, follow=True
    )
    assert "That action is not offered for this row any more." in response.content.decode()


# -- CSV ----------------------------------------------------------------------------------


def test_the_csv_holds_the_tabs_rows_and_runs_no_formula(client_for, world):
    make_row(
        world["run"],
        number='=HYPERLINK("http://evil.example","x")',
        contact_name="@SUM(1+1)*cmd|' /C calc'!A0",
        ours=values(gross="-12.50"),
        theirs=values(gross="+cmd"),
        differences=["=1+1"],
    )
    response = client_for(Role.VIEWER).get(f"{URL}?{QUERY}&tab=differs&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, *body = rows
    assert header[:5] == ["Class", "Type", "Number", "Contact", "Currency"]
    assert "Total (Xero)" in header
    assert len(body) == 2
    hostile = body[1]
    assert hostile[2] == '\'=HYPERLINK("http://evil.example","x")'
    assert hostile[3].startswith("'@SUM")
    assert hostile[header.index("Total (ours)")] == "-12.50"  # a number stays a number
    assert hostile[header.index("Total (Xero)")] == "'+cmd"
    assert hostile[header.index("Differences")] == "'=1+1"
    for row in body:
        assert not any(cell.startswith(("=", "+", "@")) for cell in row)


# -- the invoice list and the document ----------------------------------------------------


def test_the_invoice_list_marks_documents_to_look_at_in_two_queries(
    client_for, world, django_assert_num_queries
):
    document = world["differs"].document
    # The rows, and the changes seen in the package since their runs.
    with django_assert_num_queries(2):
        found = documents_reconcile_open(
            company_id=document.company_id, document_ids=[document.pk, 10**9]
        )
    assert list(found) == [document.pk]
    page = client_for(Role.VIEWER).get("/invoices/").content.decode()
    assert f'href="/invoices/reconciliation/rows/{world["differs"].pk}/"' in page


def test_a_later_run_that_agrees_clears_the_mark(client_for, world, company):
    document = world["differs"].document
    later = make_run(company, started=STARTED + dt.timedelta(hours=1))
    make_row(later, ReconcileOutcome.AGREES, document=document)
    assert documents_reconcile_open(company_id=company.pk, document_ids=[document.pk]) == {}


def _seen_since(document, company, differences, *, minutes=30):
    from ledgerbridge.accounting.models import RemoteChange, SyncRecord, SyncStatus

    record, _ = SyncRecord.objects.update_or_create(
        document=document,
        defaults={
            "company": company,
            "status": SyncStatus.POSTED,
            "external_id": "x-1",
            "posted_at": STARTED - dt.timedelta(days=1),
        },
    )
    return RemoteChange.objects.create(
        record=record,
        company=company,
        detected_at=STARTED + dt.timedelta(minutes=minutes),
        source="webhook",
        differences=differences,
    )


def test_a_document_put_back_in_the_package_since_the_run_loses_its_mark(
    client_for, world, company
):
    document = world["differs"].document
    _seen_since(document, company, ["total 1,200.00 → 1,000.00"], minutes=10)
    _seen_since(document, company, [])  # a person put it back
    assert documents_reconcile_open(company_id=company.pk, document_ids=[document.pk]) == {}
    page = client_for(Role.VIEWER).get(f"/invoices/{document.pk}/").content.decode()
    assert 'id="reconcile-agrees-again"' in page
    assert "since then, Xero's copy agrees again</strong> (webhook, " in page
    assert 'id="reconcile-open"' not in page
    world["differs"].refresh_from_db()
    assert world["differs"].differences == ["total 1,200.00 → 1,000.00"]  # the run as it was


def test_the_reconciliation_page_says_what_the_package_holds_since_the_run(
    client_for, world, company
):
    document = world["differs"].document
    _seen_since(document, company, [])
    page = client_for(Role.VIEWER).get(f"{URL}?{QUERY}&tab=differs").content.decode()
    assert "Since then, Xero's copy agrees again (webhook, " in page
    assert "total 1,200.00 → 1,000.00" in page  # the run's words stay


def test_a_document_changed_otherwise_since_the_run_keeps_its_mark(client_for, world, company):
    document = world["differs"].document
    _seen_since(document, company, ["date 2 Nov 2026 → 3 Nov 2026"])
    assert list(documents_reconcile_open(company_id=company.pk, document_ids=[document.pk])) == [
        document.pk
    ]
    page = client_for(Role.VIEWER).get(f"/invoices/{document.pk}/").content.decode()
    assert 'id="changed-in-xero"' in page  # the banner says what differs now
    assert 'id="reconcile-agrees-again"' not in page


def test_a_change_seen_before_the_run_leaves_its_row_as_it_is(client_for, world, company):
    document = world["differs"].document
    _seen_since(document, company, [], minutes=-30)
    assert list(documents_reconcile_open(company_id=company.pk, document_ids=[document.pk])) == [
        document.pk
    ]


def test_the_document_page_links_to_its_reconciliation_row(client_for, world):
    row = world["differs"]
    page = client_for(Role.VIEWER).get(f"/invoices/{row.document_id}/").content.decode()
    assert 'id="reconcile-open"' in page
    assert f'href="/invoices/reconciliation/rows/{row.pk}/"' in page
    assert "differs" in page


def test_a_document_missing_in_the_package_says_so_with_the_packages_name(client_for, world):
    actor = world["actor"]
    row = make_row(world["run"], ReconcileOutcome.MISSING, document=make_final_document(actor))
    page = client_for(Role.VIEWER).get(f"/invoices/{row.document_id}/").content.decode()
    assert "Reconciliation of 4 Dec: missing in Xero</strong>" in page


def test_an_acknowledged_row_leaves_the_document_page_quiet(client_for, world):
    row = acknowledge(world["differs"])
    page = client_for(Role.VIEWER).get(f"/invoices/{row.document_id}/").content.decode()
    assert 'id="reconcile-open"' not in page


def test_starting_a_run_goes_back_to_its_period(client_for, world):
    response = client_for(Role.FINANCE).post(
        "/invoices/reconciliation/start", {"date_from": "2026-10-01", "date_to": "2026-10-31"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("date_from=2026-10-01&date_to=2026-10-31")
    assert ReconciliationRun.objects.filter(period_from=dt.date(2026, 10, 1)).exists()


def test_a_run_may_read_only_what_changed_since_the_last(client_for, world):
    page = client_for(Role.FINANCE).get(URL).content.decode()
    assert 'name="incremental"' in page
    client_for(Role.FINANCE).post(
        "/invoices/reconciliation/start",
        {"date_from": "2026-11-01", "date_to": "2026-11-30", "incremental": "1"},
    )
    latest = ReconciliationRun.objects.order_by("-id").first()
    assert latest.incremental and latest.period_from == PERIOD[0]


def test_the_default_period_without_runs_is_this_month(client_for, company):
    response = client_for(Role.VIEWER).get(URL)
    today = timezone.localdate()
    assert response.context["date_from"] == today.replace(day=1)


class NothingThere:
    """A package whose books hold nothing: every document asked for is gone."""

    def documents_read(self, company, **kwargs):
        return iter(())

    def documents_detail(self, company, external_ids, *, meter):
        meter.add(size=2)
        return []

    def contacts_read(self, company, *, meter):
        return iter(())


def test_checking_a_row_again_says_where_it_stands_now(client_for, world):
    from ledgerbridge.accounting.connector import reader_registered

    row = world["differs"]
    with reader_registered(AccountingPackage.XERO_API, NothingThere):
        response = client_for(Role.FINANCE).post(
            f"/invoices/reconciliation/rows/{row.pk}/act",
            {"action": "recheck", "next": f"{URL}?{QUERY}&tab=differs"},
            follow=True,
        )
    row.refresh_from_db()
    assert row.outcome != ReconcileOutcome.DIFFERS
    label = {"missing": "missing in Xero", "only_in_package": "only in Xero"}.get(row.outcome)
    assert f"{row.number} checked again: {label}." in response.content.decode()


def test_a_period_the_service_refuses_is_said_in_words_and_starts_nothing(client_for, world):
    before = ReconciliationRun.objects.count()
    response = client_for(Role.FINANCE).post(
        "/invoices/reconciliation/start",
        {"date_from": "2020-01-01", "date_to": "2026-11-30"},
        follow=True,
    )
    assert ReconciliationRun.objects.count() == before
    assert b"message-error" in response.content


def test_the_pages_queries_do_not_grow_with_its_rows(client_for, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(Role.VIEWER)
    client.get(URL)  # the session and the company settle
    with CaptureQueriesContext(connection) as few:
        client.get(f"{URL}?{QUERY}&tab=all")
    for i in range(60):
        make_row(world["run"], number=f"MORE-{i}")
    with CaptureQueriesContext(connection) as many:
        client.get(f"{URL}?{QUERY}&tab=all")
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
