"""Per-company accounting settings (the package in use) — neutral of any one package."""

from __future__ import annotations

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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "accounting settings"

    def __str__(self) -> str:
        return f"{self.company}: {self.get_package_display()}"
