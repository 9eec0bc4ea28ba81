"""Receiver supervision: open on demand, reopen with back-off after a failure.

A task asks the supervisor for its receiver through :meth:`SupervisedReceiver.use`.
If the receiver raises a :class:`dsp.errors.ReceiverError` (unplugged dongle,
dropped rtl_tcp connection, simulator told to vanish), the supervisor closes it,
opens a gap in the receiver's health and retries the open after 1, 2, 4, ... s
(capped). Tasks due while the receiver is down are skipped; the gap (start and end
in UTC ns) and the failure count show in health.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from dsp.errors import ReceiverError
from firmware_bridge.receiver import Receiver
from stations.health import ReceiverHealth

__all__ = ["SupervisedReceiver"]

T = TypeVar("T")
NS = 1_000_000_000


class SupervisedReceiver:
    """One receiver under supervision.

    Parameters
    ----------
    receiver_id:
        The id used in health and results.
    opener:
        Returns a :class:`Receiver` (opened or not); called again to reopen.
    configure:
        Applies the configured sample rate, gain and ppm after each open.
    clock:
        UTC nanoseconds now (the agent's clock).
    """

    def __init__(
        self,
        receiver_id: str,
        opener: Callable[[], Receiver],
        *,
        clock: Callable[[], int],
        configure: Callable[[Receiver], None] | None = None,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
    ) -> None:
        self.receiver_id = receiver_id
        self._opener = opener
        self._configure = configure
        self._clock = clock
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.health = ReceiverHealth(receiver_id)
        self._rx: Receiver | None = None
        self._consecutive = 0
        self._next_open_ns = 0
        self._ever_opened = False

    @property
    def receiver(self) -> Receiver | None:
        """The open receiver, or ``None`` while it is down."""
        return self._rx

    def acquire(self) -> Receiver | None:
        """The open receiver; opens (or reopens, once back-off allows) when needed."""
        if self._rx is not None:
            return self._rx
        now = self._clock()
        if now < self._next_open_ns:
            return None
        try:
            rx = self._opener()
            if not rx.is_open:
                rx.open()
            if self._configure is not None:
                self._configure(rx)
        except ReceiverError as err:
            self._failed(f"open: {err}")
            return None
        self._rx = rx
        self._consecutive = 0
        if self._ever_opened:
            self.health.reopens += 1
        self._ever_opened = True
        self.health.state = "open"
        self.health.gap_close(self._clock())
        return rx

    def use(self, fn: Callable[[Receiver], T]) -> T | None:
        """Run ``fn(receiver)``; ``None`` when the receiver is down or fails during it."""
        rx = self.acquire()
        if rx is None:
            return None
        try:
            return fn(rx)
        except ReceiverError as err:
            self._failed(f"{type(err).__name__}: {err}")
            return None

    def close(self) -> None:
        if self._rx is not None:
            try:
                self._rx.close()
            except ReceiverError:
                pass
            self._rx = None
        self.health.state = "closed"

    def _failed(self, error: str) -> None:
        if self._rx is not None:
            try:
                self._rx.close()
            except ReceiverError:
                pass  # it is already gone; closing is best effort
            self._rx = None
        self._consecutive += 1
        now = self._clock()
        self.health.gap_open(now, error)
        self.health.state = "reopening"
        delay_s = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (self._consecutive - 1))
        self._next_open_ns = now + int(delay_s * NS)
