"""The TMS's invoicing data: partners, documents and lines, and how they are coded.

Money is ``Decimal`` throughout. A line's net amount is rounded to 2 dp and its
tax is computed and rounded per line, as Xero does; header totals are sums of
the lines and never stored independently of them.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from ledgerbridge.companies.models import Company
from ledgerbridge.fields import SafeDecimalField

from . import bounds
from .money import percent_text


class PartnerKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SUPPLIER = "supplier", "Supplier"


class Partner(models.Model):
    """A customer or supplier of the company."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="partners")
    kind = models.CharField(max_length=10, choices=PartnerKind.choices)
    number = models.CharField("partner number", max_length=30)
    name = models.CharField(max_length=200)
    vat_number = models.CharField("VAT number", max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="GB")
    currency = models.CharField(max_length=3, default="GBP")
    payment_terms_days = models.PositiveIntegerField(default=30)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="partner_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    @property
    def address_lines(self) -> list[str]:
        return [
            line
            for line in (self.address_line1, self.address_line2, self.city, self.postcode)
            if line
        ]


class AccountType(models.TextChoices):
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"


class NominalCode(models.Model):
    """A general-ledger account that lines are coded to."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="nominal_codes")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=150)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="nominal_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TaxRate(models.Model):
    """A tax rate code, e.g. standard-rated VAT on sales."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="tax_rates")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=150)
    rate = SafeDecimalField("rate %", max_digits=6, decimal_places=3)
    applies_to_sales = models.BooleanField(default=True)
    applies_to_purchases = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="tax_rate_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.rate_text})"

    @property
    def rate_text(self) -> str:
        return percent_text(self.rate)


class DocumentType(models.TextChoices):
    SALES_INVOICE = "sales_invoice", "Sales invoice"
    SALES_CREDIT_NOTE = "sales_credit_note", "Sales credit note"
    PURCHASE_INVOICE = "purchase_invoice", "Purchase invoice"
    PURCHASE_CREDIT_NOTE = "purchase_credit_note", "Purchase credit note"


SALES_TYPES = frozenset({DocumentType.SALES_INVOICE, DocumentType.SALES_CREDIT_NOTE})
PURCHASE_TYPES = frozenset({DocumentType.PURCHASE_INVOICE, DocumentType.PURCHASE_CREDIT_NOTE})
CREDIT_NOTE_TYPES = frozenset({DocumentType.SALES_CREDIT_NOTE, DocumentType.PURCHASE_CREDIT_NOTE})
CREDIT_NOTE_FOR = {
    DocumentType.SALES_INVOICE: DocumentType.SALES_CREDIT_NOTE,
    DocumentType.PURCHASE_INVOICE: DocumentType.PURCHASE_CREDIT_NOTE,
}


class NumberSeries(models.Model):
    """Gapless numbering of one document type in one company."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="number_series")
    document_type = models.CharField(max_length=30, choices=DocumentType.choices)
    prefix = models.CharField(max_length=20, blank=True)
    padding = models.PositiveSmallIntegerField(default=5)
    reset_yearly = models.BooleanField(default=True)
    next_number = models.PositiveIntegerField(default=1)
    year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "number series"
        constraints = [
            models.UniqueConstraint(fields=["company", "document_type"], name="one_series_per_type")
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()}: {self.example()}"

    def format(self, number: int, year: int) -> str:
        middle = f"{year}-" if self.reset_yearly else ""
        return f"{self.prefix}{middle}{number:0{self.padding}d}"

    def example(self) -> str:
        from django.utils import timezone

        year = self.year or timezone.localdate().year
        return self.format(self.next_number, year)


class Dimension(models.Model):
    """An analytical dimension such as "Business unit", computed per line by rules."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="dimensions")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    default_value = models.ForeignKey(
        "DimensionValue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="dimension_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class DimensionValue(models.Model):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="values")
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["dimension", "code"], name="dimension_value_unique")
        ]

    def __str__(self) -> str:
        return self.name


class DimensionRule(models.Model):
    """If all conditions hold for a line, the line gets ``value``. First match wins.

    ``conditions`` is a list of ``{"field": ..., "op": ..., "value": ...}``; the
    fields and operators are defined in ``dimensions.py``.
    """

    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(default=0)
    conditions = models.JSONField(default=list)
    value = models.ForeignKey(DimensionValue, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.dimension}: rule {self.position} → {self.value}"


def supplier_reference_key(reference: str) -> str:
    """A supplier's document number as compared for duplicates: case and spacing ignored.

    ``M62-INV-9981``, ``m62-inv-9981`` and ``M62 - INV 9981`` are the same bill.
    """
    return "".join(reference.split()).casefold()


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FINAL = "final", "Final"


# Each model's stored figures and their bounds (``figures.py`` looks for those outside).
DOCUMENT_FIGURES = {
    "net_total": bounds.MONEY,
    "tax_total": bounds.MONEY,
    "gross_total": bounds.MONEY,
}
LINE_FIGURES = {
    "quantity": bounds.QUANTITY,
    "unit_price": bounds.UNIT_PRICE,
    "discount_percent": bounds.DISCOUNT_PERCENT,
    "net_amount": bounds.MONEY,
    "tax_amount": bounds.MONEY,
}


