"""A station task that fails is caught, logged, counted in health and retried later.

A receiver fault (:class:`dsp.errors.ReceiverError`) is the supervisor's business
(close, reopen with back-off). Anything else a task raises — a ``ValueError`` from a
setting the DSP cannot honour, a bug — used to end the receiver's lane thread while
health kept saying ``open, failures=0``. :class:`TaskGuard` runs one task per call:
an exception is logged with its traceback, counted in the receiver's health
(``failures``, ``last_error``) and the task is skipped for a back-off that doubles
with each consecutive failure (capped); the next success resets it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from stations.health import ReceiverHealth

__all__ = ["TaskGuard"]

log = logging.getLogger(__name__)
NS = 1_000_000_000


class TaskGuard:
    """Run ``action`` as task ``name``, never letting an exception out.

    Parameters
    ----------
    name:
        The task's name (logs and ``last_error``).
    action:
        One run of the task.
    health:
        Where failures are counted (the receiver's health; ``None`` for control tasks,
        which only log).
    clock:
        UTC ns now (the agent's clock, virtual in tests and the demo).
    """

    def __init__(
        self,
        name: str,
        action: Callable[[], object],
        *,
        health: ReceiverHealth | None,
        clock: Callable[[], int],
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 300.0,
        station_id: str = "",
    ) -> None:
        self.name = name
        self._action = action
        self._health = health
        self._clock = clock
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.station_id = station_id
        self.consecutive_failures = 0
        self.total_failures = 0
        self.skipped = 0
        self.next_run_ns = 0
        self.last_error: str | None = None

    def __call__(self) -> None:
        if self._clock() < self.next_run_ns:
            self.skipped += 1
            return
        try:
            self._action()
        except Exception as err:  # noqa: BLE001 - this is the one place that must catch all
            self._failed(err)
            return
        if self.consecutive_failures:
            log.info("task %s of %s runs again after %d failures", self.name,
                     self.station_id, self.consecutive_failures)
        self.consecutive_failures = 0

    def _failed(self, err: Exception) -> None:
        self.consecutive_failures += 1
        self.total_failures += 1
        delay_s = min(self.backoff_max_s,
                      self.backoff_initial_s * 2 ** (self.consecutive_failures - 1))
        self.next_run_ns = self._clock() + int(delay_s * NS)
        self.last_error = " ".join(f"task {self.name}: {type(err).__name__}: {err}".split())[:500]
        log.error("task %s of %s failed (%d in a row; retry in %.0f s): %s", self.name,
                  self.station_id, self.consecutive_failures, delay_s, self.last_error,
                  exc_info=err)
        if self._health is not None:
            self._health.failures += 1
            self._health.last_error = self.last_error
