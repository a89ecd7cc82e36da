"""What only a process knows, counted in the process: Xero calls, PDF renders,
export builds, token refreshes and HTTP responses.

Gunicorn and the Huey workers are separate processes and a scrape reaches one
gunicorn process, so the counters use prometheus-client's multiprocess mode:
each process writes its values to files in ``settings.METRICS_DIR`` and
``/metrics`` sums them (``operations.metrics``). What the database knows
(backlog, links, webhooks, polls, heartbeats) is read there at scrape time
instead. Every label here takes values from a small fixed set.
"""

from __future__ import annotations

from django.conf import settings
from prometheus_client import Counter, Histogram, values


def _use_multiprocess_files() -> None:
    # The library picks its value class from PROMETHEUS_MULTIPROC_DIR when it is
    # first imported; settings sets that variable, so make sure the choice was
    # made after settings, whoever imported the library first.
    settings.METRICS_DIR.mkdir(parents=True, exist_ok=True)
    values.ValueClass = values.MultiProcessValue()


_use_multiprocess_files()

XERO_CALLS = Counter(
    "ledgerbridge_xero_calls",
    "Xero API calls by SDK operation and HTTP status (0: Xero not reached; 429: rate limited)",
    ["operation", "status"],
)
XERO_TOKEN_REFRESHES = Counter(
    "ledgerbridge_xero_token_refreshes",
    "Refreshes of a Xero access token, by outcome (ok or failed)",
    ["outcome"],
)
PDF_RENDER_SECONDS = Histogram(
    "ledgerbridge_pdf_render_seconds",
    "Time to render one document's PDF (HTML and WeasyPrint)",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
EXPORT_BUILD_SECONDS = Histogram(
    "ledgerbridge_export_build_seconds",
    "Time to build one export batch's files",
    buckets=(0.5, 1, 5, 15, 30, 60, 300, 900),
)
HTTP_RESPONSES = Counter(
    "ledgerbridge_http_responses",
    "Responses of the web app and REST API by status class (2xx, 3xx, 4xx, 5xx)",
    ["status_class"],
)


def xero_call_counted(*, operation: str, status: int) -> None:
    XERO_CALLS.labels(operation=operation, status=str(status)).inc()


def http_response_counted(*, status: int) -> None:
    HTTP_RESPONSES.labels(status_class=f"{status // 100}xx").inc()
