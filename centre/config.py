"""What the centre needs to open its stores and serve (built from settings by ``rfwatch``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_BODY_LIMIT_BYTES", "CentralConfig"]

#: Largest request body the centre reads (a full outbox batch is well under this).
DEFAULT_BODY_LIMIT_BYTES = 8 << 20


@dataclass(frozen=True)
class CentralConfig:
    """The centre's configuration.

    ``timeseries`` holds the keyword arguments of :func:`storage.open_timeseries`
    (``backend``, ``path`` or ``influx_url``, ``database``, ...).
    ``body_limit_bytes``: requests with larger bodies are refused (413) while they are
    read, before parsing and before authentication. ``registry_ttl_s``: how long the
    licence registry is cached. ``evidence_window_s``: evidence attaches to a case seen
    within this many seconds of it.
    """

    home: Path
    database_url: str
    timeseries: dict
    body_limit_bytes: int = DEFAULT_BODY_LIMIT_BYTES
    registry_ttl_s: float = 30.0
    evidence_window_s: float = 3600.0

    @property
    def evidence_dir(self) -> Path:
        return Path(self.home) / "evidence"
