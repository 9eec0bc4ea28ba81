"""Station health: per-receiver counters and what the host can tell about itself.

Receiver counters (overloads, dropped samples, failures, reopens, the time lost to
failures) are kept by :class:`ReceiverHealth`, fed by the supervisor and by every
block a task reads. Host figures are read where Linux exposes them (CPU from
``/proc/stat``, temperature from ``/sys/class/thermal``) and are ``None`` elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsp.types import IQBlock

__all__ = ["CpuMeter", "ReceiverHealth", "read_temperature_c"]

NS = 1_000_000_000


@dataclass(slots=True)
class ReceiverHealth:
    """Counters of one receiver since the agent started.

    ``gaps`` holds (start, end) UTC ns of each time the receiver was down (the last
    100); ``end`` is ``None`` while it still is.
    """

    receiver_id: str
    state: str = "closed"
    overloads: int = 0
    dropped_samples: int = 0
    blocks: int = 0
    failures: int = 0
    reopens: int = 0
    last_error: str | None = None
    #: Items a task built that the wire contract refused (NaN/Inf, out of range):
    #: dropped one by one, the rest of the run goes on.
    items_refused: int = 0
    gaps: list[tuple[int, int | None]] = field(default_factory=list)

    def observe(self, block: IQBlock) -> None:
        """Count one block's flags."""
        self.blocks += 1
        if block.overload:
            self.overloads += 1
        self.dropped_samples += int(block.dropped_samples)

    def gap_s(self, now_ns: int) -> float:
        """Seconds lost to failures so far (an open gap counts up to ``now_ns``)."""
        total = 0
        for start, end in self.gaps:
            total += (now_ns if end is None else end) - start
        return max(0, total) / NS

    def gap_open(self, t_ns: int, error: str) -> None:
        self.failures += 1
        self.last_error = error[:500]
        if not self.gaps or self.gaps[-1][1] is not None:
            self.gaps.append((t_ns, None))
            del self.gaps[:-100]

    def gap_close(self, t_ns: int) -> None:
        if self.gaps and self.gaps[-1][1] is None:
            self.gaps[-1] = (self.gaps[-1][0], t_ns)


class CpuMeter:
    """Whole-host CPU use (%) between two calls, from ``/proc/stat`` (None elsewhere)."""

    def __init__(self, path: Path = Path("/proc/stat")) -> None:
        self._path = path
        self._last: tuple[int, int] | None = self._read()

    def _read(self) -> tuple[int, int] | None:
        try:
            first = self._path.read_text().split("\n", 1)[0].split()
        except OSError:
            return None
        if not first or first[0] != "cpu":
            return None
        values = [int(v) for v in first[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values), idle

    def percent(self) -> float | None:
        now = self._read()
        last, self._last = self._last, now
        if now is None or last is None or now[0] <= last[0]:
            return None
        total, idle = now[0] - last[0], now[1] - last[1]
        return round(100.0 * (1.0 - idle / total), 1)


def read_temperature_c(root: Path = Path("/sys/class/thermal")) -> float | None:
    """The hottest thermal zone in °C, or ``None`` where none is readable."""
    temps = []
    for zone in sorted(root.glob("thermal_zone*/temp")):
        try:
            temps.append(int(zone.read_text().strip()) / 1000.0)
        except (OSError, ValueError):
            continue
    return max(temps) if temps else None
