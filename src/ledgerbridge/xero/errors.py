"""The Xero client's typed errors: the type says whether to try again, ``retry_after`` when."""

from __future__ import annotations


def unreachable_words(error: BaseException) -> str:
    """Why a call got no answer, in a person's words: the library's exception name
    ("MaxRetryError", "ConnectError") means nothing to them; it stays in the cause."""
    for cause in (error, getattr(error, "reason", None)):  # urllib3 wraps the cause
        if isinstance(cause, TimeoutError) or "Timeout" in type(cause).__name__:
            return "it did not answer in time"
    return "the connection failed"


class XeroError(Exception):
    retry_after: float | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class XeroUnavailable(XeroError):
    """Network trouble, timeout or a 5xx: try again with backoff."""


class XeroRateLimited(XeroError):
    """429: wait for the window Xero names, then try again."""

    def __init__(self, message: str, *, retry_after: float, problem: str = "") -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after
        self.problem = problem


class XeroAuthRejected(XeroError):
    """401/403: the link needs a Super Admin to authorise again."""


class XeroValidation(XeroError):
    """400: Xero refused the data; a user has to fix it."""

    def __init__(self, message: str, *, messages: list[str] | None = None) -> None:
        super().__init__(message, status=400)
        self.messages = messages or [message]


class XeroNotFound(XeroError):
    """404: the id is not in this organisation."""
