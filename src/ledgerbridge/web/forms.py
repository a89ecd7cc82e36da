"""Forms parse and present input; the services decide what is valid.

Only types are checked here (a date is a date); every business rule lives in
the services, whose errors are attached back to the named field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from ledgerbridge.accounting.outstanding import BUCKETS, PAYABLES, RECEIVABLES, OutstandingFilters
from ledgerbridge.accounting.payments import PAYMENT_FILTERS
from ledgerbridge.accounting.selectors import SYNC_FILTERS
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import NEW_COMPANY_FIELDS
from ledgerbridge.invoicing import bounds
from ledgerbridge.invoicing.models import (
    AccountType,
    DocumentStatus,
    DocumentType,
    PartnerKind,
)
from ledgerbridge.invoicing.selectors import DocumentFilters

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _choices(items: Iterable[Any], label: str = "") -> list[tuple[str, str]]:
    return [("", label)] + [(str(item.pk), str(item)) for item in items]


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


# A company with more partners than this picks one by searching (``partner_options``)
# rather than from a list of every partner: 2,000 customers make neither a usable
# dropdown nor a cheap page.
PICKER_LISTED = 30


class PartnerChoiceField(forms.ChoiceField):
    """A partner by id: any of ``partners`` is valid, though only some are listed.

    ``searchable`` says the list holds only the chosen partner and the page shows a
    search box beside it that fills the list with the partners matching what is typed.
    """

    partners: QuerySet[Any] | None = None
    searchable = False
    kind = ""
    search_query = ""  # the picker's own parameters to ``partner_options``

    def valid_value(self, value: Any) -> bool:
        if self.partners is None or not str(value).isdigit():
            return False
        return self.partners.filter(pk=int(value)).exists()


def partner_picker(
    form: forms.Form,
    name: str,
    partners: QuerySet[Any],
    label: str,
    kind: str = "",
    active_only: bool = False,
) -> None:
    field = form.fields[name]
    assert isinstance(field, PartnerChoiceField)
    partners = partners.order_by("name", "pk")
    field.partners, field.kind = partners, kind
    listed = list(partners[: PICKER_LISTED + 1])
    field.searchable = len(listed) > PICKER_LISTED
    if field.searchable:
        chosen = form.data.get(name) if form.is_bound else form.initial.get(name)
        chosen_id = str(chosen or "")
        listed = list(partners.filter(pk=int(chosen_id))) if chosen_id.isdigit() else []
    field.choices = _choices(listed, label)
    query = {"kind": kind, "active": "1" if active_only else "", "empty": label}
    field.search_query = urlencode({key: value for key, value in query.items() if value})


class DocumentFilterForm(forms.Form):
    type = forms.ChoiceField(required=False, choices=[("", "All types"), *DocumentType.choices])
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *DocumentStatus.choices]
    )
    partner = PartnerChoiceField(required=False)
    date_from = forms.DateField(required=False, widget=DATE, label="Issued from")
    date_to = forms.DateField(required=False, widget=DATE, label="to")
    search = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Number, reference, order, trip, partner"}),
    )
    xero = forms.ChoiceField(
        required=False, label="Xero", choices=[("", "Any Xero status"), *SYNC_FILTERS]
    )
    payment = forms.ChoiceField(
        required=False, label="Payment", choices=[("", "Any payment status"), *PAYMENT_FILTERS]
    )

    def __init__(self, *args: Any, partners: QuerySet[Any], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        partner_picker(self, "partner", partners, "All partners")

    def sync_status(self) -> str | None:
        if not self.is_bound:
            return None
        self.is_valid()
        return self.cleaned_data.get("xero") or None

    def payment_status(self) -> str | None:
        if not self.is_bound:
            return None
        self.is_valid()
        return self.cleaned_data.get("payment") or None

    def filters(self) -> DocumentFilters:
        if not self.is_bound:
            return DocumentFilters()
        # is_valid() fills cleaned_data with what parsed; a bad date is ignored
        # (and marked) rather than hiding every document.
        self.is_valid()
        data = self.cleaned_data
        partner = data.get("partner")
        return DocumentFilters(
            type=data.get("type") or None,
            status=data.get("status") or None,
            partner_id=int(partner) if partner else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            search=data.get("search") or None,
        )


class OutstandingFilterForm(forms.Form):
    """Filters of Invoices > Outstanding; anything that does not parse is ignored."""

    side = forms.ChoiceField(
        required=False,
        choices=[(RECEIVABLES, "Receivables"), (PAYABLES, "Payables")],
        widget=forms.HiddenInput,
    )
    partner = PartnerChoiceField(required=False)
    currency = forms.ChoiceField(required=False)
    bucket = forms.ChoiceField(
        required=False,
        label="Age",
        choices=[("", "Any age"), *[(key, label) for key, label, _, _ in BUCKETS]],
    )
    as_of = forms.DateField(required=False, widget=DATE, label="As of")

    def __init__(
        self,
        *args: Any,
        partners: QuerySet[Any],
        partner_label: str,
        currencies: Iterable[str],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["partner"].label = partner_label
        partner_picker(
            self, "partner", partners, f"All {partner_label.lower()}s", partner_label.lower()
        )
        _set_choices(self, "currency", [("", "All currencies")] + [(c, c) for c in currencies])

    def filters(self, *, today: Any) -> OutstandingFilters:
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        partner = data.get("partner")
        return OutstandingFilters(
            side=data.get("side") or RECEIVABLES,
            as_of=data.get("as_of") or today,
            partner_id=int(partner) if partner else None,
            currency=data.get("currency") or "",
            bucket=data.get("bucket") or "",
        )


class DocumentHeaderForm(forms.Form):
    partner_id = PartnerChoiceField(label="Partner")
    issue_date = forms.DateField(widget=DATE)
    due_date = forms.DateField(
        required=False, widget=DATE, help_text="Leave empty to use the partner's payment terms."
    )
    currency = forms.CharField(
        required=False, max_length=3, help_text="Leave empty for the partner's currency."
    )
    exchange_rate = forms.CharField(
        required=False,
        max_length=30,
        help_text="Another currency than the company's: units of it per 1 of the company's "
        "currency, for the VAT in the company's currency on the PDF.",
    )
    exchange_rate_source = forms.CharField(
        required=False,
        max_length=100,
        label="Rate source",
        help_text="e.g. HMRC period rate December 2026",
    )
    reference = forms.CharField(required=False, max_length=100)
    order_reference = forms.CharField(required=False, max_length=60)
    trip_reference = forms.CharField(required=False, max_length=60)
    supplier_reference = forms.CharField(
        required=False, max_length=60, label="Supplier's document number"
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, partners: QuerySet[Any], purchase: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = "supplier" if purchase else "customer"
        partner_picker(self, "partner_id", partners, f"Choose a {kind}", kind, active_only=True)
        if not purchase:
            del self.fields["supplier_reference"]


# Names of the per-line inputs (repeated once per row).
LINE_FIELDS = (
    "description",
    "charge_type",
    "quantity",
    "unit_price",
    "discount_percent",
    "nominal_code",
    "tax_rate",
    "credited_line_id",
)


def lines_from_post(data: Any) -> list[dict[str, str]]:
    """The submitted line rows, in order, without rows left completely empty."""
    columns = {name: data.getlist(f"line_{name}") for name in LINE_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    rows = []
    for i in range(count):
        row = {
            name: (values[i] if i < len(values) else "").strip() for name, values in columns.items()
        }
        if any(row[name] for name in ("description", "quantity", "unit_price")):
            rows.append(row)
    return rows


class CreditForm(forms.Form):
    issue_date = forms.DateField(widget=DATE, initial=timezone.localdate)
    reference = forms.CharField(required=False, max_length=100)
    supplier_reference = forms.CharField(
        required=False, max_length=60, label="Supplier's credit note number"
    )


class PartnerForm(forms.Form):
    kind = forms.ChoiceField(choices=PartnerKind.choices)
    number = forms.CharField(max_length=30, label="Partner number")
    name = forms.CharField(max_length=200)
    vat_number = forms.CharField(required=False, max_length=30, label="VAT number")
    email = forms.EmailField(required=False)
    address_line1 = forms.CharField(required=False, max_length=200, label="Address")
    address_line2 = forms.CharField(required=False, max_length=200, label="Address line 2")
    city = forms.CharField(required=False, max_length=100)
    postcode = forms.CharField(required=False, max_length=20)
    country = forms.CharField(max_length=2, initial="GB", help_text="2-letter ISO code")
    currency = forms.CharField(max_length=3, initial="GBP", help_text="3-letter ISO code")
    payment_terms_days = forms.IntegerField(initial=30, label="Payment terms (days)")
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not creating:
            # The number identifies the partner in other systems; it is fixed.
            del self.fields["kind"]
            del self.fields["number"]
        else:
            del self.fields["active"]


class CompanyForm(forms.Form):
    legal_name = forms.CharField(max_length=200)
    vat_number = forms.CharField(required=False, max_length=30, label="VAT number")
    address_line1 = forms.CharField(required=False, max_length=200, label="Address")
    address_line2 = forms.CharField(required=False, max_length=200, label="Address line 2")
    city = forms.CharField(required=False, max_length=100)
    postcode = forms.CharField(required=False, max_length=20)
    country = forms.CharField(max_length=2, help_text="2-letter ISO code")
    base_currency = forms.CharField(max_length=3, help_text="3-letter ISO code")
    email = forms.EmailField(required=False)
    logo = forms.FileField(
        required=False, help_text="PNG or JPEG, at most 512 KB; printed on documents"
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the current logo")
    bank_account_name = forms.CharField(
        required=False, max_length=100, label="Account name", help_text="Whom customers pay"
    )
    bank_name = forms.CharField(required=False, max_length=100, label="Bank")
    bank_sort_code = forms.CharField(
        required=False, max_length=20, label="Sort code", help_text="6 digits, such as 12-34-56"
    )
    bank_account_number = forms.CharField(
        required=False, max_length=20, label="Account number", help_text="8 digits"
    )
    bank_iban = forms.CharField(
        required=False, max_length=50, label="IBAN", help_text="For payments from abroad"
    )
    bank_bic = forms.CharField(
        required=False, max_length=20, label="BIC", help_text="8 or 11 characters"
    )
    payment_terms = forms.CharField(
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Printed on sales invoices, e.g. late-payment terms; the due date is "
        "printed anyway",
    )

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean_base_currency(self) -> str:
        return self.cleaned_data["base_currency"].strip().upper()


class NewCompanyForm(forms.Form):
    """A company and its first Super Admin, as platform staff open it."""

    # Every field is optional here: the service says what is missing or wrong, all
    # in one round (REQUIRED only marks the labels).
    legal_name = forms.CharField(required=False)
    vat_number = forms.CharField(required=False, label="VAT number")
    address_line1 = forms.CharField(required=False, label="Address")
    address_line2 = forms.CharField(required=False, label="Address line 2")
    city = forms.CharField(required=False)
    postcode = forms.CharField(required=False)
    country = forms.CharField(required=False, initial="GB", help_text="2-letter ISO code")
    base_currency = forms.CharField(required=False, initial="GBP", help_text="3-letter ISO code")
    email = forms.CharField(required=False, label="Company email")
    admin_first_name = forms.CharField(required=False, label="First name")
    admin_last_name = forms.CharField(required=False, label="Last name")
    admin_username = forms.CharField(required=False, label="Username")
    admin_email = forms.CharField(required=False, label="Email")
    # Never rendered back: a refused form asks for the password again.
    admin_password = forms.CharField(
        required=False,
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
        help_text="At least 8 characters, not a common password nor like their name. "
        "Give it to them in person or by phone, not by email.",
    )
    admin_password_again = forms.CharField(
        required=False,
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )

    # The fields the service takes, in the service's order.
    COMPANY_FIELDS = NEW_COMPANY_FIELDS
    ADMIN_FIELDS = (
        "admin_first_name",
        "admin_last_name",
        "admin_username",
        "admin_email",
        "admin_password",
        "admin_password_again",
    )

    REQUIRED = (
        "legal_name",
        "country",
        "base_currency",
        "admin_username",
        "admin_email",
        "admin_password",
        "admin_password_again",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name in self.REQUIRED:
            self.fields[name].show_required = True  # type: ignore[attr-defined]

    def company_section(self) -> list[forms.BoundField]:
        return [self[name] for name in self.COMPANY_FIELDS]

    def admin_section(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ADMIN_FIELDS]


class NominalCodeForm(forms.Form):
    code = forms.CharField(max_length=20)
    name = forms.CharField(max_length=150)
    type = forms.ChoiceField(choices=AccountType.choices)
    active = forms.BooleanField(required=False, initial=True)


class TaxRateForm(forms.Form):
    code = forms.CharField(max_length=20)
    name = forms.CharField(max_length=150)
    rate = forms.CharField(label="Rate %", max_length=10)
    applies_to_sales = forms.BooleanField(required=False, label="Sales")
    applies_to_purchases = forms.BooleanField(required=False, label="Purchases")
    active = forms.BooleanField(required=False, initial=True)


class NumberSeriesForm(forms.Form):
    # The metaclass moves fields off the class, so this does not shadow Form.prefix.
    prefix = forms.CharField(required=False, max_length=20)  # type: ignore[assignment]
    padding = forms.IntegerField(help_text="Digits of the running number")
    reset_yearly = forms.BooleanField(
        required=False, label="Restart every year", help_text="Puts the year in the number"
    )
    next_number = forms.IntegerField(
        help_text=f"Can only go up, to at most {bounds.NEXT_NUMBER.maximum:,f}"
    )


class DimensionForm(forms.Form):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(initial=0, help_text="Order of the dimension on lines")
    active = forms.BooleanField(required=False, initial=True)
    default_value_id = forms.ChoiceField(required=False, label="Default value")

    def __init__(self, *args: Any, values: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = list(values)
        if values:
            _set_choices(self, "default_value_id", _choices(values, "No default"))
        else:
            del self.fields["default_value_id"]


class DimensionValueForm(forms.Form):
    code = forms.CharField(max_length=30)
    name = forms.CharField(max_length=100)
    active = forms.BooleanField(required=False, initial=True)


class DimensionRuleForm(forms.Form):
    position = forms.IntegerField(initial=0, help_text="Rules are tried in this order")
    value_id = forms.ChoiceField(label="Then the value is")
    conditions = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, values: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "value_id", _choices(values, "Choose a value"))


def conditions_from_post(data: Any) -> list[dict[str, str]]:
    fields = data.getlist("cond_field")
    ops = data.getlist("cond_op")
    values = data.getlist("cond_value")
    conditions = []
    for field, op, value in zip(fields, ops, values, strict=False):
        if not field and not value.strip():
            continue
        conditions.append({"field": field, "op": op, "value": value.strip()})
    return conditions


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “TMS export job”")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.FINANCE)
