import pytest

from ledgerbridge.companies.models import Role
from ledgerbridge.errors import ApplicationError, PermissionDeniedError
from ledgerbridge.invoicing.models import Task, TaskMode, TaskStatus
from ledgerbridge.invoicing.workflow import (
    TaskType,
    document_tasks,
    task_complete,
    task_type_register,
    task_type_unregister,
    tasks_refresh_visibility,
)
from tests.ledgerbridge.factories import make_actor, make_company, make_document

pytestmark = pytest.mark.django_db


class Recorder:
    """A task type that keeps what it was asked to do."""

    def __init__(self, *, mode=TaskMode.MANUAL, applies=True, refuse=False):
        self.completed = []
        self.mode = mode
        self.applies = applies
        self.refuse = refuse

    def register(self):
        task_type_register(
            TaskType(
                key="send_copy",
                label="Send copy",
                applies=lambda document: self.applies,
                mode_for=lambda document: self.mode,
                on_complete=self.on_complete,
            )
        )

    def on_complete(self, task, actor, now):
        if self.refuse:
            raise ApplicationError("The recipient has no email address.")
        self.completed.append((task.document_id, actor.name if actor else None))


@pytest.fixture
def recorder():
    rec = Recorder()
    yield rec
    task_type_unregister("send_copy")


@pytest.fixture
def actor():
    return make_actor(make_company(), Role.FINANCE)


def test_finalising_adds_applicable_tasks_open_for_manual_ones(recorder, actor):
    recorder.register()
    document = make_document(actor, finalise=True)
    [task] = document_tasks(document=document)
    assert (task.type, task.status, task.mode) == ("send_copy", TaskStatus.OPEN, TaskMode.MANUAL)
    assert recorder.completed == []


def test_auto_complete_tasks_complete_when_the_document_becomes_final(recorder, actor):
    recorder.mode = TaskMode.AUTO
    recorder.register()
    document = make_document(actor, finalise=True)
    [task] = document_tasks(document=document)
    assert task.status == TaskStatus.DONE and task.completed_by is None
    assert recorder.completed == [(document.pk, None)]


def test_a_user_completes_a_manual_task(recorder, actor):
    recorder.register()
    document = make_document(actor, finalise=True)
    task = task_complete(actor=actor, task_id=document_tasks(document=document)[0].pk)
    assert task.status == TaskStatus.DONE
    assert task.completed_by == actor.user
    assert recorder.completed == [(document.pk, actor.name)]


def test_a_refused_completion_leaves_the_task_open(recorder, actor):
    recorder.refuse = True
    recorder.register()
    document = make_document(actor, finalise=True)
    task_id = document_tasks(document=document)[0].pk
    with pytest.raises(ApplicationError, match="no email address"):
        task_complete(actor=actor, task_id=task_id)
    assert Task.objects.get(pk=task_id).status == TaskStatus.OPEN


def test_a_viewer_cannot_complete_tasks(recorder, actor):
    recorder.register()
    document = make_document(actor, finalise=True)
    viewer = make_actor(actor.company, Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        task_complete(actor=viewer, task_id=document_tasks(document=document)[0].pk)


def test_tasks_hide_when_their_type_stops_applying_and_keep_history(recorder, actor):
    recorder.register()
    document = make_document(actor, finalise=True)
    recorder.applies = False
    assert tasks_refresh_visibility(company_id=actor.company.pk, task_type_key="send_copy") == 1
    assert document_tasks(document=document) == []
    assert Task.objects.filter(document=document, hidden=True).count() == 1


def test_tasks_of_another_company_cannot_be_completed(recorder, actor):
    recorder.register()
    document = make_document(actor, finalise=True)
    stranger = make_actor(make_company(), Role.SUPER_ADMIN)
    with pytest.raises(ApplicationError, match="No such task"):
        task_complete(actor=stranger, task_id=document_tasks(document=document)[0].pk)
