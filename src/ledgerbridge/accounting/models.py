"""Per-company accounting settings (the package in use) — neutral of any one package."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from ledgerbridge.companies.models import Company
from ledgerbridge.fields import SafeDecimalField
from ledgerbridge.invoicing.money import format_date

from .totals import CurrencyTotals


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
    # "Post to Xero" completes itself (auto) or waits for a Finance user (manual),
    # per document type.
    auto_post_sales_invoice = models.BooleanField(default=True)
    auto_post_sales_credit_note = models.BooleanField(default=True)
    auto_post_purchase_invoice = models.BooleanField(default=False)
    auto_post_purchase_credit_note = models.BooleanField(default=False)
    post_as_draft = models.BooleanField(
        default=False, help_text="Send documents as drafts instead of approved (AUTHORISED)"
    )
    paused_until = models.DateTimeField(
        null=True, blank=True, help_text="Posting waits until then (the package's daily limit)"
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
    in_xero_reason = models.TextField(
        blank=True,
        help_text="Why documents already in Xero through the API were put in the file too",
    )
    left_out = models.JSONField(
        default=list,
        blank=True,
        help_text="Documents the export left out: document_id, label, kind, reasons",
    )
    document_count = models.PositiveIntegerField(default=0)
    totals = models.JSONField(
        default=list,
        blank=True,
        help_text="Per currency, never summed across currencies: a list of "
        "{currency, net, tax, gross} (amounts as strings; credit notes count negative)",
    )
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

    @property
    def currency_totals(self) -> list[CurrencyTotals]:
        """The batch's totals, one per currency, by currency code."""
        return [CurrencyTotals.of_json(item) for item in self.totals]


class ExportBatchDocument(models.Model):
    """A document in a batch. A document is in one batch unless re-exported on purpose."""

    batch = models.ForeignKey(ExportBatch, on_delete=models.CASCADE, related_name="entries")
    document = models.ForeignKey(
        "invoicing.Document", on_delete=models.PROTECT, related_name="export_entries"
    )
    reexport = models.BooleanField(default=False)
    in_xero = models.BooleanField(
        default=False, help_text="Already in Xero through the API; put in on purpose"
    )

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

    @property
    def description(self) -> str:
        """What the document page, the list and the API say of this export."""
        batch = self.batch
        at = timezone.localtime(batch.created_at)
        by = batch.created_by_label or "someone"
        return f"Exported to Xero file, batch {batch.number}, {format_date(at)} {at:%H:%M}, by {by}"


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


class SyncStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    POSTING = "posting", "Posting"
    POSTED = "posted", "Posted"
    FAILED = "failed", "Failed"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"


# Every state but posted: the few records still on their way or refused, which
# the banner, the progress fragment and the operations page count.
OPEN_SYNC_STATUSES = [
    SyncStatus.PENDING,
    SyncStatus.POSTING,
    SyncStatus.FAILED,
    SyncStatus.NEEDS_ATTENTION,
]


class WaitReason(models.TextChoices):
    NONE = "", "—"
    RATE_LIMIT = "rate_limit", "The package's rate limit"
    UNAVAILABLE = "unavailable", "The package could not be reached"
    # Held before the first posting run: the package's existing books are matched
    # first and a Super Admin confirms (``golive.py``).
    GO_LIVE = "go_live", "Going live: waiting for a Super Admin"


