"""Structured logs: every line is JSON, and carries the request, company, document or job it is about."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time

import pytest
import structlog
from django.test import Client
from huey.contrib.djhuey import HUEY

from ledgerbridge import logging as lb_logging
from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from tests.ledgerbridge.factories import (
    PASSWORD,
    make_company,
    make_document,
    make_user,
    system_actor,
)
from tests.ledgerbridge.xero.conftest import admin, authorise, northway_org, sandbox  # noqa: F401


@pytest.fixture
def json_lines():
    """The log lines written meanwhile, as production writes them (JSON), parsed."""
    config = lb_logging.configure(json=True, level="INFO")["formatters"]["structured"]
    formatter = config["()"](**{k: v for k, v in config.items() if k != "()"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    loggers = [logging.getLogger(), logging.getLogger("huey")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    def read() -> list[dict]:
        text = stream.getvalue()
        assert text, "nothing was logged"
        return [json.loads(line) for line in text.splitlines()]  # every line is JSON

    yield read
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.django_db
def test_a_web_request_logs_its_request_company_and_user_ids(json_lines):
    company = make_company("Northway Haulage Ltd", starter=False)
    user = make_user(company, Role.FINANCE)
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)

    answer = client.get("/invoices/?search=x&code=secret", HTTP_X_REQUEST_ID="req-42")

    assert answer.status_code == 200 and answer["X-Request-ID"] == "req-42"
    [line] = [line for line in json_lines() if line["event"] == "request.finished"]
    assert line["request_id"] == "req-42"
    assert (line["company_id"], line["user_id"]) == (company.pk, user.pk)
    assert (line["method"], line["path"], line["status"]) == ("GET", "/invoices/", 200)
    assert "secret" not in json.dumps(line)  # no query string
    assert line["level"] == "info" and "timestamp" in line


@pytest.mark.django_db
def test_an_api_token_request_logs_the_tokens_company(json_lines):
    company = make_company("Pennine Cold Chain Ltd", starter=False)
    _, raw = api_token_create(actor=system_actor(company), name="TMS", role=Role.FINANCE)

    answer = Client().get("/api/partners", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert answer.status_code == 200
    [line] = [line for line in json_lines() if line["event"] == "request.finished"]
    assert line["company_id"] == company.pk and line["path"] == "/api/partners"
    assert raw not in json.dumps(line)


@pytest.mark.django_db
def test_a_request_id_that_does_not_look_like_one_is_replaced(json_lines):
    answer = Client().get("/login/", HTTP_X_REQUEST_ID='x" injected\n{"level": "critical"}')
    assert len(answer["X-Request-ID"]) == 32
    [line] = [line for line in json_lines() if line["event"] == "request.finished"]
    assert line["request_id"] == answer["X-Request-ID"]


@pytest.mark.django_db
def test_a_request_leaves_the_callers_log_context_as_it_was():
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(test="outer")
    Client().get("/login/")
    assert structlog.contextvars.get_contextvars() == {"test": "outer"}
    structlog.contextvars.clear_contextvars()


@HUEY.task()
def _logs_something(word: str) -> str:
    structlog.get_logger("tests.job").info("job.said", word=word)
    return word


@HUEY.task()
def _fails() -> None:
    raise RuntimeError("boom")


def test_a_job_logs_its_task_name_and_id_and_then_unbinds_them(json_lines):
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id="outer")
    result = _logs_something("hello")  # HUEY.immediate in tests: runs here, hooks and all
    lines = json_lines()
    [said] = [line for line in lines if line["event"] == "job.said"]
    assert said["task_name"] == "_logs_something" and said["task_id"] == result.id
    assert said["request_id"] == "outer"  # the caller's context is kept inside the job
    [done] = [line for line in lines if "executed in" in line["event"]]
    assert done["logger"] == "huey" and done["task_id"] == result.id
    assert structlog.contextvars.get_contextvars() == {"request_id": "outer"}
    structlog.contextvars.clear_contextvars()


def test_a_failing_jobs_traceback_line_carries_its_task_id(json_lines):
    structlog.contextvars.clear_contextvars()
    result = _fails()
    [line] = [line for line in json_lines() if "Unhandled exception" in line["event"]]
    assert line["task_name"] == "_fails" and line["task_id"] == result.id
    assert "RuntimeError: boom" in line["exception"]
    assert structlog.contextvars.get_contextvars() == {}


@pytest.mark.django_db
def test_a_posting_run_logs_every_attempt_with_company_and_document_ids(
    sandbox,  # noqa: F811
    admin,  # noqa: F811
    json_lines,
    django_capture_on_commit_callbacks,
):
    authorise(sandbox, admin, [sandbox.tenant_id])
    with django_capture_on_commit_callbacks(execute=True):
        first = make_document(admin, finalise=True)
        second = make_document(admin, finalise=True)
    assert set(SyncRecord.objects.values_list("status", flat=True)) == {SyncStatus.POSTED}

    lines = json_lines()
    attempts = [line for line in lines if line["event"] == "outbox.attempt"]
    assert {line["document_id"] for line in attempts} == {first.pk, second.pk}
    assert {line["company_id"] for line in attempts} == {admin.company.pk}
    assert {line["action"] for line in attempts} >= {"post", "attach"}
    # The outbox ran as a job: its lines name the job too.
    assert all(line.get("task_name") == "sync_company" for line in attempts)


def test_a_real_worker_writes_json_lines_naming_each_job(tmp_path):
    """``ledgerbridge run_huey`` as production runs it: its own database and queue files."""
    env = {
        "PATH": os.environ["PATH"],
        "LEDGERBRIDGE_VAR_DIR": str(tmp_path),
        "LEDGERBRIDGE_LOG_JSON": "1",
    }
    command = [sys.executable, "-m", "ledgerbridge.cli"]

    def run(*args: str) -> str:
        done = subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("migrate", "-v0")
    code = "from ledgerbridge.accounting.tasks import sweep; print('ID', sweep().id)"
    task_id = run("shell", "-c", code).split("ID ")[1].strip()
    worker = subprocess.Popen(
        [*command, "run_huey", "-w", "1", "--no-periodic"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[dict] = []
    try:
        deadline = time.monotonic() + 60
        assert worker.stdout is not None
        while time.monotonic() < deadline:
            raw = worker.stdout.readline()
            if not raw:
                break
            lines.append(json.loads(raw))  # every line the worker writes is JSON
            if "executed in" in lines[-1]["event"]:
                break
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    [done] = [line for line in lines if "executed in" in line["event"]]
    assert done["task_id"] == task_id and done["task_name"] == "sweep"
    assert done["level"] == "info" and done["logger"] == "huey"
