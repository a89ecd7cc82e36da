"""Going live on an organisation that already holds data: the matching order and its
ambiguities (pure), and the hold, the confirmation and the contact choice around the
outbox, with the fake package and a reader of books written in the test.

The same against the Xero sandbox, at the size of a year typed by hand, is
``tests/ledgerbridge/xero/test_golive_sandbox.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from ledgerbridge.accounting.connector import (
    ConnectorError,
    ReadMeter,
    RemoteContact,
    RemoteDocument,
    TryLater,
    reader_registered,
)
from ledgerbridge.accounting.fingerprint import DocumentFingerprint
from ledgerbridge.accounting.golive import (
    OurDocument,
    PartnerFacts,
    contacts_match,
    documents_match,
    golive_begin,
    golive_confirm,
    golive_contact_choose,
    golive_match,
    golive_summary,
    tax_number_key,
)
from ledgerbridge.accounting.models import (
    AccountingPackage,
    ContactMatchMethod,
    GoLive,
    GoLiveDocumentClass,
    GoLiveState,
    StepStatus,
    SyncRecord,
    SyncStatus,
    WaitReason,
)
from ledgerbridge.companies.models import AuditEntry, Company, Role
from ledgerbridge.errors import ApplicationError, PermissionDeniedError
from ledgerbridge.invoicing.models import DocumentType, Task, TaskStatus
from ledgerbridge.invoicing.money import format_date
from tests.ledgerbridge.factories import make_actor, make_partner

from .conftest import final, post_all

pytestmark = pytest.mark.django_db


def contact(cid: str, name: str, number: str = "", tax: str = "", archived: bool = False):
    return RemoteContact(
        external_id=cid, name=name, contact_number=number, tax_number=tax, archived=archived
    )


def partner(pid: int, name: str, number: str = "", tax: str = "", kind: str = "customer"):
    return PartnerFacts(id=pid, kind=kind, number=number, name=name, tax_number=tax)


def remote(
    xid: str,
    number: str,
    contact_id: str,
    gross: str,
    *,
    type: str = "sales_invoice",
    status: str = "authorised",
    currency: str = "GBP",
) -> RemoteDocument:
    return RemoteDocument(
        external_id=xid,
        type=type,
        number=number,
        contact_id=contact_id,
        contact_name=f"contact {contact_id}",
        status=status,
        fingerprint=DocumentFingerprint(
            contact_id=contact_id,
            currency=currency,
            date=dt.date(2026, 11, 2),
            due_date=None,
            reference="",
            net=Decimal(gross),
            tax=Decimal(0),
            gross=Decimal(gross),
        ),
        lines_read=False,
        url=f"https://package.example/{xid}",
    )


def ours(did: int, number: str, partner_id: int, gross: str) -> OurDocument:
    return OurDocument(
        id=did,
        type="sales_invoice",
        number=number,
        partner_id=partner_id,
        partner_name=f"partner {partner_id}",
        currency="GBP",
        gross=Decimal(gross),
    )


def by_partner(matches):
    return {m.partner.id: m for m in matches}


# -- contacts: the order and the ambiguities ----------------------------------------------


def test_contact_number_wins_over_vat_number_and_name():
    [match] = contacts_match(
        [partner(1, "Acme Ltd", number="C0001", tax="GB123456789")],
        [
            contact("by-name", "Acme Ltd"),
            contact("by-vat", "Acme Trading", tax="123456789"),
            contact("by-number", "ACME (old)", number="C0001"),
        ],
    )
    assert (match.method, match.contact.external_id) == ("contact_number", "by-number")


def test_vat_number_wins_over_name_and_ignores_spaces_case_and_country_prefix():
    [match] = contacts_match(
        [partner(1, "Acme Ltd", number="C0001", tax="gb 123 4567 89")],
        [contact("by-name", "Acme Ltd"), contact("by-vat", "Acme Trading", tax="123456789")],
    )
    assert (match.method, match.contact.external_id) == ("tax_number", "by-vat")
    assert tax_number_key("GB 123 4567 89") == tax_number_key("123456789") == "123456789"


def test_exact_name_is_the_last_resort_ignoring_case_and_spaces():
    [match] = contacts_match(
        [partner(1, "Acme  Ltd", number="C0001")], [contact("x", "ACME Ltd"), contact("y", "Acme")]
    )
    assert (match.method, match.contact.external_id) == ("name", "x")


def test_no_match_is_created_when_first_posted():
    [match] = contacts_match([partner(1, "Acme Ltd", number="C0001")], [contact("x", "Other")])
    assert match.method == ContactMatchMethod.NONE and match.contact is None


def test_two_contacts_of_the_same_name_are_ambiguous_never_merged():
    [match] = contacts_match(
        [partner(1, "Acme Ltd")],
        [contact("old", "Acme Ltd", archived=True), contact("new", "Acme Ltd")],
    )
    assert match.method == ContactMatchMethod.AMBIGUOUS and match.contact is None
    assert [(c.contact.external_id, c.why) for c in match.candidates] == [
        ("old", "same name, archived in the package"),
        ("new", "same name"),
    ]


def test_an_ambiguous_stronger_key_is_not_settled_by_a_weaker_one():
    """Two contacts share the VAT number: the one that also has the name is not taken."""
    [match] = contacts_match(
        [partner(1, "Acme Ltd", tax="123456789")],
        [contact("a", "Acme Ltd", tax="123456789"), contact("b", "Acme North", tax="123456789")],
    )
    assert match.method == ContactMatchMethod.AMBIGUOUS
    assert {c.contact.external_id for c in match.candidates} == {"a", "b"}


def test_a_contact_archived_in_the_package_is_never_taken_by_itself():
    [match] = contacts_match([partner(1, "Acme Ltd")], [contact("x", "Acme Ltd", archived=True)])
    assert match.method == ContactMatchMethod.AMBIGUOUS


def test_one_contact_fitting_two_customers_is_ambiguous_for_both():
    matches = by_partner(
        contacts_match([partner(1, "Acme Ltd"), partner(2, "ACME LTD")], [contact("x", "Acme Ltd")])
    )
    assert matches[1].method == matches[2].method == ContactMatchMethod.AMBIGUOUS
    assert matches[1].candidates[0].why == "also fits ACME LTD"


def test_a_customer_and_a_supplier_may_share_one_contact():
    matches = by_partner(
        contacts_match(
            [partner(1, "Acme Ltd"), partner(2, "Acme Ltd", kind="supplier")],
            [contact("x", "Acme Ltd")],
        )
    )
    assert matches[1].contact.external_id == matches[2].contact.external_id == "x"


# -- documents: number + contact + total ----------------------------------------------------


def test_a_document_with_the_same_number_contact_and_total_is_linked():
    [match] = documents_match(
        [ours(1, "INV-1", 7, "120.00")], [remote("x", "inv-1", "c7", "120.00")], {7: ["c7"]}
    )
    assert match.kind == GoLiveDocumentClass.LINKED and match.theirs.external_id == "x"


def test_the_same_number_with_another_total_or_contact_is_a_conflict_never_posted():
    matches = documents_match(
        [ours(1, "INV-1", 7, "120.00"), ours(2, "INV-2", 7, "50.00")],
        [remote("x", "INV-1", "c7", "100.00"), remote("y", "INV-2", "c8", "50.00")],
        {7: ["c7"]},
    )
    assert [m.kind for m in matches] == ["conflict", "conflict"]
    assert "total 100.00 GBP (ours: 120.00 GBP)" in matches[0].note
    assert "contact contact c8 (ours: partner 7)" in matches[1].note


def test_voided_and_deleted_documents_match_nothing():
    matches = documents_match(
        [ours(1, "INV-1", 7, "120.00")],
        [
            remote("x", "INV-1", "c7", "120.00", status="voided"),
            remote("y", "INV-1", "c7", "120.00", status="deleted"),
        ],
        {7: ["c7"]},
    )
    assert [m.kind for m in matches] == ["to_post", "gone", "gone"]


def test_a_number_the_package_keeps_for_a_voided_document_is_shown_not_posted():
    """Where the package keeps sales numbers unique, gone ones included, ours would be
    refused: it is its own class, saying what happens and what to do."""
    kept = frozenset({"sales_invoice"})
    [mine] = documents_match(
        [ours(1, "INV-1", 7, "120.00")],
        [remote("x", "INV-1", "c7", "99.00", status="voided")],
        {7: ["c7"]},
        kept,
    )
    assert (mine.kind, mine.theirs.external_id) == ("number_kept", "x")
    assert "the package would refuse it: it keeps the number INV-1 for a document voided" in (
        mine.note
    )
    assert "issue it again under a new number" in mine.note


def test_a_live_document_of_the_same_number_wins_over_a_voided_one():
    kept = frozenset({"sales_invoice"})
    matches = documents_match(
        [ours(1, "INV-1", 7, "120.00")],
        [
            remote("x", "INV-1", "c7", "120.00", status="voided"),
            remote("y", "INV-1", "c7", "120.00"),
        ],
        {7: ["c7"]},
        kept,
    )
    assert [(m.kind, m.theirs.external_id) for m in matches] == [("linked", "y"), ("gone", "x")]


def test_a_bill_whose_supplier_number_only_a_voided_bill_holds_is_posted():
    """A bill's number is the supplier's: the package does not keep it unique."""
    kept = frozenset({"sales_invoice"})
    bill = OurDocument(
        id=1,
        type="purchase_invoice",
        number="SUP-9",
        partner_id=7,
        partner_name="partner 7",
        currency="GBP",
        gross=Decimal("50.00"),
    )
    matches = documents_match(
        [bill],
        [remote("x", "SUP-9", "c7", "50.00", type="purchase_invoice", status="deleted")],
        {7: ["c7"]},
        kept,
    )
    assert [m.kind for m in matches] == ["to_post", "gone"]


def test_an_ambiguous_partners_document_is_linked_when_its_contact_is_a_candidate():
    [match] = documents_match(
        [ours(1, "INV-1", 7, "120.00")], [remote("x", "INV-1", "b", "120.00")], {7: ["a", "b"]}
    )
    assert match.kind == GoLiveDocumentClass.LINKED


def test_the_packages_documents_that_are_none_of_ours_are_listed_only_in_the_package():
    matches = documents_match(
        [ours(1, "INV-1", 7, "120.00")],
        [remote("x", "INV-1", "c7", "120.00"), remote("y", "INV-9", "c7", "9.00")],
        {7: ["c7"]},
    )
    assert [(m.kind, m.theirs.external_id) for m in matches] == [
        ("linked", "x"),
        ("only_in_package", "y"),
    ]


def test_a_credit_note_does_not_match_an_invoice_of_the_same_number():
    [mine, theirs] = documents_match(
        [ours(1, "CN-1", 7, "10.00")],
        [remote("x", "CN-1", "c7", "10.00", type="sales_credit_note")],
        {7: ["c7"]},
    )
    assert (mine.kind, theirs.kind) == ("to_post", "only_in_package")


# -- around the outbox: hold, confirm, choose ---------------------------------------------


class BooksOnPaper:
    """A package's books written in the test, read as a ``BooksReader`` reads them."""

    def __init__(self, contacts: Sequence[RemoteContact], documents: Sequence[RemoteDocument]):
        self.contacts = list(contacts)
        self.documents = list(documents)
        self.fail = False
        # Reads the package asks to wait for (its minute used), before it answers.
        self.waits = 0

    def documents_read(
        self, company, *, date_from, date_to, meter: ReadMeter, modified_since=None
    ) -> Iterator[RemoteDocument]:
        if self.fail:
            raise ConnectorError("Xero is not answering")
        if self.waits:
            self.waits -= 1
            raise TryLater("Xero's minute is used up.", retry_after=12, maybe_sent=False)
        meter.add(size=100 * len(self.documents))
        yield from self.documents

    def documents_detail(self, company, external_ids, *, meter: ReadMeter):
        raise AssertionError("going live reads summaries only")

    def contacts_read(self, company, *, meter: ReadMeter) -> Iterator[RemoteContact]:
        meter.add(size=50 * len(self.contacts))
        yield from self.contacts