class StepStatus(models.TextChoices):
    """The steps after posting: the PDF attachment and a credit note's allocation."""

    NOT_NEEDED = "not_needed", "Not needed"
    PENDING = "pending", "Pending"
    WAITING = "waiting", "Waiting"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class SyncRecord(models.Model):
    """The outbox row of one document: the truth about its journey to the package.

    Written ``pending`` in the same transaction as the task that asks for it;
    workers claim it (``posting``), and settle it ``posted`` or ``failed``. A
    record left in ``posting`` by a worker that died has an unknown outcome and
    is settled by looking the document up in the package before anything is
    sent again.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="sync_records")
    document = models.OneToOneField(
        "invoicing.Document", on_delete=models.CASCADE, related_name="sync_record"
    )
    status = models.CharField(max_length=20, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    wanted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a person retried it and began waiting: it goes ahead of the backlog",
    )
    request_key = models.CharField(
        max_length=128, blank=True, help_text="Idempotency key of the request in flight"
    )
    message = models.TextField(blank=True, help_text="What the user should know, in words")
    # Why a pending record is held back: the banner tells a rate-limit wait from a backoff.
    waiting_for = models.CharField(max_length=20, choices=WaitReason.choices, blank=True)
    # Why the package refused it, as facts (kind, our code, the package's code,
    # the package's words), so each page can say who fixes what, per role.
    problems = models.JSONField(default=list, blank=True)
    external_id = models.CharField(max_length=64, blank=True)
    external_number = models.CharField(max_length=60, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    external_total = SafeDecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    external_tax = SafeDecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    attachment_status = models.CharField(
        max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING
    )
    attachment_message = models.TextField(blank=True)
    allocation_status = models.CharField(
        max_length=20, choices=StepStatus.choices, default=StepStatus.NOT_NEEDED
    )
    allocation_message = models.TextField(blank=True)
    duplicate_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Not posted: the package already holds this supplier document (its link)",
    )
    allow_duplicate = models.BooleanField(
        default=False,
        help_text="A user gave a reason (audited) to post despite a duplicate in the package",
    )
    # What the package should hold (``fingerprint.DocumentFingerprint.to_json``),
    # from the payload we sent; empty for documents posted before it was kept.
    fingerprint = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["company", "status", "next_attempt_at"]),
            models.Index(fields=["status", "claimed_at"]),
            # Counting a company's open records reads only them, not its posted bulk.
            models.Index(
                fields=["company", "status"],
                condition=models.Q(status__in=OPEN_SYNC_STATUSES),
                name="syncrecord_open_idx",
            ),
            # The documents posted since a round began, and all posted, from the index.
            models.Index(
                fields=["company", "posted_at"],
                condition=models.Q(status=SyncStatus.POSTED),
                name="syncrecord_posted_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.get_status_display()}"


class SyncAttempt(models.Model):
    """One call made for a record: when, which key, and the answer in words."""

    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    action = models.CharField(max_length=20)  # post, lookup, attach, allocate
    idempotency_key = models.CharField(max_length=128, blank=True)
    call_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="The package's id for the call behind this attempt (Xero-Correlation-Id); "
        "what its support asks for",
    )
    outcome = models.CharField(max_length=20)  # ok, failed, retry, unknown
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PARTLY_PAID = "partly_paid", "Partly paid"
    PAID = "paid", "Paid"
    VOIDED = "voided", "Voided"
    DELETED = "deleted", "Deleted"


class PaymentState(models.Model):
    """What the package says a posted document has been paid (or credited).

    One row per posted document, refreshed from webhooks and polling. Amounts
    are the package's, so they include payments made there that we never saw.
    """

    record = models.OneToOneField(SyncRecord, on_delete=models.CASCADE, related_name="payment")
    # Kept beside the record so lists and totals filter without a join.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="payment_states")
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    total = SafeDecimalField(max_digits=16, decimal_places=2, default=0)
    amount_paid = SafeDecimalField(max_digits=16, decimal_places=2, default=0)
    amount_credited = SafeDecimalField(max_digits=16, decimal_places=2, default=0)
    amount_due = SafeDecimalField(max_digits=16, decimal_places=2, default=0)
    fully_paid_on = models.DateField(null=True, blank=True)
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the package last changed the document"
    )
    changed_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["company", "status"])]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.get_status_display()}"


class PaymentLine(models.Model):
    """One payment against a document, as the package records it (link table row)."""

    state = models.ForeignKey(PaymentState, on_delete=models.CASCADE, related_name="payments")
    external_id = models.CharField(max_length=64)
    date = models.DateField(null=True, blank=True)
    amount = SafeDecimalField(max_digits=16, decimal_places=2)
    reference = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["state", "external_id"], name="payment_once_per_doc")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"


class CreditAllocation(models.Model):
    """Credit applied to a document: a credit note (or over/prepayment) and the amount."""

    state = models.ForeignKey(PaymentState, on_delete=models.CASCADE, related_name="allocations")
    kind = models.CharField(max_length=20, default="credit_note")
    external_id = models.CharField(max_length=64)
    number = models.CharField(max_length=60, blank=True)
    date = models.DateField(null=True, blank=True)
    amount = SafeDecimalField(max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["state", "kind", "external_id"], name="allocation_once_per_doc"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number or self.external_id}: {self.amount}"


class PaymentEvent(models.Model):
    """A change of a document's payment state: what changed, when, and how we learnt it."""

    state = models.ForeignKey(PaymentState, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    source = models.CharField(max_length=20)  # webhook, poll, check
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20)
    amount_paid = SafeDecimalField(max_digits=16, decimal_places=2)
    amount_due = SafeDecimalField(max_digits=16, decimal_places=2)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.old_status}→{self.new_status}"