class Document(models.Model):
    """A sales or purchase invoice or credit note."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="documents")
    type = models.CharField(max_length=30, choices=DocumentType.choices)
    status = models.CharField(
        max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="documents")
    number = models.CharField(max_length=40, blank=True, help_text="Allocated when finalised")
    supplier_reference = models.CharField(
        "supplier's invoice number",
        max_length=60,
        blank=True,
        help_text="For purchase documents: the number on the supplier's document",
    )
    supplier_reference_key = models.CharField(
        max_length=60,
        blank=True,
        editable=False,
        help_text="supplier_reference without case and spaces, to find duplicates",
    )
    issue_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3, default="GBP")
    # For a document in another currency than the company's: what its VAT is in
    # the base currency, as UK VAT invoices must say. Xero's CurrencyRate sense.
    exchange_rate = SafeDecimalField(
        max_digits=14,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Units of the document's currency per 1 unit of the company's base currency",
    )
    exchange_rate_source = models.CharField(
        max_length=100, blank=True, help_text="Where the rate comes from, printed with it"
    )
    reference = models.CharField(max_length=100, blank=True)
    order_reference = models.CharField(max_length=60, blank=True)
    trip_reference = models.CharField(max_length=60, blank=True)
    notes = models.TextField(blank=True)
    original = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text="The invoice a credit note corrects",
    )
    net_total = SafeDecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    tax_total = SafeDecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    gross_total = SafeDecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "type", "number"],
                condition=~models.Q(number=""),
                name="document_number_unique",
            )
        ]
        indexes = [
            # The lists' ordering within a company: their first page and their
            # ids-first paging read it instead of sorting the whole company.
            models.Index(fields=["company", "-issue_date", "-id"], name="document_list_order_idx"),
            models.Index(fields=["company", "type", "status", "-issue_date"]),
            models.Index(fields=["company", "partner"]),
            models.Index(
                fields=["company", "partner", "supplier_reference_key"],
                name="document_supplier_ref_idx",
            ),
            # Only the documents whose totals are out of range (normally none): the
            # operations page's check reads this instead of every document.
            models.Index(
                fields=["company", "id"],
                condition=bounds.outside(DOCUMENT_FIGURES),
                name="document_figures_out_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.number or f'draft #{self.pk}'}"

    @property
    def is_draft(self) -> bool:
        return self.status == DocumentStatus.DRAFT

    @property
    def is_sales(self) -> bool:
        return self.type in SALES_TYPES

    @property
    def is_credit_note(self) -> bool:
        return self.type in CREDIT_NOTE_TYPES

    @property
    def display_number(self) -> str:
        return self.number or f"Draft {self.pk}"

    @property
    def exchange_rate_text(self) -> str:
        """The rate as typed, without trailing zeros or an exponent (``1.165``, ``150``)."""
        if self.exchange_rate is None:
            return ""
        return f"{self.exchange_rate.normalize():f}"


class ChargeType(models.TextChoices):
    FREIGHT = "freight", "Freight"
    FUEL_SURCHARGE = "fuel_surcharge", "Fuel surcharge"
    WAITING_TIME = "waiting_time", "Waiting time"
    TOLLS = "tolls", "Tolls"
    SUBCONTRACTING = "subcontracting", "Subcontracting"
    FUEL = "fuel", "Fuel"
    OTHER = "other", "Other"


class DocumentLine(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=500)
    charge_type = models.CharField(max_length=20, choices=ChargeType.choices)
    quantity = SafeDecimalField(max_digits=12, decimal_places=4)
    unit_price = SafeDecimalField(max_digits=14, decimal_places=4)
    discount_percent = SafeDecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    nominal_code = models.ForeignKey(NominalCode, on_delete=models.PROTECT, related_name="+")
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, related_name="+")
    net_amount = SafeDecimalField(max_digits=14, decimal_places=2)
    tax_amount = SafeDecimalField(max_digits=14, decimal_places=2)
    credited_line = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="credits",
        help_text="On a credit note: the invoice line it corrects",
    )

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # Only the lines with a figure out of range (normally none): see Document's.
            models.Index(
                fields=["document", "id"],
                condition=bounds.outside(LINE_FIGURES),
                name="line_figures_out_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class LineDimension(models.Model):
    """The value a dimension took on a line (computed by the rules when saved)."""

    line = models.ForeignKey(DocumentLine, on_delete=models.CASCADE, related_name="dimensions")
    dimension = models.ForeignKey(Dimension, on_delete=models.PROTECT, related_name="+")
    value = models.ForeignKey(DimensionValue, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "dimension"], name="one_value_per_dimension")
        ]

    def __str__(self) -> str:
        return f"{self.dimension_id}={self.value_id}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    # Completed by a person or automatically, but its work goes on elsewhere
    # (e.g. the document is on its way to the accounting package).
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class TaskMode(models.TextChoices):
    AUTO = "auto", "Auto-complete"
    MANUAL = "manual", "Manual"


class Task(models.Model):
    """A step of a document's workflow, such as posting it to the accounting package."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="tasks")
    type = models.CharField(max_length=50)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    mode = models.CharField(max_length=10, choices=TaskMode.choices, default=TaskMode.MANUAL)
    message = models.TextField(blank=True)
    hidden = models.BooleanField(
        default=False, help_text="No longer applies (e.g. setting changed); history is kept"
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "type"], name="one_task_per_type")
        ]

    def __str__(self) -> str:
        return f"{self.type} ({self.status})"


class DocumentPdf(models.Model):
    """The rendered PDF of a final document: rendered once, kept with its hash."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="pdf")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    rendered_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.filename

    @property
    def filename(self) -> str:
        return f"{self.document.number or self.document.pk}.pdf".replace("/", "-")
