"""A small periodic scheduler that takes its clock and its sleep.

Each entry runs every ``every_s`` seconds, first at ``start_ns`` (default: the
first pass). ``run_once()`` runs every entry that is due at ``clock()`` in order of
due time (then of insertion), so a test that steps a fake clock sees an exact,
repeatable order. An entry that overran keeps its cadence: missed runs are not
made up, the next run is the first multiple of ``every_s`` after now.

>>> t = [0]
>>> s = Scheduler(clock=lambda: t[0], sleep=lambda dt: None)
>>> ran = []
>>> _ = s.add("a", 10, lambda: ran.append(("a", t[0])))
>>> _ = s.add("b", 25, lambda: ran.append(("b", t[0])))
>>> for now in (0, 10_000_000_000, 25_000_000_000):
...     t[0] = now
...     _ = s.run_once()
>>> ran
[('a', 0), ('b', 0), ('a', 10000000000), ('a', 25000000000), ('b', 25000000000)]

(At 25 s the run of ``a`` due at 20 s is late: it is made once, and the next is
at 30 s.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Scheduler", "ScheduleEntry"]

NS = 1_000_000_000


@dataclass(slots=True)
class ScheduleEntry:
    name: str
    every_ns: int
    action: Callable[[], object]
    next_ns: int | None
    order: int
    runs: int = 0
    errors: list[str] = field(default_factory=list)


class Scheduler:
    """Run named actions periodically.

    Parameters
    ----------
    clock:
        UTC nanoseconds now (``time.time_ns`` in production, a virtual clock in tests
        and in the demo).
    sleep:
        Sleeps for a number of seconds (``time.sleep``, or one that advances the
        virtual clock).
    """

    def __init__(self, *, clock: Callable[[], int], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._entries: list[ScheduleEntry] = []

    @property
    def entries(self) -> tuple[ScheduleEntry, ...]:
        return tuple(self._entries)

    def add(
        self,
        name: str,
        every_s: float,
        action: Callable[[], object],
        *,
        start_ns: int | None = None,
    ) -> ScheduleEntry:
        """Run ``action`` every ``every_s`` seconds (first at ``start_ns`` or the next pass)."""
        if every_s <= 0:
            raise ValueError(f"every_s must be positive, got {every_s}")
        entry = ScheduleEntry(name, int(round(every_s * NS)), action, start_ns, len(self._entries))
        self._entries.append(entry)
        return entry

    def next_due_ns(self) -> int | None:
        """When the next entry is due (``None`` when there are none)."""
        if not self._entries:
            return None
        now = self._clock()
        return min(now if e.next_ns is None else e.next_ns for e in self._entries)

    def run_once(self) -> list[str]:
        """Run every entry due now, in due order; return their names.

        An action's exceptions propagate (after the entry is rescheduled) so the
        caller decides; the agent catches receiver errors per task.
        """
        now = self._clock()
        due = []
        for e in self._entries:
            if e.next_ns is None:
                e.next_ns = now
            if e.next_ns <= now:
                due.append(e)
        due.sort(key=lambda e: (e.next_ns, e.order))
        ran = []
        for e in due:
            assert e.next_ns is not None
            missed = (now - e.next_ns) // e.every_ns
            e.next_ns += (missed + 1) * e.every_ns
            e.runs += 1
            ran.append(e.name)
            e.action()
        return ran

    def run(
        self,
        *,
        until_ns: int | None = None,
        stop: threading.Event | None = None,
        max_sleep_s: float = 1.0,
    ) -> None:
        """Run passes until ``until_ns`` (clock time) or until ``stop`` is set.

        Sleeps in steps of at most ``max_sleep_s`` so ``stop`` is noticed soon.
        """
        while True:
            if stop is not None and stop.is_set():
                return
            if until_ns is not None and self._clock() >= until_ns:
                return
            self.run_once()
            nxt = self.next_due_ns()
            now = self._clock()
            if nxt is None:
                nxt = now + int(max_sleep_s * NS)
            if until_ns is not None:
                nxt = min(nxt, until_ns)
            wait_s = max(0.0, (nxt - now) / NS)
            if wait_s > 0:
                self._sleep(min(wait_s, max_sleep_s))
