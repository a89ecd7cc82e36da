import pytest

from ledgerbridge.companies.models import Role
from ledgerbridge.errors import PermissionDeniedError
from ledgerbridge.invoicing.models import TaxRate
from ledgerbridge.xero.models import XeroTaxMapping
from ledgerbridge.xero.setup_check import xero_setup_check_run, xero_tracking_options_create
from tests.ledgerbridge.factories import make_actor

from .conftest import NORTHWAY_TRACKING, authorise

pytestmark = pytest.mark.django_db


def failures(check):
    return [(item["area"], item["subject"]) for item in check.items if not item["ok"]]


@pytest.fixture
def linked(sandbox, admin, northway_org):
    authorise(sandbox, admin, [northway_org])
    return admin


def test_a_matching_organisation_passes_every_line(linked):
    check = xero_setup_check_run(actor=linked)
    assert failures(check) == []
    assert check.ok
    areas = {item["area"] for item in check.items}
    assert areas == {"Accounts", "Tax rates", "Tracking", "Number series", "Currencies"}


def test_a_wrong_tax_mapping_fails_exactly_that_line_with_a_hint(linked):
    s20 = TaxRate.objects.get(company=linked.company, code="S20")
    XeroTaxMapping.objects.create(tax_rate=s20, tax_type="OUTPUT9")
    check = xero_setup_check_run(actor=linked)
    assert failures(check) == [("Tax rates", "S20 Standard rate sales (20 %)")]
    [item] = [i for i in check.items if not i["ok"]]
    assert item["message"] == "Xero has no tax rate OUTPUT9."
    assert "Map S20" in item["hint"]
    XeroTaxMapping.objects.filter(tax_rate=s20).update(tax_type="OUTPUT2")
    assert xero_setup_check_run(actor=linked).ok


def test_a_tax_rate_with_another_percentage_fails(linked):
    s20 = TaxRate.objects.get(company=linked.company, code="S20")
    XeroTaxMapping.objects.create(tax_rate=s20, tax_type="RROUTPUT")
    [item] = [i for i in xero_setup_check_run(actor=linked).items if not i["ok"]]
    assert item["message"] == "Xero's RROUTPUT “5% (VAT on Income)” is 5 %, ours is 20 %."


def test_an_archived_account_fails_its_line(sandbox, linked, northway_org):
    sandbox.control.archive_account(northway_org, "473")
    check = xero_setup_check_run(actor=linked)
    assert failures(check) == [("Accounts", "473 Repairs & Maintenance")]


def test_missing_tracking_options_are_listed_and_can_be_created(sandbox, admin):
    thin = [
        {"Name": "Business unit", "Options": ["Domestic"]},
        {"Name": "Vehicle type", "Options": NORTHWAY_TRACKING[1]["Options"]},
    ]
    org = sandbox.control.create_org("Thin Tracking Ltd", tracking_categories=thin)
    authorise(sandbox, admin, [org.get("tenant_id") or org["OrganisationID"]])
    check = xero_setup_check_run(actor=admin)
    [item] = [i for i in check.items if not i["ok"]]
    assert item["message"] == "Options missing in Xero: International."
    assert xero_tracking_options_create(actor=admin) == ["Business unit: International"]
    assert xero_setup_check_run(actor=admin).ok


def test_finance_cannot_run_the_setup_check(linked):
    with pytest.raises(PermissionDeniedError):
        xero_setup_check_run(actor=make_actor(linked.company, Role.FINANCE))


def test_the_demo_company_passes_the_setup_check_against_the_sandbox_demo_organisation(sandbox):
    import datetime as dt

    from ledgerbridge.companies.models import Company
    from ledgerbridge.companies.permissions import Actor
    from ledgerbridge.demo import DEMO_COMPANY, demo_load

    demo_load(today=dt.date(2026, 11, 24), progress=lambda _: None)
    company = Company.objects.get(legal_name=DEMO_COMPANY)
    admin = Actor(
        company=company,
        role=Role.SUPER_ADMIN,
        user=company.memberships.get(user__username="admin").user,
    )
    authorise(sandbox, admin, [sandbox.tenant_id])
    check = xero_setup_check_run(actor=admin)
    assert failures(check) == []
    assert any(item["subject"] == "EUR" and item["ok"] for item in check.items)


# -- the setup check on Configuration > Accounting ------------------------------------------

PAGE = "/configuration/accounting/"


def page_for(client, actor) -> str:
    from tests.ledgerbridge.factories import PASSWORD, make_user

    user = make_user(actor.company, Role.SUPER_ADMIN)
    assert client.login(username=user.username, password=PASSWORD)
    return client.get(PAGE).content.decode()


def test_a_setup_check_result_is_cleared_when_the_link_is_authorised_again(
    client, sandbox, linked, northway_org
):
    s20 = TaxRate.objects.get(company=linked.company, code="S20")
    XeroTaxMapping.objects.create(tax_rate=s20, tax_type="OUTPUT9")
    xero_setup_check_run(actor=linked)
    html = page_for(client, linked)
    assert "Xero has no tax rate OUTPUT9." in html and "Needs attention" in html

    authorise(sandbox, linked, [northway_org])  # re-authorised: another connection

    html = client.get(PAGE).content.decode()
    assert "Xero has no tax rate OUTPUT9." not in html
    assert "Needs attention" not in html and "Last run" not in html
    assert 'id="run-check"' in html


def test_create_missing_tracking_options_is_not_offered_when_only_a_tax_rate_failed(client, linked):
    s20 = TaxRate.objects.get(company=linked.company, code="S20")
    XeroTaxMapping.objects.create(tax_rate=s20, tax_type="OUTPUT9")
    xero_setup_check_run(actor=linked)
    html = page_for(client, linked)
    assert "Needs attention" in html
    assert "Create missing tracking options" not in html


def test_create_missing_tracking_options_is_offered_when_options_are_missing(
    client, sandbox, admin
):
    thin = [
        {"Name": "Business unit", "Options": ["Domestic"]},
        {"Name": "Vehicle type", "Options": NORTHWAY_TRACKING[1]["Options"]},
    ]
    org = sandbox.control.create_org("Thin Tracking Ltd", tracking_categories=thin)
    authorise(sandbox, admin, [org.get("tenant_id") or org["OrganisationID"]])
    xero_setup_check_run(actor=admin)
    assert "Create missing tracking options" in page_for(client, admin)


def test_the_audit_log_reads_a_setup_check_in_words(client, linked):
    xero_setup_check_run(actor=linked)  # passes
    s20 = TaxRate.objects.get(company=linked.company, code="S20")
    XeroTaxMapping.objects.create(tax_rate=s20, tax_type="OUTPUT9")
    xero_setup_check_run(actor=linked)  # fails one line
    page_for(client, linked)
    html = client.get("/configuration/audit/").content.decode()
    assert "Failed:</span> Tax rates: S20 Standard rate sales (20 %)" in html
    assert "[" not in html.split("<tbody>")[1].split("</tbody>")[0]
