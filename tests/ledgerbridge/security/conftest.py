"""Two companies with one of everything: the one acting (A) and the other (B)."""

from __future__ import annotations

import pytest

from .routes import Tenant, review_task_type_register, review_task_type_unregister, tenant


@pytest.fixture
def review_tasks():
    review_task_type_register()
    yield
    review_task_type_unregister()


@pytest.fixture
def ours(db, review_tasks) -> Tenant:
    return tenant("Northern Haulage Ltd")


@pytest.fixture
def theirs(db, review_tasks) -> Tenant:
    return tenant("Zebra Secret Freight plc", secret=True)
