"""The background job of Invoices Exports (Huey); ``tasks`` imports it for the worker."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from .exports import export_batch_build


@db_task()
def build_export_batch(batch_id: int) -> None:
    """Write a large export batch's files; progress is kept on the batch row."""
    export_batch_build(batch_id=batch_id)
