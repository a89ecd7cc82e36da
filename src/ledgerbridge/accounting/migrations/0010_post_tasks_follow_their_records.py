""" "Post to Xero" tasks said Done as soon as they were completed; now they say
where the document is: done only once it is in Xero, in progress while it is
on its way, failed (with the reason) when Xero refused it."""

from django.db import migrations

POST_TASK = "post_to_xero"


def forwards(apps, schema_editor):
    Task = apps.get_model("invoicing", "Task")
    SyncRecord = apps.get_model("accounting", "SyncRecord")
    done = Task.objects.filter(type=POST_TASK, status="done")
    on_the_way = SyncRecord.objects.filter(status__in=["pending", "posting"]).values("document_id")
    done.filter(document_id__in=on_the_way).update(status="in_progress", message="Queued for Xero.")
    refused = SyncRecord.objects.filter(
        status__in=["failed", "needs_attention"], document__tasks__in=done
    ).values_list("document_id", "message")
    for document_id, message in refused:
        Task.objects.filter(type=POST_TASK, document_id=document_id).update(
            status="failed", message=message
        )


def backwards(apps, schema_editor):
    Task = apps.get_model("invoicing", "Task")
    Task.objects.filter(type=POST_TASK, status="in_progress").update(status="done")


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0009_sync_wait_reason_and_problems"),
        ("invoicing", "0003_task_in_progress"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
