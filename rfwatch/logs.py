"""Logging, configured once by the CLI: stdlib ``logging`` to stderr.

Each package logs through ``logging.getLogger(__name__)``; this module only decides
where the lines go and how they look: plain text for people, or JSON lines
(``--log-json``, ``RFWATCH_LOG__FORMAT=json``) for services whose logs a collector
reads. Secrets never reach a line: bearer tokens, passwords in URLs and
``password=``/``token=`` values are masked by :func:`redact` in either format.

>>> redact("GET http://admin:s3cret@db:5432/x Authorization: Bearer abc.def")
'GET http://admin:***@db:5432/x Authorization: Bearer ***'
>>> redact("password=hunter2 token: xyz")
'password=*** token: ***'
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

__all__ = ["JsonFormatter", "RedactingFormatter", "configure_logging", "redact"]

_PATTERNS = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"(://[^/\s:@]*:)[^@\s/]+@"), r"\1***@"),
    (re.compile(r"(?i)\b(password|passwd|token|secret)(\s*[=:]\s*)[^\s,;&]+"), r"\1\2***"),
)


def redact(text: str) -> str:
    """``text`` with tokens and passwords masked."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Plain text lines (time, level, logger, message), secrets masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``t`` (UTC ISO 8601), ``level``, ``logger``, ``msg``,
    ``exc`` (the traceback, when there is one); secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "t": datetime.fromtimestamp(record.created, tz=UTC).isoformat().replace(
                "+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Send every logger's records at ``level`` or above to stderr, once."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_rfwatch", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._rfwatch = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else RedactingFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that talk a lot at INFO stay at WARNING unless asked for DEBUG.
    for noisy in ("httpx", "httpcore", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel("DEBUG" if level.upper() == "DEBUG" else "WARNING")
