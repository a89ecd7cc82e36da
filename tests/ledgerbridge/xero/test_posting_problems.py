"""Posting failures against the sandbox, in words that name our code, the screen where it
is fixed and who can fix it; and the "Post to Xero" task following its document."""

from __future__ import annotations

import uuid

import pytest

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_record_retry
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import (
    Dimension,
    DimensionValue,
    DocumentType,
    LineDimension,
    NominalCode,
    Task,
    TaskStatus,
    TaxRate,
)
from ledgerbridge.invoicing.services import LineInput
from ledgerbridge.invoicing.workflow import task_complete
from ledgerbridge.xero.coding import xero_tax_mapping_set, xero_tracking_mapping_set
from ledgerbridge.xero.models import XeroContactLink
from ledgerbridge.xero.problems import record_advice
from tests.ledgerbridge.factories import line, make_document, make_partner, make_user

from .conftest import authorise
from .test_posting import post_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def manual(sandbox, admin):
    admin.user.first_name, admin.user.last_name = "Sam", "Admin"
    admin.user.save()
    authorise(sandbox, admin, [sandbox.tenant_id])
    AccountingSettings.objects.filter(company=admin.company).update(auto_post_sales_invoice=False)
    return admin


@pytest.fixture
def finance(manual) -> Actor:
    user = make_user(manual.company, Role.FINANCE, username="fiona")
    return Actor(company=manual.company, role=Role.FINANCE, user=user)


def _task(document) -> Task:
    return Task.objects.get(document=document, type="post_to_xero")


def _post(actor, document) -> SyncRecord:
    task_complete(actor=actor, task_id=_task(document).pk)
    post_all(actor.company, runs=1)
    return SyncRecord.objects.get(document=document)


def test_a_wrong_tax_mapping_names_our_rate_its_xero_code_and_who_fixes_it_where(manual, finance):
    r5p = TaxRate.objects.get(company=manual.company, code="R5P")
    xero_tax_mapping_set(actor=manual, tax_rate_id=r5p.pk, tax_type="RRINPUTX")
    AccountingSettings.objects.filter(company=manual.company).update(
        auto_post_purchase_invoice=False
    )
    document = make_document(
        manual,
        DocumentType.PURCHASE_INVOICE,
        lines=[line("freight", sales=False, tax_rate="R5P")],
        finalise=True,
    )
    record = _post(finance, document)
    assert record.status == SyncStatus.FAILED
    [problem] = record.problems
    assert (problem["kind"], problem["code"], problem["external_code"]) == (
        "tax_rate",
        "R5P",
        "RRINPUTX",
    )
    assert "The TaxType code 'RRINPUTX' does not exist" in problem["detail"]
    assert "Tax rate R5P → Xero TaxType RRINPUTX" in record.message

    task = _task(document)
    assert task.status == TaskStatus.FAILED and "R5P" in task.message

    [for_finance] = record_advice(record.problems, actor=finance)
    assert for_finance.url == "" and for_finance.fix == ""
    assert for_finance.ask.startswith("Ask your Super Admin (Sam Admin) to map tax rate R5P")
    assert "Configuration > Accounting" in for_finance.ask
    assert for_finance.detail.startswith("The TaxType code 'RRINPUTX'")
    [for_admin] = record_advice(record.problems, actor=manual)
    assert for_admin.url == f"/configuration/accounting/#map-tax-{r5p.pk}"
    assert for_admin.ask == "" and "Map tax rate R5P" in for_admin.fix

    # Fixed by the Super Admin, retried by Finance: in progress, then done.
    xero_tax_mapping_set(actor=manual, tax_rate_id=r5p.pk, tax_type="")
    sync_record_retry(actor=finance, document_id=document.pk)
    assert _task(document).status == TaskStatus.IN_PROGRESS
    assert SyncRecord.objects.get(document=document).problems == []
    post_all(manual.company, runs=1)
    assert SyncRecord.objects.get(document=document).status == SyncStatus.POSTED
    assert _task(document).status == TaskStatus.DONE


def test_a_nominal_code_xero_does_not_have_is_named_with_the_page_to_fix_it(manual, finance):
    code = NominalCode.objects.create(
        company=manual.company, code="215", name="Subcontracted haulage", type="revenue"
    )
    document = make_document(
        manual,
        lines=[
            LineInput(
                description="Subcontracted trunking",
                charge_type="freight",
                quantity="1",
                unit_price="250",
                discount_percent="0",
                nominal_code="215",
                tax_rate="S20",
            )
        ],
        finalise=True,
    )
    record = _post(finance, document)
    [problem] = record.problems
    assert (problem["kind"], problem["code"], problem["object_id"]) == ("account", "215", code.pk)
    assert "Nominal code 215" in record.message
    [for_admin] = record_advice(record.problems, actor=manual)
    assert for_admin.url == f"/configuration/nominal-codes/{code.pk}/"
    assert "Create account 215 in Xero's chart of accounts" in for_admin.fix
    [for_finance] = record_advice(record.problems, actor=finance)
    assert "Ask your Super Admin (Sam Admin)" in for_finance.ask and "215" in for_finance.ask


