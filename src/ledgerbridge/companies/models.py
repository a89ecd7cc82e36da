"""Companies, users and who may do what in which company."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who logs in. Platform staff are the vendor's support people."""

    is_platform_staff = models.BooleanField(
        default=False,
        help_text="Vendor support: creates companies and chooses their accounting package.",
    )

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Company(models.Model):
    """A transport company using the TMS; every business row belongs to one."""

    legal_name = models.CharField(max_length=200)
    vat_number = models.CharField("VAT number", max_length=30, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="GB", help_text="ISO 3166 code")
    base_currency = models.CharField(max_length=3, default="GBP", help_text="ISO 4217 code")
    email = models.EmailField(blank=True)
    logo = models.BinaryField(blank=True, null=True, editable=True)
    logo_content_type = models.CharField(max_length=50, blank=True)
    # How customers pay, printed on sales invoices (checked in ledgerbridge.validation).
    bank_account_name = models.CharField(max_length=100, blank=True)
    bank_name = models.CharField(max_length=100, blank=True)
    bank_sort_code = models.CharField(max_length=8, blank=True, help_text="As 12-34-56")
    bank_account_number = models.CharField(max_length=8, blank=True)
    bank_iban = models.CharField("IBAN", max_length=34, blank=True, help_text="Without spaces")
    bank_bic = models.CharField("BIC", max_length=11, blank=True)
    payment_terms = models.CharField(
        max_length=300, blank=True, help_text="Printed on sales invoices under the bank details"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["legal_name"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.legal_name

    @property
    def address_lines(self) -> list[str]:
        return [
            line
            for line in (self.address_line1, self.address_line2, self.city, self.postcode)
            if line
        ]

    @property
    def bank_iban_display(self) -> str:
        """The IBAN in groups of four, as printed and read aloud."""
        return " ".join(self.bank_iban[i : i + 4] for i in range(0, len(self.bank_iban), 4))

    @property
    def has_bank_details(self) -> bool:
        return bool(self.bank_account_number or self.bank_iban)


class Role(models.TextChoices):
    SUPER_ADMIN = "super_admin", "Super Admin"
    FINANCE = "finance", "Finance"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    """A user's role in one company; a user may belong to several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="one_membership_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.company}"


class ApiToken(models.Model):
    """A per-company token for the REST API. Only its SHA-256 is stored."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FINANCE)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise it")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEntry(models.Model):
    """Who changed configuration, when, and what."""

    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Kept if the user is deleted")
    action = models.CharField(max_length=100)
    target = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["company", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label}: {self.action} {self.target}"
