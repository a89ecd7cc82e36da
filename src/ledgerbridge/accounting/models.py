"""Per-company accounting settings (the package in use) — neutral of any one package."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ledgerbridge.companies.models import Company


class AccountingPackage(models.TextChoices):
    NONE = "none", "None"
    XERO_API = "xero_api", "Xero (API)"
    XERO_FILE = "xero_file", "Xero (file export)"


class AccountingSettings(models.Model):
    """Which accounting package a company uses. Only platform staff change it."""

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="accounting_settings"
    )
    package = models.CharField(
        max_length=20, choices=AccountingPackage.choices, default=AccountingPackage.NONE
    )
    import_date_format = models.CharField(
        "date format of the Xero organisation",
        max_length=20,
        choices=[
            ("%d/%m/%Y", "DD/MM/YYYY (UK)"),
            ("%m/%d/%Y", "MM/DD/YYYY (US)"),
            ("%Y-%m-%d", "YYYY-MM-DD"),
        ],
        default="%d/%m/%Y",
        help_text="Dates in Xero import files follow the organisation's regional setting",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "accounting settings"

    def __str__(self) -> str:
        return f"{self.company}: {self.get_package_display()}"


class ExportBatchStatus(models.TextChoices):
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ExportBatch(models.Model):
    """One "Export to Xero": which documents went into which import file(s)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="export_batches")
    number = models.PositiveIntegerField(help_text="Per company, from 1")
    status = models.CharField(
        max_length=20, choices=ExportBatchStatus.choices, default=ExportBatchStatus.BUILDING
    )
    filters = models.JSONField(default=dict, blank=True)
    reexport_reason = models.TextField(
        blank=True, help_text="Why documents already exported were exported again"
    )
    document_count = models.PositiveIntegerField(default=0)
    net_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    tax_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    gross_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    progress = models.PositiveIntegerField(default=0, help_text="Documents written so far")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="export_batch_number_unique")
        ]

    def __str__(self) -> str:
        return f"Export {self.number} of {self.company}"


class ExportBatchDocument(models.Model):
    """A document in a batch. A document is in one batch unless re-exported on purpose."""

    batch = models.ForeignKey(ExportBatch, on_delete=models.CASCADE, related_name="entries")
    document = models.ForeignKey(
        "invoicing.Document", on_delete=models.PROTECT, related_name="export_entries"
    )
    reexport = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "document"], name="once_per_batch"),
            # At most one first-time export of a document; re-exports are marked.
            models.UniqueConstraint(
                fields=["document"],
                condition=models.Q(reexport=False),
                name="exported_once_unless_reexported",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch}: {self.document_id}"


class ExportFile(models.Model):
    """One import file of a batch (Xero takes at most 500 documents per file)."""

    batch = models.ForeignKey(ExportBatch, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, help_text="sales or bills")
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    document_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
