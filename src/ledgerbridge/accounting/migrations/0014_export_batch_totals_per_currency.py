from decimal import Decimal

from django.db import migrations, models
from django.db.models import Case, DecimalField, F, Sum, When

CREDIT_NOTE_TYPES = ("sales_credit_note", "purchase_credit_note")


def _signed(field: str) -> Case:
    return Case(
        When(document__type__in=CREDIT_NOTE_TYPES, then=-F(f"document__{field}")),
        default=F(f"document__{field}"),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )


def totals_per_currency(apps, schema_editor):
    """Each batch's totals again from its documents, one per currency (the old columns
    added pounds and euros together). A failed batch has no documents left: no totals."""
    ExportBatch = apps.get_model("accounting", "ExportBatch")
    ExportBatchDocument = apps.get_model("accounting", "ExportBatchDocument")
    rows = (
        ExportBatchDocument.objects.values("batch_id", "document__currency")
        .annotate(
            net=Sum(_signed("net_total")),
            tax=Sum(_signed("tax_total")),
            gross=Sum(_signed("gross_total")),
        )
        .order_by("batch_id", "document__currency")
    )
    totals: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        totals.setdefault(row["batch_id"], []).append(
            {
                "currency": row["document__currency"],
                **{k: f"{Decimal(row[k]):.2f}" for k in ("net", "tax", "gross")},
            }
        )
    for batch_id, items in totals.items():
        ExportBatch.objects.filter(pk=batch_id).update(totals=items)


def one_currency_back(apps, schema_editor):
    """Back to the single columns only where a batch has one currency (a mixed figure
    is never written back; such batches read 0)."""
    ExportBatch = apps.get_model("accounting", "ExportBatch")
    for batch in ExportBatch.objects.exclude(totals=[]):
        if len(batch.totals) == 1:
            (item,) = batch.totals
            batch.net_total = Decimal(item["net"])
            batch.tax_total = Decimal(item["tax"])
            batch.gross_total = Decimal(item["gross"])
            batch.save(update_fields=["net_total", "tax_total", "gross_total"])


class Migration(migrations.Migration):
    """Export batches keep their totals per currency instead of one figure that added
    pounds and euros together."""

    dependencies = [
        ("accounting", "0013_sync_attempt_call_id"),
        ("invoicing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportbatch",
            name="totals",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Per currency, never summed across currencies: a list of "
                "{currency, net, tax, gross} (amounts as strings; credit notes count negative)",
            ),
        ),
        migrations.RunPython(totals_per_currency, one_currency_back),
        migrations.RemoveField(model_name="exportbatch", name="gross_total"),
        migrations.RemoveField(model_name="exportbatch", name="net_total"),
        migrations.RemoveField(model_name="exportbatch", name="tax_total"),
    ]