def test_an_archived_account_is_named_as_our_nominal_code(sandbox, manual, finance):
    sandbox.control.archive_account(sandbox.tenant_id, "200")
    document = make_document(manual, lines=[line("freight")], finalise=True)
    record = _post(finance, document)
    [problem] = record.problems
    assert (problem["kind"], problem["code"]) == ("account_archived", "200")
    assert "archived" in problem["detail"]


def test_a_tracking_option_xero_lacks_names_the_dimension_value(manual, finance):
    document = make_document(manual, lines=[line("freight")], finalise=True)
    dimension = Dimension.objects.get(company=manual.company, name="Business unit")
    offshore = DimensionValue.objects.create(dimension=dimension, code="OFF", name="Offshore")
    LineDimension.objects.filter(line__document=document, dimension=dimension).update(
        value=offshore
    )
    record = _post(finance, document)
    [problem] = record.problems
    assert (problem["kind"], problem["code"], problem["subject"], problem["external_code"]) == (
        "tracking_option",
        "Offshore",
        "Business unit",
        "Business unit",
    )
    [for_admin] = record_advice(record.problems, actor=manual)
    assert "Create the option “Offshore”" in for_admin.fix
    assert for_admin.url == "/configuration/accounting/#setup-check"


def test_a_tracking_category_mapped_wrongly_names_the_dimension_and_mapping_row(manual, finance):
    dimension = Dimension.objects.get(company=manual.company, name="Vehicle type")
    xero_tracking_mapping_set(actor=manual, dimension_id=dimension.pk, category_name="Fleet")
    document = make_document(manual, lines=[line("freight")], finalise=True)
    record = _post(finance, document)
    [problem] = record.problems
    assert (problem["kind"], problem["code"], problem["external_code"]) == (
        "tracking_category",
        "Vehicle type",
        "Fleet",
    )
    [for_admin] = record_advice(record.problems, actor=manual)
    assert for_admin.url == f"/configuration/accounting/#map-dimension-{dimension.pk}"


def test_a_contact_gone_from_xero_names_the_partner_and_a_retry_finds_it_again(
    sandbox, manual, finance
):
    partner = make_partner(manual.company, name="Brightwater Beverages plc", number="C0777")
    first = make_document(manual, partner=partner, finalise=True)
    assert _post(finance, first).status == SyncStatus.POSTED
    # Merged away in Xero: the id we kept no longer exists there.
    XeroContactLink.objects.filter(partner=partner).update(contact_id=str(uuid.uuid4()))
    second = make_document(manual, partner=partner, finalise=True)
    record = _post(finance, second)
    [problem] = record.problems
    assert (problem["kind"], problem["code"], problem["object_id"]) == (
        "contact",
        "C0777",
        partner.pk,
    )
    assert "Brightwater Beverages plc" in record.message
    [for_finance] = record_advice(record.problems, actor=finance)
    assert for_finance.url == f"/partners/{partner.pk}/" and for_finance.ask == ""
    sync_record_retry(actor=finance, document_id=second.pk)
    post_all(manual.company, runs=1)
    assert SyncRecord.objects.get(document=second).status == SyncStatus.POSTED


# ------------------------------------------------- the banner, from real answers


def test_a_429_from_xero_shows_waiting_with_the_time_it_goes_on(sandbox, manual, finance):
    from django.utils import timezone

    from ledgerbridge.accounting.outbox import sync_company_run
    from ledgerbridge.xero.status import posting_status

    document = make_document(manual, finalise=True)
    task_complete(actor=finance, task_id=_task(document).pk)
    sandbox.control.add_fault("rate_limit", retry_after=50, times=5)
    sync_company_run(company_id=manual.company.pk, now=timezone.now())
    status = posting_status(actor=finance)
    assert status.state == "waiting", status.headline
    assert status.resumes_at is not None and status.resumes_at > timezone.now()
    assert _task(document).status == TaskStatus.IN_PROGRESS


def test_after_xero_revokes_the_app_the_banner_says_blocked_and_who_re_authorises(
    sandbox, manual, finance
):
    from ledgerbridge.xero.status import posting_status

    sandbox.control.revoke(sandbox.tenant_id)
    document = make_document(manual, finalise=True)
    record = _post(finance, document)
    assert record.status == SyncStatus.PENDING
    status = posting_status(actor=finance)
    assert (status.state, status.blocked_reason) == ("blocked", "needs_reauthorisation")
    assert "1 document waits" in status.headline and "on the way" not in status.headline
    assert "Ask your Super Admin (Sam Admin) to re-authorise Xero" in status.who
    assert posting_status(actor=manual).action_label == "Re-authorise Xero"
    assert _task(document).status == TaskStatus.IN_PROGRESS