@pytest.fixture
def world(package, admin):
    """Four final documents of three customers, waiting for the link; the package holds
    one of them typed by hand, another number with another total, and two contacts
    named like the third customer."""
    company: Company = admin.company
    acme = make_partner(company, name="Acme Ltd", number="C1", vat_number="GB111111111")
    bolt = make_partner(company, name="Bolt Freight", number="C2")
    twin = make_partner(company, name="Twin Haulage", number="C3")
    package.unlink()
    # In one transaction each, so a browser test's commits render no PDF.
    with transaction.atomic():
        typed = final(admin, partner=acme)
    with transaction.atomic():
        clash = final(admin, partner=bolt)
    with transaction.atomic():
        fresh = final(admin, partner=acme)
    with transaction.atomic():
        waits = final(admin, partner=twin)
    post_all(company, runs=1)
    books = BooksOnPaper(
        [
            contact("c-acme", "ACME Trading", tax="111 111 111"),
            contact("c-bolt", "Bolt Freight"),
            contact("c-twin-old", "Twin Haulage", archived=True),
            contact("c-twin", "Twin Haulage"),
        ],
        [
            remote("x-typed", typed.number, "c-acme", str(typed.gross_total)),
            remote("x-clash", clash.number, "c-bolt", "1.00"),
            remote("x-other", "OLD-7", "c-bolt", "70.00"),
        ],
    )
    package.link()
    with reader_registered(AccountingPackage.XERO_API, lambda: books):
        yield {
            "admin": admin,
            "typed": typed,
            "clash": clash,
            "fresh": fresh,
            "waits": waits,
            "twin": twin,
            "books": books,
        }


