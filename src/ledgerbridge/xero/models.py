"""A company's link to its Xero organisation, and how its codes map to Xero's."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.models import Dimension, TaxRate
from ledgerbridge.secrets import EncryptedTextField


class LinkStatus(models.TextChoices):
    NOT_CONNECTED = "not_connected", "Not connected"
    CONNECTED = "connected", "Connected"
    NEEDS_REAUTHORISATION = "needs_reauthorisation", "Needs re-authorisation"
    DISCONNECTED = "disconnected", "Disconnected"


class XeroConnection(models.Model):
    """One company's OAuth link to one Xero organisation (tenant).

    Tokens are encrypted at rest. ``pending_tenants`` holds the organisations a
    user authorised when they still have to pick one for this company.
    """

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="xero_connection"
    )
    status = models.CharField(
        max_length=30, choices=LinkStatus.choices, default=LinkStatus.NOT_CONNECTED
    )
    tenant_id = models.CharField(max_length=64, blank=True)
    tenant_name = models.CharField(max_length=200, blank=True)
    short_code = models.CharField(max_length=20, blank=True)
    connection_id = models.CharField(max_length=64, blank=True)
    pending_tenants = models.JSONField(default=list, blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_obtained_at = models.DateTimeField(null=True, blank=True)
    scopes = models.TextField(blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_by_label = models.CharField(max_length=200, blank=True)
    xero_user_email = models.CharField(max_length=200, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # The organisation documents were last posted to; a different one needs
    # platform staff to confirm.
    previous_tenant_id = models.CharField(max_length=64, blank=True)
    previous_tenant_name = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id"],
                condition=~models.Q(tenant_id=""),
                name="one_company_per_xero_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company}: {self.get_status_display()} {self.tenant_name}".strip()

    @property
    def is_connected(self) -> bool:
        return self.status == LinkStatus.CONNECTED


class XeroTaxMapping(models.Model):
    """Our tax rate code → Xero's TaxType (e.g. S20 → OUTPUT2)."""

    tax_rate = models.OneToOneField(TaxRate, on_delete=models.CASCADE, related_name="xero_mapping")
    tax_type = models.CharField(max_length=50, blank=True)
    # Xero's import files name tax rates by their display name, e.g. "20% (VAT on Income)".
    tax_name = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.tax_rate.code} → {self.tax_type}"


class XeroTrackingMapping(models.Model):
    """Our dimension → a Xero tracking category (options match value names)."""

    dimension = models.OneToOneField(
        Dimension, on_delete=models.CASCADE, related_name="xero_mapping"
    )
    category_name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.dimension.name} → {self.category_name}"


class XeroSetupCheck(models.Model):
    """The latest setup check of a company: a checklist with a fix hint per line.

    It holds for the connection it was run against (organisation and time of
    authorisation); after a re-authorisation or another organisation it is stale.
    """

    company = models.OneToOneField(
        Company, on_delete=models.CASCADE, related_name="xero_setup_check"
    )
    tenant_id = models.CharField(max_length=64, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    ran_at = models.DateTimeField()
    ran_by_label = models.CharField(max_length=200)
    ok = models.BooleanField()
    items = models.JSONField(default=list)

    def __str__(self) -> str:
        return (
            f"{self.company}: {'passed' if self.ok else 'failed'} at {self.ran_at:%Y-%m-%d %H:%M}"
        )


class XeroContactLink(models.Model):
    """A partner's Xero contact: found or created once, never duplicated."""

    partner = models.ForeignKey(
        "invoicing.Partner", on_delete=models.CASCADE, related_name="xero_contacts"
    )
    tenant_id = models.CharField(max_length=64)
    contact_id = models.CharField(max_length=64)
    synced_at = models.DateTimeField(help_text="When the details were last sent or found")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "tenant_id"], name="one_contact_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} → {self.contact_id}"


class RateEvent(models.Model):
    """One call counted against a Xero limit (the database limiter's log).

    Used when the queue is not on Redis; Redis keeps the same log in sorted sets.
    """

    scope = models.CharField(max_length=100)
    at = models.FloatField(help_text="Epoch seconds")

    class Meta:
        indexes = [models.Index(fields=["scope", "at"])]

    def __str__(self) -> str:
        return f"{self.scope}@{self.at}"


class XeroWebhookEvent(models.Model):
    """One event Xero sent us, stored as received before anything else happens.

    Processing only marks ``processed_at`` and an outcome: the event is a hint
    to look at the resource again, so duplicates and any order are harmless.
    """

    tenant_id = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64)
    category = models.CharField(max_length=20)
    event_type = models.CharField(max_length=20)
    event_date = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["processed_at", "tenant_id"])]

    def __str__(self) -> str:
        return f"{self.category} {self.event_type} {self.resource_id}"


class XeroWebhookDelivery(models.Model):
    """A signed delivery seen, by the SHA-256 of its body: the replay defence.

    Xero retries a delivery it thinks failed; the same body again is answered
    200 but stores no events twice. Rows older than the replay window are
    pruned, since a body that old carries only events the window ignores.
    """

    body_sha256 = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(db_index=True)
    event_count = models.PositiveIntegerField(default=0)
    repeats = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.body_sha256[:12]} ({self.event_count} events)"


class XeroPaymentPoll(models.Model):
    """Where a company's payment polling got to (Xero's UpdatedDateUTC watermark)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="xero_poll")
    invoices_since = models.DateTimeField(null=True, blank=True)
    credit_notes_since = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.company}: polled {self.last_polled_at}"


class XeroWebhookHandshake(models.Model):
    """The last correctly signed empty delivery: Xero's intent-to-receive, answered 200.

    One row. ``key_sha256`` says which webhook key it was signed with, so a key
    changed since then shows as a handshake still to pass. Wrongly signed
    deliveries are refused (401) before anything is written.
    """

    received_at = models.DateTimeField()
    key_sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"intent to receive at {self.received_at:%Y-%m-%d %H:%M:%S}"
