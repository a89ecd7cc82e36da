"""Trigram indexes for the document search, on PostgreSQL only.

The search is ``icontains`` on five columns, which PostgreSQL runs as
``UPPER(col::text) LIKE UPPER('%term%')``: a GIN index of ``UPPER(col)`` with
``gin_trgm_ops`` serves exactly that expression. SQLite has neither the
extension nor GIN, and keeps scanning; nothing is done there.
"""

from django.db import migrations

SEARCHED = ["number", "reference", "order_reference", "trip_reference", "supplier_reference"]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "doc_{column}_trgm" ON "invoicing_document" '
            f'USING gin ((UPPER("{column}")) gin_trgm_ops)'
        )


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "doc_{column}_trgm"')


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0005_document_list_order_index")]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