@pytest.fixture
def begin(django_capture_on_commit_callbacks):
    """Begin going live as linking does; the queue (immediate in tests) matches."""

    def begin(company: Company) -> GoLive:
        with django_capture_on_commit_callbacks(execute=True):
            golive_begin(company=company, now=timezone.now())
        return GoLive.objects.get(company=company)

    return begin


def _record(document) -> SyncRecord:
    return SyncRecord.objects.get(document=document)


def test_nothing_is_posted_while_matching_nor_before_a_super_admin_confirms(package, world, begin):
    company = world["admin"].company
    begin(company)
    post_all(company)
    assert package.numbers(company) == []
    record = _record(world["fresh"])
    assert (record.status, record.waiting_for) == (SyncStatus.PENDING, WaitReason.GO_LIVE)
    assert "waiting for a Super Admin to confirm what Xero already holds" in record.message
    task = Task.objects.get(document=world["fresh"], type="post_to_xero")
    assert task.status == TaskStatus.IN_PROGRESS and "Super Admin" in task.message
    go_live = GoLive.objects.get(company=company)
    assert go_live.state == GoLiveState.AWAITING
    assert go_live.counts == {
        "contacts": {"tax_number": 1, "name": 1, "ambiguous": 1},
        "documents": {"linked": 1, "conflict": 1, "to_post": 2, "only_in_package": 1},
    }


