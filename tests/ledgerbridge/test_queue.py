"""The real queue: jobs enqueued after commit are found in storage and run by a worker."""

import subprocess
import sys
import uuid

import pytest
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage, SqliteStorage

from ledgerbridge.companies.models import Role
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import DocumentPdf
from ledgerbridge.invoicing.services import document_finalise
from tests.ledgerbridge.factories import make_actor, make_company, make_document

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def real_queue(request, tmp_path):
    name = f"test-{uuid.uuid4().hex}"
    if request.param == "redis":
        storage = RedisStorage(name=name, url=REDIS_URL)
    else:
        storage = SqliteStorage(name=name, filename=str(tmp_path / "queue.sqlite3"))
    previous = HUEY.storage, HUEY.immediate
    HUEY.immediate = False
    HUEY.storage = storage
    yield HUEY
    storage.flush_all()
    HUEY.storage, HUEY.immediate = previous


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "real_queue", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)], indirect=True
)
def test_a_finalised_document_is_rendered_by_the_worker_after_commit(real_queue):
    actor = make_actor(make_company(), Role.FINANCE)
    document = make_document(actor, finalise=True)
    assert not DocumentPdf.objects.filter(document=document).exists()
    assert real_queue.pending_count() == 1
    real_queue.execute(real_queue.dequeue())
    assert bytes(DocumentPdf.objects.get(document=document).content).startswith(b"%PDF-")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("real_queue", ["sqlite"], indirect=True)
def test_nothing_is_enqueued_when_finalising_fails(real_queue):
    actor = make_actor(make_company(), Role.FINANCE)
    document = make_document(actor, "purchase_invoice", supplier_reference="")
    with pytest.raises(ApplicationError, match="supplier's document number"):
        document_finalise(actor=actor, document_id=document.pk)
    assert real_queue.pending_count() == 0


@pytest.mark.parametrize(
    ("url", "kind"), [("", "SqliteHuey"), ("redis://127.0.0.1:6379/0", "RedisHuey")]
)
def test_the_queue_backend_follows_huey_url(url, kind, tmp_path):
    env = {"HUEY_URL": url, "LEDGERBRIDGE_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='ledgerbridge.settings'; "
        "from django.conf import settings; print(type(settings.HUEY).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == kind
