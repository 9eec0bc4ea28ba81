"""Logging as the CLI sets it up: JSON lines for services, no secrets in any line."""

from __future__ import annotations

import json
import logging

from rfwatch.logs import JsonFormatter, RedactingFormatter


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("stations.agent", logging.ERROR, __file__, 1, msg, args,
                             exc_info)


def test_json_lines_carry_the_traceback_and_no_secret() -> None:
    try:
        raise ValueError("cannot reach postgresql://rfwatch:hunter2@db/rfwatch")
    except ValueError as err:
        line = JsonFormatter().format(_record("upload with Bearer %s failed", "tok.abc",
                                              exc=err))
    out = json.loads(line)
    assert set(out) == {"t", "level", "logger", "msg", "exc"}
    assert out["level"] == "ERROR" and out["logger"] == "stations.agent"
    assert out["t"].endswith("Z")
    assert "Traceback" in out["exc"] and "ValueError" in out["exc"]
    assert "hunter2" not in line and "tok.abc" not in line
    assert "\n" not in line


def test_text_lines_mask_passwords() -> None:
    text = RedactingFormatter().format(_record("influx at http://u:pw@h:8086 password=x1"))
    assert "pw@" not in text and "x1" not in text and "u:***@h:8086" in text
