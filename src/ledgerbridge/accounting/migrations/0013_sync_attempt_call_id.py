from django.db import migrations, models


class Migration(migrations.Migration):
    """The attempt log keeps the package's id for each call (Xero-Correlation-Id) in the
    column that was reserved for it as ``request_id`` and never filled."""

    dependencies = [
        ("accounting", "0012_worker_heartbeat"),
    ]

    operations = [
        migrations.RenameField(model_name="syncattempt", old_name="request_id", new_name="call_id"),
        migrations.AlterField(
            model_name="syncattempt",
            name="call_id",
            field=models.CharField(
                blank=True,
                help_text="The package's id for the call behind this attempt "
                "(Xero-Correlation-Id); what its support asks for",
                max_length=100,
            ),
        ),
    ]