class RemoteChange(models.Model):
    """Someone changed a posted document in the package: when (the package's own
    time), how we learnt it, and what differs from what we sent, in words.

    Recorded when the differences change (an empty list: it agrees again); the
    latest one with differences is the banner on the document. Our document is
    never overwritten.
    """

    record = models.ForeignKey(SyncRecord, on_delete=models.CASCADE, related_name="remote_changes")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="remote_changes")
    remote_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the package says the document was last changed"
    )
    detected_at = models.DateTimeField()
    source = models.CharField(max_length=20)  # webhook, poll
    differences = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [models.Index(fields=["company", "-detected_at"])]

    def __str__(self) -> str:
        return f"{self.record_id} at {self.detected_at:%Y-%m-%d %H:%M}: {len(self.differences)}"

    @property
    def summary(self) -> str:
        """ "Changed in Xero on 3 Dec: total …" without the package's name."""
        return ", ".join(self.differences)


class ReconcileOutcome(models.TextChoices):
    """Where a document stands when the TMS and the package are compared.

    Labels say "the package"; pages put the package's name in (``package_name``).
    """

    AGREES = "agrees", "Agrees"
    MISSING = "missing", "Missing in the package"
    ONLY_IN_PACKAGE = "only_in_package", "Only in the package"
    DIFFERS = "differs", "Differs"
    STATUS_DIFFERS = "status_differs", "Status differs"


class ReconcileRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReconciliationRun(models.Model):
    """One comparison of a company's final documents of a period with the package's.

    ``counts`` holds rows per outcome and ``acknowledged`` (rows that differ but a
    person acknowledged); ``calls`` and ``bytes_read`` what reading the package
    cost. An incremental run reads only what changed since the previous run of the
    same period and carries the rest over.
    """

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="reconciliation_runs"
    )
    period_from = models.DateField()
    period_to = models.DateField()
    incremental = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=ReconcileRunStatus.choices, default=ReconcileRunStatus.RUNNING
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=200, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    documents_read = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["company", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.company_id} {self.period_from}..{self.period_to} {self.status}"


