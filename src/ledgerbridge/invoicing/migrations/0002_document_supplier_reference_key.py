"""Purchase documents keep their supplier's number in a comparable form (duplicate check)."""

from django.db import migrations, models


def fill_keys(apps, schema_editor):
    # The same rule as models.supplier_reference_key, frozen here as migrations must be.
    Document = apps.get_model("invoicing", "Document")
    batch = []
    for document in (
        Document.objects.exclude(supplier_reference="").only("pk", "supplier_reference").iterator()
    ):
        document.supplier_reference_key = "".join(document.supplier_reference.split()).casefold()
        batch.append(document)
        if len(batch) >= 500:
            Document.objects.bulk_update(batch, ["supplier_reference_key"])
            batch = []
    if batch:
        Document.objects.bulk_update(batch, ["supplier_reference_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="supplier_reference_key",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="supplier_reference without case and spaces, to find duplicates",
                max_length=60,
            ),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                fields=["company", "partner", "supplier_reference_key"],
                name="document_supplier_ref_idx",
            ),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
    ]
