from urllib.parse import parse_qs, urlparse

import pytest

from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.xero.models import LinkStatus, XeroConnection
from tests.ledgerbridge.factories import PASSWORD, make_company, make_user

from .conftest import consent

pytestmark = pytest.mark.django_db

PAGE = "/configuration/accounting/"


def login(client, company, role=Role.SUPER_ADMIN, **kwargs):
    user = make_user(company, role, **kwargs)
    assert client.login(username=user.username, password=PASSWORD)
    return user


def test_finance_and_viewer_get_403(client, admin):
    for role in (Role.FINANCE, Role.VIEWER):
        client.logout()
        login(client, admin.company, role)
        assert client.get(PAGE).status_code == 403
        assert client.post("/configuration/accounting/xero/reset").status_code == 403
        assert client.post("/configuration/accounting/xero/authorise").status_code == 403


def test_the_package_is_greyed_out_for_a_super_admin_and_cannot_be_changed(client, admin):
    login(client, admin.company)
    html = client.get(PAGE).content.decode()
    assert "Accounting Settings" in html
    assert 'name="package" id="package" disabled' in html
    client.post("/configuration/accounting/package", {"package": "none"})
    assert AccountingSettings.objects.get(company=admin.company).package == "xero_api"


def test_platform_staff_change_the_package_and_it_is_audited(client):
    company = make_company()
    staff = make_user(platform_staff=True)
    client.login(username=staff.username, password=PASSWORD)
    client.post("/company/switch", {"company_id": company.pk})
    client.post("/configuration/accounting/package", {"package": "xero_file"})
    assert AccountingSettings.objects.get(company=company).package == "xero_file"
    entry = AuditEntry.objects.get(company=company, action="accounting package changed")
    assert entry.changes == {"package": ["none", "xero_file"]}


def test_authorise_through_the_page_connects_and_reset_disconnects(client, sandbox, admin):
    login(client, admin.company)
    html = client.get(PAGE).content.decode()
    assert "Not connected" in html and "Authorise API" in html
    start = client.post("/configuration/accounting/xero/authorise")
    assert start.status_code == 302 and start["Location"].startswith(sandbox.base_url)
    query = consent(sandbox, start["Location"], tenant_ids=[sandbox.tenant_id])
    back = client.get("/configuration/accounting/xero/callback", query)
    assert back.status_code == 302
    html = client.get(PAGE).content.decode()
    assert "Connected to Demo Company (UK)." in html
    assert 'id="link-status">Connected<' in html
    connection_id = XeroConnection.objects.get(company=admin.company).connection_id
    client.post("/configuration/accounting/xero/reset")
    assert XeroConnection.objects.get(company=admin.company).status == LinkStatus.NOT_CONNECTED
    calls = {(c["method"], c["path"]) for c in sandbox.control.calls()}
    assert ("DELETE", f"/connections/{connection_id}") in calls
    assert ("POST", "/connect/revocation") in calls
    assert "Not connected" in client.get(PAGE).content.decode()


def test_a_callback_with_a_foreign_state_is_refused(client, sandbox, admin):
    login(client, admin.company)
    client.post("/configuration/accounting/xero/authorise")
    back = client.get(
        "/configuration/accounting/xero/callback", {"code": "x", "state": "forged"}, follow=True
    )
    assert "was not started here" in back.content.decode()
    assert XeroConnection.objects.get(company=admin.company).status == LinkStatus.NOT_CONNECTED


def test_the_redirect_uri_comes_from_the_public_url_not_the_host_header(
    client, sandbox, admin, settings
):
    settings.PUBLIC_URL = "https://tms.example.com"
    login(client, admin.company)
    start = client.post("/configuration/accounting/xero/authorise", HTTP_HOST="localhost")
    query = parse_qs(urlparse(start["Location"]).query)
    assert query["redirect_uri"] == [
        "https://tms.example.com/configuration/accounting/xero/callback"
    ]


def _token_client(client, company, role):
    from ledgerbridge.companies.services import api_token_create
    from tests.ledgerbridge.factories import make_actor

    _, raw = api_token_create(actor=make_actor(company, Role.SUPER_ADMIN), name="script", role=role)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def test_api_finance_and_viewer_tokens_get_403(client, admin):
    for role in (Role.FINANCE, Role.VIEWER):
        api = _token_client(client, admin.company, role)
        assert api.get("/api/accounting").status_code == 403
        assert api.post("/api/accounting/xero/reset").status_code == 403


def test_api_super_admin_reads_the_link_but_cannot_change_the_package(client, admin):
    api = _token_client(client, admin.company, Role.SUPER_ADMIN)
    body = api.get("/api/accounting").json()
    assert body["package"] == "xero_api"
    assert body["xero"]["status"] == "not_connected"
    answer = api.put(
        "/api/accounting/package", {"package": "none"}, content_type="application/json"
    )
    assert answer.status_code == 403
    assert "platform staff" in answer.json()["detail"]


def test_switching_auto_posting_on_needs_a_passing_setup_check(client, sandbox, admin):
    from ledgerbridge.invoicing.models import TaxRate
    from ledgerbridge.xero.models import XeroTaxMapping

    from .conftest import authorise

    AccountingSettings.objects.filter(company=admin.company).update(
        auto_post_purchase_invoice=False
    )
    authorise(sandbox, admin, [sandbox.tenant_id])
    XeroTaxMapping.objects.create(
        tax_rate=TaxRate.objects.get(company=admin.company, code="S20P"), tax_type="INPUT9"
    )
    login(client, admin.company)
    answer = client.post(
        "/configuration/accounting/posting", {"auto_post_purchase_invoice": "on"}, follow=True
    )
    assert "Auto-posting stays off until the setup check passes" in answer.content.decode()
    assert not AccountingSettings.objects.get(company=admin.company).auto_post_purchase_invoice
    XeroTaxMapping.objects.all().delete()
    client.post("/configuration/accounting/posting", {"auto_post_purchase_invoice": "on"})
    assert AccountingSettings.objects.get(company=admin.company).auto_post_purchase_invoice


def test_a_custom_xero_tax_name_for_import_files_is_saved_and_audited(client, admin):
    from ledgerbridge.invoicing.models import TaxRate
    from ledgerbridge.xero.coding import tax_names_for_company

    login(client, admin.company)
    s20 = TaxRate.objects.get(company=admin.company, code="S20")
    assert tax_names_for_company(admin.company)[s20.pk] == "20% (VAT on Income)"
    client.post(
        "/configuration/accounting/xero/mapping", {f"taxname_{s20.pk}": "Standard 20% Haulage"}
    )
    assert tax_names_for_company(admin.company)[s20.pk] == "Standard 20% Haulage"
    assert AuditEntry.objects.filter(company=admin.company, action="Xero tax name changed").exists()