class ReconciliationAcknowledgement(models.Model):
    """A person looked at a row that does not agree and accepted it, with a reason.

    It covers the outcome and the differences it was given for: when they change,
    the row is open again. Audited.
    """

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="reconciliation_acknowledgements"
    )
    document = models.ForeignKey(
        "invoicing.Document", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    external_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=20, choices=ReconcileOutcome.choices)
    differences = models.JSONField(default=list, blank=True)
    reason = models.TextField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["company", "document"]),
            models.Index(fields=["company", "external_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} acknowledged at {self.at:%Y-%m-%d %H:%M}"


class ReconciliationRow(models.Model):
    """One document of a run: ours, the package's, or both, side by side.

    ``ours`` and ``theirs`` hold the compared values (date, due_date, reference,
    currency, net, tax, gross, line_count, status, contact) as text; ``differences``
    says in words what differs. ``acknowledgement`` is set when a person accepted
    exactly this outcome and these differences.
    """

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="rows")
    # Kept beside the run so a company's rows filter without a join.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=20, choices=ReconcileOutcome.choices)
    document = models.ForeignKey(
        "invoicing.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_id = models.CharField(max_length=64, blank=True)
    type = models.CharField(max_length=30)
    number = models.CharField(max_length=60, blank=True)
    contact_name = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    ours = models.JSONField(default=dict, blank=True)
    theirs = models.JSONField(default=dict, blank=True)
    differences = models.JSONField(default=list, blank=True)
    acknowledgement = models.ForeignKey(
        ReconciliationAcknowledgement,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rows",
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["run", "outcome"]),
            models.Index(fields=["company", "document"]),
        ]

    def __str__(self) -> str:
        return f"{self.number or self.external_id}: {self.outcome}"


class GoLiveState(models.TextChoices):
    MATCHING = "matching", "Matching what the package holds"
    AWAITING = "awaiting", "Matched, waiting for a Super Admin to confirm"
    CONFIRMED = "confirmed", "Confirmed"


class GoLive(models.Model):
    """A company going live on an organisation that already holds contacts and documents.

    Begun when the company is first linked (or by ``ledgerbridge golive``): posting
    is held while what the package holds is matched with ours, and until a Super
    Admin confirms the summary. ``counts`` holds contacts and documents per class.
    A company with no row posts as usual (it went live before this existed, or its
    package had nothing to match).
    """

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="go_live")
    # The package's organisation the matching was for (its adapter's id for it): the
    # contacts matched there mean nothing in another one.
    organisation = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=20, choices=GoLiveState.choices, default=GoLiveState.MATCHING
    )
    started_at = models.DateTimeField()
    matched_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by_label = models.CharField(max_length=200, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    calls = models.PositiveIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the last matching could not finish")

    def __str__(self) -> str:
        return f"{self.company_id}: {self.get_state_display()}"


class ContactMatchMethod(models.TextChoices):
    """How a partner was matched to a contact the package holds, strongest first."""

    CONTACT_NUMBER = "contact_number", "Contact number"
    TAX_NUMBER = "tax_number", "VAT number"
    NAME = "name", "Exact name"
    CHOSEN = "chosen", "Chosen by a Super Admin"
    AMBIGUOUS = "ambiguous", "Ambiguous: waiting for a Super Admin"
    NONE = "none", "No match: created when first posted"


class GoLiveContact(models.Model):
    """One of our partners and the package's contact it was matched to (if any).

    Ambiguous ones (several contacts fit, or one contact fits several partners) name
    their ``candidates`` and are never merged by themselves: the partner's documents
    wait until a Super Admin chooses (method becomes ``chosen``).
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(
        "invoicing.Partner", on_delete=models.CASCADE, related_name="go_live_matches"
    )
    method = models.CharField(max_length=20, choices=ContactMatchMethod.choices)
    external_id = models.CharField(max_length=64, blank=True)
    external_name = models.CharField(max_length=255, blank=True)
    # [{external_id, name, contact_number, tax_number, archived, why}]
    candidates = models.JSONField(default=list, blank=True)
    chosen_by_label = models.CharField(max_length=200, blank=True)
    chosen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "partner"], name="go_live_contact_once")
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} → {self.external_id or self.method}"


class GoLiveDocumentClass(models.TextChoices):
    LINKED = "linked", "Already in the package: linked, not posted"
    CONFLICT = "conflict", "Same number in the package, but not the same document"
    NUMBER_KEPT = (
        "number_kept",
        "Number kept by the package for a voided or deleted document: not posted",
    )
    TO_POST = "to_post", "Not in the package: to post after confirmation"
    ONLY_IN_PACKAGE = "only_in_package", "Only in the package"
    GONE = "gone", "Voided or deleted in the package: nothing is matched to it"


class GoLiveDocument(models.Model):
    """A document seen when going live: ours, the package's, or both when linked."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=GoLiveDocumentClass.choices)
    document = models.ForeignKey(
        "invoicing.Document", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    external_id = models.CharField(max_length=64, blank=True)
    number = models.CharField(max_length=60, blank=True)
    contact_name = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total = SafeDecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    # The package's values when matched (``DocumentFingerprint.to_json`` and
    # ``lines_read``): a linked document read in full is compared with them later, as
    # a posted one with what was sent.
    fingerprint = models.JSONField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="Why it is in its class, in words")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["company", "kind"])]

    def __str__(self) -> str:
        return f"{self.number or self.external_id}: {self.kind}"


class WorkerLease(models.Model):
    """One worker at a time on a named piece of work, for a limited time.

    Unlike a queue lock, a lease runs out: a worker killed while holding one
    holds nothing once ``until`` has passed (see ``ledgerbridge.accounting.leases``).
    """

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=32, blank=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} until {self.until:%H:%M:%S}"


class WorkerHeartbeat(models.Model):
    """A worker process says it is alive: ``beat_at`` moves every half minute.

    Written by a thread in each Huey consumer (``ledgerbridge.jobs``); read by
    ``ledgerbridge doctor``, which wants none older than two minutes.
    """

    name = models.CharField(max_length=100, primary_key=True)  # host:pid
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%H:%M:%S}"
