"""Creating, editing, finalising, crediting and deleting documents through the pages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document, DocumentStatus, Task, TaskStatus
from ledgerbridge.invoicing.workflow import TaskType, task_type_register, task_type_unregister
from tests.ledgerbridge.factories import make_actor, make_document, make_partner

pytestmark = pytest.mark.django_db


def line(
    description="Freight Leeds - Hull",
    charge_type="freight",
    quantity="2",
    unit_price="450",
    discount="0",
    nominal="200",
    tax="S20",
):
    return {
        "line_description": description,
        "line_charge_type": charge_type,
        "line_quantity": quantity,
        "line_unit_price": unit_price,
        "line_discount_percent": discount,
        "line_nominal_code": nominal,
        "line_tax_rate": tax,
        "line_credited_line_id": "",
    }


def post_data(partner, *lines, **header):
    data: dict[str, list[str] | str] = {
        "partner_id": str(partner.pk),
        "issue_date": "2026-11-02",
        "due_date": "",
        "currency": "",
        "reference": "",
        "order_reference": "ORD-1",
        "trip_reference": "",
        "notes": "",
    }
    data.update(header)
    for name in line():
        data[name] = [row[name] for row in lines]
    return data


@pytest.fixture
def customer(company):
    return make_partner(company, name="Acme Retail Ltd")


def test_new_sales_invoice_form_offers_customers_and_sales_tax_rates_only(
    client_for, company, customer
):
    supplier = make_partner(company, "supplier", name="Diesel Direct")
    html = (
        client_for(Role.FINANCE)
        .get(reverse("document_new") + "?type=sales_invoice")
        .content.decode()
    )
    assert "Acme Retail Ltd" in html
    assert "Diesel Direct" not in html
    assert 'value="S20"' in html
    assert 'value="S20P"' not in html
    assert supplier.name not in html


def test_new_purchase_invoice_form_offers_suppliers_and_purchase_tax_rates(client_for, company):
    make_partner(company, "supplier", name="Diesel Direct")
    html = (
        client_for(Role.FINANCE)
        .get(reverse("document_new") + "?type=purchase_invoice")
        .content.decode()
    )
    assert "Diesel Direct" in html
    assert 'value="S20P"' in html
    assert "Supplier&#x27;s document number" in html


def test_creating_a_draft_with_two_lines_saves_it_and_shows_it(client_for, company, customer):
    client = client_for(Role.FINANCE)
    response = client.post(
        reverse("document_new") + "?type=sales_invoice",
        post_data(
            customer, line(), line("Fuel surcharge", "fuel_surcharge", "1", "63.50", nominal="201")
        ),
    )
    document = Document.objects.get(company=company)
    assert response.status_code == 302
    assert response["Location"] == reverse("document_detail", args=[document.pk])
    assert document.status == DocumentStatus.DRAFT
    assert document.lines.count() == 2
    assert document.gross_total == Decimal("1156.20")
    assert document.order_reference == "ORD-1"


def test_a_bad_quantity_marks_that_lines_input_and_saves_nothing(client_for, company, customer):
    client = client_for(Role.FINANCE)
    response = client.post(
        reverse("document_new") + "?type=sales_invoice",
        post_data(customer, line(), line(), line(quantity="two")),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line 3: quantity “two” is not a number." in html
    assert 'name="line_quantity" value="two" aria-label="Quantity" aria-invalid="true"' in html
    assert html.count('aria-invalid="true"') == 1
    assert not Document.objects.filter(company=company).exists()


def test_an_unknown_nominal_code_names_the_field(client_for, company, customer):
    response = client_for(Role.FINANCE).post(
        reverse("document_new") + "?type=sales_invoice",
        post_data(customer, line(nominal="9999")),
    )
    html = response.content.decode()
    assert "Line 1: nominal code &#x27;9999&#x27; does not exist or is inactive." in html
    assert 'name="line_nominal_code" aria-label="Nominal code" aria-invalid="true"' in html


def test_empty_rows_are_ignored_and_line_numbers_follow_the_kept_rows(
    client_for, company, customer
):
    blank = line(description="", quantity="", unit_price="")
    response = client_for(Role.FINANCE).post(
        reverse("document_new") + "?type=sales_invoice",
        post_data(customer, blank, line(unit_price="abc")),
    )
    html = response.content.decode()
    assert "Line 1: unit price “abc” is not a number." in html
    assert 'value="abc" aria-label="Unit price" aria-invalid="true"' in html


def test_header_errors_show_next_to_the_field(client_for, company, customer):
    response = client_for(Role.FINANCE).post(
        reverse("document_new") + "?type=sales_invoice",
        post_data(customer, line(), due_date="2026-10-01"),
    )
    html = response.content.decode()
    assert "The due date cannot be before the issue date." in html
    assert 'name="due_date" value="2026-10-01"' in html
    assert re.search(r'<input[^>]*name="due_date"[^>]*aria-invalid="true"', html)


def test_a_missing_partner_is_a_form_error(client_for, company, customer):
    data = post_data(customer, line())
    data["partner_id"] = ""
    response = client_for(Role.FINANCE).post(reverse("document_new") + "?type=sales_invoice", data)
    assert response.status_code == 200
    assert b"This field is required." in response.content
    assert not Document.objects.exists()


def test_no_lines_is_an_error_above_the_lines(client_for, company, customer):
    response = client_for(Role.FINANCE).post(
        reverse("document_new") + "?type=sales_invoice", post_data(customer)
    )
    assert b"Add at least one line." in response.content


def test_editing_a_draft_replaces_its_lines(client_for, company, customer):
    actor = make_actor(company)
    draft = make_document(actor, lines=3, partner=customer)
    client = client_for(Role.FINANCE)
    form = client.get(reverse("document_edit", args=[draft.pk])).content.decode()
    assert form.count('name="line_description"') == 3 + 1  # three rows and the template row
    response = client.post(
        reverse("document_edit", args=[draft.pk]), post_data(customer, line(quantity="3"))
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.lines.count() == 1
    assert draft.net_total == Decimal("1350.00")


def test_editing_a_final_document_is_refused(client_for, company):
    final = make_document(make_actor(company), finalise=True)
    response = client_for(Role.FINANCE).get(reverse("document_edit", args=[final.pk]), follow=True)
    assert b"is final; correct it with a credit note" in response.content


def test_finalising_gives_the_number(client_for, company):
    draft = make_document(make_actor(company))
    response = client_for(Role.FINANCE).post(
        reverse("document_finalise", args=[draft.pk]), follow=True
    )
    draft.refresh_from_db()
    assert draft.status == DocumentStatus.FINAL
    assert f"Finalised as sales invoice {draft.number}".encode() in response.content


def test_finalising_twice_shows_the_reason(client_for, company):
    final = make_document(make_actor(company), finalise=True)
    response = client_for(Role.FINANCE).post(
        reverse("document_finalise", args=[final.pk]), follow=True
    )
    assert b"Not finalised:" in response.content
    assert b"is already final" in response.content


def test_finalise_needs_post(client_for, company):
    draft = make_document(make_actor(company))
    assert (
        client_for(Role.FINANCE).get(reverse("document_finalise", args=[draft.pk])).status_code
        == 405
    )


def test_deleting_a_draft(client_for, company):
    draft = make_document(make_actor(company))
    response = client_for(Role.FINANCE).post(reverse("document_delete", args=[draft.pk]))
    assert response.status_code == 302
    assert not Document.objects.filter(pk=draft.pk).exists()


def test_a_final_document_cannot_be_deleted(client_for, company):
    final = make_document(make_actor(company), finalise=True)
    response = client_for(Role.FINANCE).post(
        reverse("document_delete", args=[final.pk]), follow=True
    )
    assert b"Only drafts can be deleted." in response.content
    assert Document.objects.filter(pk=final.pk).exists()


def test_the_pdf_is_served_inline(client_for, company):
    final = make_document(make_actor(company), finalise=True)
    response = client_for(Role.VIEWER).get(reverse("document_pdf", args=[final.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response.content.startswith(b"%PDF")


def test_a_draft_has_no_pdf(client_for, company):
    draft = make_document(make_actor(company))
    assert client_for(Role.VIEWER).get(reverse("document_pdf", args=[draft.pk])).status_code == 404


def test_crediting_a_whole_invoice(client_for, company):
    invoice = make_document(make_actor(company), lines=2, finalise=True)
    client = client_for(Role.FINANCE)
    page = client.get(reverse("document_credit", args=[invoice.pk])).content.decode()
    lines = list(invoice.lines.all())
    data = {f"qty_{ln.pk}": str(ln.quantity) for ln in lines}
    data.update({"issue_date": "2026-11-20", "reference": ""})
    assert all(f'name="qty_{ln.pk}"' in page for ln in lines)
    response = client.post(reverse("document_credit", args=[invoice.pk]), data)
    credit_note = Document.objects.get(original=invoice)
    assert response["Location"] == reverse("document_detail", args=[credit_note.pk])
    assert credit_note.type == "sales_credit_note"
    assert credit_note.gross_total == invoice.gross_total
    detail = client.get(reverse("document_detail", args=[credit_note.pk])).content.decode()
    assert invoice.number in detail
    original = client.get(reverse("document_detail", args=[invoice.pk])).content.decode()
    assert "Credit notes of this invoice" in original


def test_crediting_part_of_an_invoice(client_for, company):
    invoice = make_document(make_actor(company), lines=2, finalise=True)
    first, second = invoice.lines.all()
    response = client_for(Role.FINANCE).post(
        reverse("document_credit", args=[invoice.pk]),
        {f"qty_{first.pk}": "0.5", f"qty_{second.pk}": "0", "issue_date": "2026-11-20"},
    )
    assert response.status_code == 302
    credit_note = Document.objects.get(original=invoice)
    assert [ln.quantity for ln in credit_note.lines.all()] == [Decimal("0.5")]


def test_crediting_more_than_invoiced_marks_the_line(client_for, company):
    invoice = make_document(make_actor(company), lines=2, finalise=True)
    first, second = invoice.lines.all()
    response = client_for(Role.FINANCE).post(
        reverse("document_credit", args=[invoice.pk]),
        {f"qty_{first.pk}": "5", f"qty_{second.pk}": "1", "issue_date": "2026-11-20"},
    )
    html = response.content.decode()
    assert "only 1 of the invoiced 1 is left to credit" in html
    assert (
        f'name="qty_{first.pk}" value="5" aria-label="Quantity to credit on line 1" aria-invalid="true"'
        in html
    )
    assert not Document.objects.filter(original=invoice).exists()


def test_crediting_a_part_credited_invoice_starts_from_what_is_left(client_for, company):
    actor = make_actor(company)
    invoice = make_document(actor, lines=2, finalise=True)
    first, second = invoice.lines.all()
    client = client_for(Role.FINANCE)
    client.post(
        reverse("document_credit", args=[invoice.pk]),
        {f"qty_{first.pk}": "0.5", f"qty_{second.pk}": "0", "issue_date": "2026-11-20"},
    )
    partial = Document.objects.get(original=invoice)
    client.post(reverse("document_finalise", args=[partial.pk]))
    page = client.get(reverse("document_credit", args=[invoice.pk])).content.decode()
    assert f'name="qty_{first.pk}" value="0.5"' in page
    assert f'name="qty_{second.pk}" value="1"' in page
    # Submitting the form as it comes credits exactly the rest of the invoice.
    response = client.post(
        reverse("document_credit", args=[invoice.pk]),
        {f"qty_{first.pk}": "0.5", f"qty_{second.pk}": "1", "issue_date": "2026-11-21"},
    )
    assert response.status_code == 302
    rest = Document.objects.filter(original=invoice).exclude(pk=partial.pk).get()
    assert partial.gross_total + rest.gross_total == invoice.gross_total


def test_a_draft_cannot_be_credited(client_for, company):
    draft = make_document(make_actor(company))
    response = client_for(Role.FINANCE).get(
        reverse("document_credit", args=[draft.pk]), follow=True
    )
    assert b"Only a final invoice can be credited." in response.content


@pytest.fixture
def manual_task_type():
    """A manual task on every final document, refusing to complete when told to."""
    state = {"refuse": False}

    def on_complete(task, actor, now):
        if state["refuse"]:
            from ledgerbridge.errors import ApplicationError

            raise ApplicationError("The accounting package is not connected.")
        task.message = "Checked by hand"

    task_type_register(
        TaskType(
            key="check",
            label="Check totals",
            applies=lambda document: True,
            mode_for=lambda document: "manual",
            on_complete=on_complete,
            action_label="Mark checked",
        )
    )
    yield state
    task_type_unregister("check")


def test_tasks_are_listed_and_completed_with_who_and_when(client_for, company, manual_task_type):
    final = make_document(make_actor(company), finalise=True)
    task = Task.objects.get(document=final)
    client = client_for(Role.FINANCE)
    html = client.get(reverse("document_detail", args=[final.pk])).content.decode()
    assert "Check totals" in html
    assert "Mark checked" in html
    listing = client.get(reverse("invoice_list")).content.decode()
    assert "Check totals: open" in listing
    response = client.post(reverse("task_complete", args=[final.pk, task.pk]), follow=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    html = response.content.decode()
    assert "Checked by hand" in html
    assert str(task.completed_by) in html
    assert "Mark checked" not in html


def test_a_refused_task_shows_the_reason(client_for, company, manual_task_type):
    final = make_document(make_actor(company), finalise=True)
    task = Task.objects.get(document=final)
    manual_task_type["refuse"] = True
    response = client_for(Role.FINANCE).post(
        reverse("task_complete", args=[final.pk, task.pk]), follow=True
    )
    assert b"The accounting package is not connected." in response.content
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_a_task_of_another_document_is_not_found_under_this_one(
    client_for, company, manual_task_type
):
    actor = make_actor(company)
    first = make_document(actor, finalise=True)
    second = make_document(actor, finalise=True)
    task = Task.objects.get(document=second)
    response = client_for(Role.FINANCE).post(reverse("task_complete", args=[first.pk, task.pk]))
    assert response.status_code == 404


def test_filtering_by_dates_and_partner(client_for, company, customer):
    actor = make_actor(company)
    early = make_document(actor, partner=customer, issue_date=dt.date(2026, 9, 1), finalise=True)
    late = make_document(actor, issue_date=dt.date(2026, 11, 15), finalise=True)
    client = client_for(Role.VIEWER)
    html = client.get(reverse("invoice_list") + "?date_from=2026-11-01").content.decode()
    assert late.number in html and early.number not in html
    html = client.get(reverse("invoice_list") + f"?partner={customer.pk}").content.decode()
    assert early.number in html and late.number not in html
    # A date that does not parse is ignored, not an error page.
    assert client.get(reverse("invoice_list") + "?date_from=soon").status_code == 200


def test_editing_a_credit_note_draft_keeps_its_invoice_and_credited_lines(client_for, company):
    invoice = make_document(make_actor(company), lines=2, finalise=True)
    first, second = invoice.lines.all()
    client = client_for(Role.FINANCE)
    client.post(
        reverse("document_credit", args=[invoice.pk]),
        {f"qty_{first.pk}": "1", f"qty_{second.pk}": "1", "issue_date": "2026-11-20"},
    )
    credit_note = Document.objects.get(original=invoice)
    form = client.get(reverse("document_edit", args=[credit_note.pk])).content.decode()
    assert f"Credit note for {invoice.number}" in form
    assert f'name="line_credited_line_id" value="{first.pk}"' in form
    data = {
        "partner_id": str(invoice.partner_id),
        "issue_date": "2026-11-21",
        "reference": "Damaged pallets",
        "line_description": ["Partial credit"],
        "line_charge_type": ["freight"],
        "line_quantity": ["0.5"],
        "line_unit_price": [str(first.unit_price)],
        "line_discount_percent": ["0"],
        "line_nominal_code": [first.nominal_code.code],
        "line_tax_rate": [first.tax_rate.code],
        "line_credited_line_id": [str(first.pk)],
    }
    response = client.post(reverse("document_edit", args=[credit_note.pk]), data)
    assert response.status_code == 302
    credit_note.refresh_from_db()
    assert credit_note.original == invoice
    assert credit_note.reference == "Damaged pallets"
    assert [ln.credited_line_id for ln in credit_note.lines.all()] == [first.pk]


def test_the_credit_page_says_what_is_left_to_credit(client_for, company):
    actor = make_actor(company)
    invoice = make_document(actor, lines=2, finalise=True)
    first, _second = invoice.lines.all()
    client = client_for(Role.FINANCE)
    client.post(
        reverse("document_credit", args=[invoice.pk]),
        {f"qty_{first.pk}": str(first.quantity), "issue_date": "2026-11-20"},
    )
    credit_note = Document.objects.get(original=invoice)
    client.post(reverse("document_finalise", args=[credit_note.pk]))
    html = client.get(reverse("document_credit", args=[invoice.pk])).content.decode()
    credit_note.refresh_from_db()
    assert f"already credited {credit_note.gross_total:,.2f}" in html
    assert f"{invoice.gross_total - credit_note.gross_total:,.2f}" in html
    assert credit_note.number in html


def _bills(company, *references):
    from ledgerbridge.invoicing.models import DocumentType, PartnerKind
    from tests.ledgerbridge.factories import line as make_line

    actor = make_actor(company)
    supplier = make_partner(company, PartnerKind.SUPPLIER, name="M62 Fuels Ltd")
    return [
        make_document(
            actor,
            DocumentType.PURCHASE_INVOICE,
            partner=supplier,
            supplier_reference=reference,
            lines=[make_line("fuel", sales=False, unit_price="640.00")],
            finalise=i == 0,
        )
        for i, reference in enumerate(references)
    ]


def test_a_duplicate_bill_is_refused_on_its_page_with_a_link_to_the_first(client_for, company):
    first, second = _bills(company, "M62-INV-9981", "M62-INV-9981")
    client = client_for(Role.FINANCE)
    response = client.post(reverse("document_finalise", args=[second.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not finalised: possible duplicate" in html
    assert f"purchase invoice {first.number} (supplier&#x27;s number M62-INV-9981)" in html
    assert "768.00 GBP" in html
    assert f'href="{reverse("document_detail", args=[first.pk])}" id="duplicate-link"' in html
    assert 'id="finalise-anyway"' in html
    second.refresh_from_db()
    assert second.status == DocumentStatus.DRAFT
    # The draft's own page warns before anyone clicks Finalise.
    page = client.get(reverse("document_detail", args=[second.pk])).content.decode()
    assert "Possible duplicate" in page


def test_finalising_a_duplicate_anyway_needs_a_reason(client_for, company):
    from ledgerbridge.companies.models import AuditEntry

    _, second = _bills(company, "M62-INV-9981", "m62 inv 9981")
    client = client_for(Role.FINANCE)
    response = client.post(
        reverse("document_finalise", args=[second.pk]), {"duplicate_override_reason": "yes"}
    )
    html = response.content.decode()
    assert "at least 10 characters" in html
    assert ">yes</textarea>" in html
    response = client.post(
        reverse("document_finalise", args=[second.pk]),
        {"duplicate_override_reason": "Second delivery on the same day"},
        follow=True,
    )
    second.refresh_from_db()
    assert second.status == DocumentStatus.FINAL
    assert f"Finalised as purchase invoice {second.number}" in response.content.decode()
    entry = AuditEntry.objects.get(action="duplicate finalised anyway")
    assert entry.changes["reason"] == "Second delivery on the same day"
    audit = client_for(Role.SUPER_ADMIN).get(reverse("config_audit")).content.decode()
    assert "duplicate finalised anyway" in audit


def test_a_viewer_sees_the_warning_but_no_override_form(client_for, company):
    _, second = _bills(company, "M62-INV-9981", "M62-INV-9981")
    page = client_for(Role.VIEWER).get(reverse("document_detail", args=[second.pk]))
    html = page.content.decode()
    assert "Possible duplicate" in html
    assert "finalise-anyway" not in html
