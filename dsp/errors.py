"""The one error tree of rfwatch.

Every error rfwatch raises on purpose derives from :class:`RfwatchError`, so the
CLI can print it as one line (no traceback) and the API can map it to a status.
It lives in ``dsp`` because ``dsp`` is the one package every other package may
import (see docs/ARCHITECTURE.md); the subclasses for other layers live here too
so there is a single tree to read.
"""

from __future__ import annotations

__all__ = [
    "RfwatchError",
    "InputFormatError",
    "ParameterError",
    "ConfigError",
    "ReceiverError",
    "ReceiverNotFound",
    "ReceiverLost",
    "StorageError",
    "ComplianceError",
]


class RfwatchError(Exception):
    """Base of every error rfwatch raises on purpose."""


class InputFormatError(RfwatchError, ValueError):
    """Bad input: a file, a line, a field or a request body that cannot be used.

    Parameters
    ----------
    message:
        What is wrong, in words a user can act on.
    source:
        The file name, URL or other origin of the input, if known.
    line:
        1-based line (or row) number, if the input is line oriented.
    field:
        The field or column name, if one is at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        where = []
        if source is not None:
            where.append(str(source))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ParameterError(RfwatchError, ValueError):
    """A function was called with a value it cannot use (``dsp``'s own checks).

    The message names the argument, e.g. ``"sample_rate_hz must be finite and > 0,
    got 1e-300"``. It is also a ``ValueError`` so callers that caught that keep working.
    """


class ConfigError(RfwatchError):
    """Settings or a configuration file that cannot be used."""


class ReceiverError(RfwatchError):
    """A receiver (dongle, rtl_tcp server, file, simulator) failed."""


class ReceiverNotFound(ReceiverError):
    """The receiver asked for is not there (no dongle, wrong serial, no server)."""


class ReceiverLost(ReceiverError):
    """A receiver that was open went away mid-stream (unplugged, connection dropped).

    The station agent catches this type to reopen the receiver with back-off.
    """


class StorageError(RfwatchError):
    """The time-series store or the relational database failed or refused a request."""


class ComplianceError(RfwatchError):
    """A compliance operation that is not allowed (e.g. an illegal case transition)."""
