"""The one application error type that services raise.

Its message is written for the person who has to fix the problem; ``field``
names the input at fault when there is one, so forms and the API can point at it.
"""

from __future__ import annotations


class ApplicationError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDeniedError(ApplicationError):
    """The actor's role does not allow the action."""


class NotFoundError(ApplicationError):
    """The object does not exist in the actor's company."""
