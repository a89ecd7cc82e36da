"""The one application error type that services raise.

Its message is written for the person who has to fix the problem; ``field``
names the input at fault when there is one, so forms and the API can point at it.
"""

from __future__ import annotations

from collections.abc import Sequence


class ApplicationError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDeniedError(ApplicationError):
    """The actor's role does not allow the action."""


class NotFoundError(ApplicationError):
    """The object does not exist in the actor's company."""


class InvalidInputError(ApplicationError):
    """Several inputs at fault at once, so a form or API client hears of all of them
    in one round; ``errors`` holds one ``ApplicationError`` per field."""

    def __init__(self, errors: Sequence[ApplicationError]) -> None:
        if not errors:
            raise ValueError("InvalidInputError needs at least one error")
        super().__init__(" ".join(error.message for error in errors), field=errors[0].field)
        self.errors = list(errors)


def errors_of(error: ApplicationError) -> list[ApplicationError]:
    """The single errors an error stands for (itself, or each of an ``InvalidInputError``)."""
    return list(error.errors) if isinstance(error, InvalidInputError) else [error]
