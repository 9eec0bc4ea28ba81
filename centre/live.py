"""In-process publish/subscribe of live spectrum frames.

The ingest route publishes every spectrum it takes in; the live web view (a
WebSocket, later) subscribes here. Publishing never blocks: each subscriber has a
bounded queue and, when a slow subscriber's queue is full, its oldest frame is
dropped (a live view wants the newest spectrum, not all of them) and counted.

Subscriptions work from threads (``get(timeout)``) and from asyncio
(``async for frame in subscription``).

>>> hub = LiveHub()
>>> sub = hub.subscribe(station_id="LS-HN", maxsize=2)
>>> hub.publish(SpectrumFrame("LS-HN", "fm", 87.5e6, 25e3, (1.0, 2.0), "dBFS", 0))
1
>>> sub.get(timeout=0.1).band
'fm'
>>> sub.close(); hub.n_subscribers
0
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

__all__ = ["LiveHub", "SpectrumFrame", "Subscription"]


@dataclass(frozen=True, slots=True)
class SpectrumFrame:
    """One spectrum as the live view shows it (powers in ``power_unit`` per bin)."""

    station_id: str
    band: str
    f_start_hz: float
    f_step_hz: float
    power_db: tuple[float, ...]
    power_unit: str
    t_ns: int
    lat_deg: float | None = None
    lon_deg: float | None = None


class Subscription:
    """A bounded queue of frames for one subscriber (optionally one station only)."""

    def __init__(self, hub: LiveHub, station_id: str | None, maxsize: int) -> None:
        self._hub = hub
        self.station_id = station_id
        self._queue: queue.Queue[SpectrumFrame] = queue.Queue(maxsize=maxsize)
        self.dropped = 0
        self.closed = False

    def _offer(self, frame: SpectrumFrame) -> None:
        while True:
            try:
                self._queue.put_nowait(frame)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout: float | None = None) -> SpectrumFrame | None:
        """The next frame, or ``None`` after ``timeout`` seconds without one."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list[SpectrumFrame]:
        """Every frame waiting now."""
        frames = []
        while True:
            try:
                frames.append(self._queue.get_nowait())
            except queue.Empty:
                return frames

    async def __aiter__(self) -> AsyncIterator[SpectrumFrame]:
        while not self.closed:
            frame = await asyncio.to_thread(self.get, 0.5)
            if frame is not None:
                yield frame

    def close(self) -> None:
        self.closed = True
        self._hub._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LiveHub:
    """Fan live frames out to subscribers in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self.published = 0

    def subscribe(self, *, station_id: str | None = None, maxsize: int = 64) -> Subscription:
        sub = Subscription(self, station_id, maxsize)
        with self._lock:
            self._subs.append(sub)
        return sub

    def publish(self, frame: SpectrumFrame) -> int:
        """Offer ``frame`` to every matching subscriber; return how many got it."""
        with self._lock:
            subs = [s for s in self._subs if s.station_id in (None, frame.station_id)]
            self.published += 1
        for sub in subs:
            sub._offer(frame)
        return len(subs)

    @property
    def n_subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