def test_matching_told_to_wait_goes_on_when_the_package_has_room(package, world, begin):
    # Posting is held until matching is done: a package asking to wait (its minute
    # used by the link's own calls) must not cost a fixed minute-long retry.
    from huey.contrib.djhuey import HUEY

    from ledgerbridge.accounting.golive_tasks import golive_match_task

    company = world["admin"].company
    world["books"].waits = 1
    before = len(HUEY.scheduled())
    begin(company)
    scheduled = HUEY.scheduled()
    HUEY.storage.flush_schedule()

    go_live = GoLive.objects.get(company=company)
    assert go_live.state == GoLiveState.MATCHING
    assert go_live.error == "Xero's minute is used up."
    assert len(scheduled) == before + 1
    task = scheduled[-1]
    assert (task.args, task.kwargs) == ((company.pk,), {"attempt": 2})
    assert task.eta is not None
    assert 0 < (task.eta - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds() <= 12

    golive_match_task(company.pk, attempt=2)
    assert GoLive.objects.get(company=company).state == GoLiveState.AWAITING


def test_confirming_links_the_matched_posts_the_rest_and_holds_the_ambiguous(package, world, begin):
    admin, company = world["admin"], world["admin"].company
    begin(company)
    golive_confirm(actor=admin)
    post_all(company)
    typed = _record(world["typed"])
    assert (typed.status, typed.external_id) == (SyncStatus.POSTED, "x-typed")
    assert typed.attachment_status == StepStatus.SKIPPED
    assert typed.message.startswith(f"Linked at go-live to {world['typed'].number} already in")
    clash = _record(world["clash"])
    assert clash.status == SyncStatus.FAILED and "total 1.00 GBP" in clash.message
    # Only the one nobody typed by hand reached the package; Twin waits for a choice.
    assert package.numbers(company) == [world["fresh"].number]
    waits = _record(world["waits"])
    assert (waits.status, waits.waiting_for) == (SyncStatus.PENDING, WaitReason.GO_LIVE)
    assert "choose which Xero contact is Twin Haulage" in waits.message
    assert AuditEntry.objects.filter(company=company, action="go-live confirmed").exists()


def test_choosing_the_contact_of_an_ambiguous_partner_posts_its_documents(package, world, begin):
    admin, company = world["admin"], world["admin"].company
    begin(company)
    golive_confirm(actor=admin)
    post_all(company)
    golive_contact_choose(actor=admin, partner_id=world["twin"].pk, external_id="c-twin")
    post_all(company)
    assert _record(world["waits"]).status == SyncStatus.POSTED
    entry = AuditEntry.objects.get(company=company, action="go-live contact chosen")
    assert entry.target == "Twin Haulage" and entry.changes["external_id"] == "c-twin"


def test_only_a_super_admin_confirms(package, world, begin):
    company = world["admin"].company
    begin(company)
    with pytest.raises(PermissionDeniedError):
        golive_confirm(actor=make_actor(company, Role.FINANCE))
    assert GoLive.objects.get(company=company).state == GoLiveState.AWAITING


def test_an_organisation_holding_nothing_goes_live_at_once(package, admin, begin):
    company = admin.company
    document = final(admin)
    with reader_registered(AccountingPackage.XERO_API, lambda: BooksOnPaper([], [])):
        begin(company)
    post_all(company)
    assert GoLive.objects.get(company=company).state == GoLiveState.CONFIRMED
    assert _record(document).status == SyncStatus.POSTED


def test_a_backlog_confirmed_by_itself_says_so_in_words(package, admin, begin):
    company = admin.company
    with reader_registered(AccountingPackage.XERO_API, lambda: BooksOnPaper([], [])):
        begin(company)
    text = _client(company).get("/configuration/accounting/go-live").content.decode()
    today = format_date(timezone.localdate())
    assert f"Automatically on {today} at " in text
    assert "Xero held nothing to match" in text
    assert "by automatic" not in text


def test_going_live_again_names_the_day_it_was_confirmed_as_pages_write_dates(
    package, admin, begin
):
    company = admin.company
    with reader_registered(AccountingPackage.XERO_API, lambda: BooksOnPaper([], [])):
        begin(company)
    GoLive.objects.filter(company=company).update(
        confirmed_at=dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
    )
    with pytest.raises(ApplicationError, match="confirmed on 4 Dec 2026"):
        golive_begin(company=company, now=timezone.now())


def test_matching_again_keeps_a_contact_already_chosen(package, world, begin):
    admin, company = world["admin"], world["admin"].company
    begin(company)
    golive_contact_choose(actor=admin, partner_id=world["twin"].pk, external_id="c-twin")
    begin(company)
    go_live = GoLive.objects.get(company=company)
    assert go_live.counts["contacts"] == {"tax_number": 1, "name": 1, "chosen": 1}
    golive_match(company=company)  # idempotent


def test_the_command_matches_and_prints_the_summary_with_the_contacts_to_choose_for(package, world):
    from io import StringIO

    from django.core.management import call_command

    company = world["admin"].company
    out = StringIO()
    call_command("golive", company=company.legal_name, stdout=out)
    text = out.getvalue()
    assert "Matched, waiting for a Super Admin to confirm" in text
    assert "Already in Xero: linked, not posted: 1" in text
    assert "Not in Xero: to post after confirmation: 2" in text
    assert "of which posted automatically: 2, waiting for Finance to post them: 0" in text
    assert "To choose for Twin Haulage: Twin Haulage (same name, archived in Xero)" in text
    assert "the package" not in text
    call_command("golive", company=str(company.pk), confirm=True, stdout=StringIO())
    assert GoLive.objects.get(company=company).confirmed_by_label == "command line"


# -- the page: Configuration > Accounting > Going live ------------------------------------


def _client(company: Company, role: str = Role.SUPER_ADMIN):
    from django.test import Client

    from tests.ledgerbridge.factories import PASSWORD, make_user

    client = Client()
    user = make_user(company, role)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_page_shows_the_counts_the_lists_and_the_contacts_to_choose(package, world, begin):
    company = world["admin"].company
    begin(company)
    page = _client(company).get("/configuration/accounting/go-live")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Confirm and post the backlog" in text
    assert "Already in Xero: linked, not posted" in text
    assert "Same number in Xero, but not the same document" in text
    assert f'id="review-{world["twin"].pk}"' in text
    assert "same name, archived in Xero" in text
    assert f"Already in Xero as {world['clash'].number}, but with total 1.00 GBP" in text


def test_the_page_says_which_documents_to_post_go_by_themselves_and_which_wait_for_finance(
    package, admin, begin
):
    company = admin.company
    final(admin)
    final(admin)
    # Purchases are not posted automatically by default: Finance posts them.
    final(admin, type=DocumentType.PURCHASE_INVOICE, partner=make_partner(company, "supplier"))
    with reader_registered(
        AccountingPackage.XERO_API, lambda: BooksOnPaper([contact("c-1", "Other Ltd")], [])
    ):
        begin(company)
    summary = golive_summary(company=company)
    assert summary is not None
    assert (summary.to_post_by_itself, summary.to_post_by_hand) == (2, 1)
    text = _client(company).get("/configuration/accounting/go-live").content.decode()
    assert "Not in Xero: to post after confirmation" in text
    assert "2 posted automatically, 1 waits for Finance to post it (Post to Xero task)" in text


def test_confirming_and_choosing_on_the_page(package, world, begin):
    company = world["admin"].company
    begin(company)
    client = _client(company)
    answer = client.post(
        "/configuration/accounting/go-live/choose",
        {"partner": world["twin"].pk, "contact": "c-twin"},
    )
    assert answer.status_code == 302
    client.post("/configuration/accounting/go-live/confirm")
    post_all(company)
    assert GoLive.objects.get(company=company).state == GoLiveState.CONFIRMED
    assert _record(world["waits"]).status == SyncStatus.POSTED
    assert _record(world["typed"]).external_id == "x-typed"


def test_a_finance_user_may_not_confirm(package, world, begin):
    company = world["admin"].company
    begin(company)
    answer = _client(company, Role.FINANCE).post("/configuration/accounting/go-live/confirm")
    assert answer.status_code == 403
    assert GoLive.objects.get(company=company).state == GoLiveState.AWAITING


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_super_admin_chooses_a_contact_and_confirms_in_the_browser(
    package, world, begin, live_server, page, tmp_path
):
    import os

    from playwright.sync_api import expect

    from tests.ledgerbridge.factories import make_user

    company = world["admin"].company
    begin(company)
    make_user(company, Role.SUPER_ADMIN, username="sam", password="pallet-jack-77")
    page.on("dialog", lambda dialog: dialog.accept())
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("pallet-jack-77")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Configuration").click()
    page.get_by_role("link", name="Going live").click()
    expect(page.locator("#go-live-badge")).to_have_text("Posting held")
    expect(page.locator("#count-linked")).to_contain_text("1")
    shots = os.environ.get("LEDGERBRIDGE_SCREENSHOTS") or str(tmp_path)
    page.screenshot(path=os.path.join(shots, "go-live.png"), full_page=False)
    page.screenshot(path=os.path.join(shots, "go-live-full.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    row = page.locator(f"#review-{world['twin'].pk}")
    row.get_by_label("Twin Haulage", exact=False).last.check()
    row.get_by_role("button", name="Use this contact").click()
    expect(page.locator("#go-live-review")).to_have_count(0)
    page.get_by_role("button", name="Confirm and post the backlog").click()
    expect(page.locator("#go-live-badge")).to_have_text("Live")
    page.screenshot(path=os.path.join(shots, "go-live-confirmed.png"), full_page=False)
    assert GoLive.objects.get(company=company).confirmed_by_label == "sam"


def test_contacts_matched_in_one_organisation_are_never_used_in_another(package, world, begin):
    from ledgerbridge.accounting.golive import contact_ids_settled, golive_start_on_link

    company = world["admin"].company
    begin(company)
    GoLive.objects.filter(company=company).update(organisation="org-A")
    partner_ids = list(company.partners.values_list("pk", flat=True))
    assert sorted(contact_ids_settled(partner_ids, organisation="org-A").values()) == [
        "c-acme",
        "c-bolt",
    ]
    assert contact_ids_settled(partner_ids, organisation="org-B") == {}
    # Linked to another organisation: what was matched in the first is forgotten, and
    # going live begins again there.
    golive_start_on_link(company=company, organisation="org-B", now=timezone.now())
    go_live = GoLive.objects.get(company=company)
    assert (go_live.state, go_live.organisation, go_live.counts) == ("matching", "", {})
    assert contact_ids_settled(partner_ids, organisation="org-A") == {}


def test_the_banner_says_posting_waits_for_going_live_and_who_acts(package, world, begin):
    from ledgerbridge.xero.models import XeroConnection
    from ledgerbridge.xero.status import posting_status

    admin, company = world["admin"], world["admin"].company
    XeroConnection.objects.create(company=company, status="connected", tenant_id="org-A")
    begin(company)
    status = posting_status(actor=admin)
    assert (status.state, status.blocked_reason) == ("blocked", "go_live")
    assert status.headline.startswith("Posting to Xero waits for going live")
    assert status.action_url == "/configuration/accounting/go-live"
    finance = posting_status(actor=make_actor(company, Role.FINANCE))
    assert finance.action_url == "" and "Going live" in finance.who
    golive_confirm(actor=admin)
    post_all(company)
    assert posting_status(actor=admin).blocked_reason == ""
    one = posting_status(actor=admin, document_id=world["waits"].pk)
    assert (one.state, one.blocked_reason) == ("blocked", "go_live")
    assert "choose which Xero contact is Twin Haulage" in one.headline


def test_a_document_linked_from_a_summary_keeps_no_fingerprint_of_lines_it_never_read(
    package, world, begin
):
    """Else every change check would see its lines go from none to some."""
    admin, company = world["admin"], world["admin"].company
    begin(company)
    golive_confirm(actor=admin)
    typed = _record(world["typed"])
    assert typed.fingerprint is None
    assert typed.external_tax == Decimal(0) and typed.external_total == world["typed"].gross_total


def test_matching_begun_after_some_were_posted_leaves_our_own_documents_out(package, admin, begin):
    company = admin.company
    posted = final(admin)
    post_all(company)
    record = _record(posted)
    waiting = final(admin)
    books = BooksOnPaper(
        [],
        [
            remote(record.external_id, posted.number, "c", str(posted.gross_total)),
            remote("x-typed", waiting.number, "c", str(waiting.gross_total)),
        ],
    )
    with reader_registered(AccountingPackage.XERO_API, lambda: books):
        go_live = begin(company)
    # Ours posted is neither matched nor only in the package; the waiting one's contact
    # in the package is none of our partners' (no contact matched): a conflict.
    assert go_live.counts["documents"] == {"conflict": 1}


def test_the_accounting_page_leads_to_going_live_while_posting_is_held(package, world, begin):
    company = world["admin"].company
    begin(company)
    text = _client(company).get("/configuration/accounting/").content.decode()
    assert 'id="go-live-card"' in text and "/configuration/accounting/go-live" in text
    golive_confirm(actor=world["admin"])
    text = _client(company).get("/configuration/accounting/").content.decode()
    assert 'id="go-live-card"' not in text


def test_a_matching_whose_job_was_lost_is_asked_for_again_by_the_sweep(package, world):
    from ledgerbridge.accounting.golive_tasks import golive_sweep

    company = world["admin"].company
    golive_begin(company=company, now=timezone.now() - dt.timedelta(minutes=6), queue=False)
    assert GoLive.objects.get(company=company).state == GoLiveState.MATCHING
    golive_sweep.call_local()
    assert GoLive.objects.get(company=company).state == GoLiveState.AWAITING


def test_a_document_finalised_between_matching_and_confirming_typed_in_the_package_is_linked(
    package, world, begin
):
    """Nothing goes twice: one typed by hand after the matching read the package is
    matched at confirmation (only what changed since read again), linked, not posted."""
    admin, company = world["admin"], world["admin"].company
    begin(company)
    acme = world["typed"].partner
    with transaction.atomic():
        late_typed = final(admin, partner=acme)
    with transaction.atomic():
        late_new = final(admin, partner=acme)
    post_all(company)
    assert package.numbers(company) == []
    world["books"].documents.append(
        remote("x-late", late_typed.number, "c-acme", str(late_typed.gross_total))
    )
    assert golive_summary(company=company).newcomers == 2
    golive_confirm(actor=admin)
    post_all(company)
    record = _record(late_typed)
    assert (record.status, record.external_id) == (SyncStatus.POSTED, "x-late")
    assert record.message.startswith("Linked at go-live")
    assert sorted(package.numbers(company)) == sorted([world["fresh"].number, late_new.number])
    summary = golive_summary(company=company)
    assert summary.newcomers == 0
    assert summary.go_live.counts["documents"]["linked"] == 2
    assert summary.go_live.counts["documents"]["to_post"] == 3


def test_a_document_finalised_after_matching_with_a_number_kept_for_a_voided_one_is_not_posted(
    package, world, begin
):
    admin, company = world["admin"], world["admin"].company
    begin(company)
    with transaction.atomic():
        late = final(admin, partner=world["typed"].partner)
    world["books"].documents.append(
        remote("x-void", late.number, "c-acme", "5.00", status="voided")
    )
    golive_confirm(actor=admin)  # Xero keeps sales numbers, voided ones included
    post_all(company)
    record = _record(late)
    assert record.status == SyncStatus.FAILED
    assert record.message.startswith("Not posted, as Xero would refuse it: it keeps the number")
    assert late.number not in package.numbers(company)


def test_confirming_when_the_package_cannot_be_read_for_late_documents_posts_nothing(
    package, world, begin
):
    admin, company = world["admin"], world["admin"].company
    begin(company)
    with transaction.atomic():
        final(admin, partner=world["typed"].partner)
    world["books"].fail = True
    with pytest.raises(ApplicationError, match="1 document finalised since the matching"):
        golive_confirm(actor=admin)
    post_all(company)
    assert package.numbers(company) == []
    assert GoLive.objects.get(company=company).state == GoLiveState.AWAITING


def test_the_page_counts_documents_finalised_since_the_matching_and_says_a_kept_number(
    package, world, begin
):
    admin, company = world["admin"], world["admin"].company
    world["books"].documents.append(
        remote("x-void", world["fresh"].number, "c-acme", "5.00", status="voided")
    )
    begin(company)
    with transaction.atomic():
        final(admin, partner=world["typed"].partner)
    text = _client(company).get("/configuration/accounting/go-live").content.decode()
    assert 'id="go-live-newcomers"' in text
    assert "1 document finalised since the matching read Xero" in text
    assert "Number kept by Xero for a voided or deleted document: not posted" in text
    assert f"Not posted, as Xero would refuse it: it keeps the number {world['fresh'].number}" in (
        text
    )


def test_a_document_asked_to_be_posted_while_going_live_waits_for_a_confirmation_under_way(
    package, world, begin
):
    """It takes the going-live row's lock first: either the confirmation sees it and
    matches it, or it comes after the confirmation (posted as usual), never between."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin, company = world["admin"], world["admin"].company
    begin(company)
    with CaptureQueriesContext(connection) as asked, transaction.atomic():
        final(admin, partner=world["typed"].partner)
    locks = [
        q["sql"] for q in asked if "accounting_golive" in q["sql"] and "FOR UPDATE" in q["sql"]
    ]
    assert len(locks) == (1 if connection.features.has_select_for_update else 0)
    golive_confirm(actor=admin)
    with CaptureQueriesContext(connection) as after, transaction.atomic():
        final(admin, partner=world["typed"].partner)
    assert not [q for q in after if "FOR UPDATE" in q["sql"] and "accounting_golive" in q["sql"]]
