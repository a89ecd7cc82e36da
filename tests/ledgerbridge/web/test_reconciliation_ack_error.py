"""An acknowledgement refused for its reason answers with the page at the form's URL
(the row's form open, the reason kept): its tabs, pager, period links and the next
forms must lead to the page itself, not to the form's URL (a GET there was a 405,
and acknowledging again landed on it)."""

from __future__ import annotations

import re

import pytest

from ledgerbridge.accounting.models import AccountingPackage, AccountingSettings
from ledgerbridge.companies.models import Role
from ledgerbridge.web.views.common import PAGE_SIZE

from .test_reconciliation import QUERY, URL, make_row, make_run

pytestmark = pytest.mark.django_db

HERE = f"{URL}?{QUERY}&tab=differs"


@pytest.fixture
def rows(company):
    AccountingSettings.objects.update_or_create(
        company=company, defaults={"package": AccountingPackage.XERO_API}
    )
    run = make_run(company)
    return [make_row(run, number=f"INV-{n:04d}") for n in range(PAGE_SIZE + 1)]


def test_the_refused_forms_page_links_to_the_page_itself(client_for, rows):
    client = client_for(Role.FINANCE)
    answer = client.post(f"{URL}rows/{rows[0].pk}/acknowledge", {"reason": "  ", "next": HERE})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'href="?' not in page
    links = re.findall(r'href="([^"]*tab=[^"]*)"', page)
    assert links and all(link.startswith(URL + "?") for link in links)
    assert f'href="{URL}?' in page and "page=2" in page  # the pager
    nexts = set(re.findall(r'name="next" value="([^"]*)"', page))
    assert nexts == {HERE.replace("&", "&amp;")}
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200


def test_acknowledging_after_a_refusal_goes_back_to_the_page(client_for, rows):
    client = client_for(Role.FINANCE)
    refused = client.post(f"{URL}rows/{rows[0].pk}/acknowledge", {"reason": "", "next": HERE})
    form = re.search(
        rf'action="{URL}rows/{rows[0].pk}/acknowledge".*?name="next" value="([^"]*)"',
        refused.content.decode(),
        re.S,
    )
    assert form is not None
    answer = client.post(
        f"{URL}rows/{rows[0].pk}/acknowledge",
        {"reason": "Agreed by phone", "next": form.group(1).replace("&amp;", "&")},
    )
    assert answer.status_code == 302
    assert answer["Location"].startswith(URL + "?")
