"""Structured logging: JSON lines in production, readable lines in development.

Configured once from settings; modules get loggers with ``structlog.get_logger()``
and bind context (company, document, request ids) rather than formatting strings.
"""

from __future__ import annotations

import logging.config
from typing import Any

import structlog


def configure(*, json: bool, level: str) -> dict[str, Any]:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # JSON needs the traceback turned into text first (else it renders the
    # exc_info tuple's repr and the traceback is lost); the console renderer
    # formats it itself.
    renderers: list[Any] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if json
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *renderers,
                ],
                "foreign_pre_chain": shared,
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # A handler of its own stops run_huey from adding a second one.
            "huey": {"level": level, "handlers": ["console"], "propagate": False},
            # Errors only: every PDF otherwise warns that fontTools subsets the fonts
            # (WeasyPrint prefers HarfBuzz's, which Debian's pango build lacks).
            "weasyprint": {"level": "ERROR"},
            # Request lines can carry query strings; ours are logged with context instead.
            "httpx": {"level": "WARNING"},
            "httpx2": {"level": "WARNING"},
            # Their debug lines dump response headers, a redirect's Location included.
            "httpcore": {"level": "WARNING"},
            "httpcore2": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }


def setup(config: dict[str, Any]) -> None:
    logging.config.dictConfig(config)


def quiet(*names: str, level: str = "WARNING") -> None:
    """Raise other libraries' loggers to ``level`` for a tool's run (the benchmarks)."""
    for name in names:
        logging.getLogger(name).setLevel(level)


def bind_actor(actor: Any) -> None:
    """Bind who is acting (company, user) to the log lines that follow in this context."""
    if actor is None:
        return
    structlog.contextvars.bind_contextvars(company_id=actor.company.pk)
    if getattr(actor, "user", None) is not None:
        structlog.contextvars.bind_contextvars(user_id=actor.user.pk)
