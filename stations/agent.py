"""The station agent: a site's schedule on its receivers, supervised, into a sink.

One scheduler per receiver (a *lane*) runs that receiver's tasks; a control
scheduler reports health, flushes the sink into batches and (in a field kit)
estimates emitter positions. :meth:`StationAgent.run_once` runs one pass of every
lane and of the control scheduler in this thread (tests and the demo step a clock);
:meth:`StationAgent.run` gives each lane its own thread so several receivers
measure at once, and uploads in another.

The agent never talks to storage or the network itself: results go to a
:class:`ResultSink` (normally :class:`OutboxSink`, the durable outbox), and an
optional :class:`~stations.uplink.Uplink` ships the outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from dsp.types import Emission
from firmware_bridge.receiver import Receiver
from stations.batch import (
    EmissionItem,
    HealthItem,
    Item,
    PositionTag,
)
from stations.config import (
    BearingTask,
    ChannelWatchTask,
    EvidenceTask,
    OccupancyTask,
    ReceiverConfig,
    SiteConfig,
    SweepTask,
)
from stations.drive_test import DriveTestLocator
from stations.field_check import FieldChecker, FieldVerdict
from stations.health import CpuMeter, read_temperature_c
from stations.outbox import Outbox
from stations.scheduler import Scheduler
from stations.supervisor import SupervisedReceiver
from stations.task_guard import TaskGuard
from stations.tasks import (
    BearingRunner,
    ChannelWatchRunner,
    EvidenceRecorder,
    OccupancyRunner,
    PpmTracker,
    SweepRunner,
    TaskContext,
)
from stations.uplink import Uplink

__all__ = [
    "DriveTestLocator",
    "MemorySink",
    "OutboxSink",
    "PositionSource",
    "ResultSink",
    "StationAgent",
]

NS = 1_000_000_000
log = logging.getLogger(__name__)


class ResultSink(Protocol):
    """Where the agent's results go."""

    def emit(self, item: Item) -> None: ...

    def flush(self, t_ns: int) -> None: ...


class MemorySink:
    """Keep every item in memory (one-shot runs and tests); ``flush`` does nothing."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    def emit(self, item: Item) -> None:
        self.items.append(item)

    def flush(self, t_ns: int) -> None:
        """Nothing to flush: items are kept as they come."""


class PositionSource(Protocol):
    """Where the station is now (a GPS for a field kit); ``None`` without a fix."""

    def position(self) -> PositionTag | None: ...


class OutboxSink:
    """Collect items and append them to the outbox as batches (thread-safe).

    A batch is appended when ``items_per_batch`` items are waiting or on
    :meth:`flush`; a crash loses at most the items not yet flushed.
    """

    def __init__(self, outbox: Outbox, *, items_per_batch: int = 200) -> None:
        self.outbox = outbox
        self.items_per_batch = items_per_batch
        self._items: list[Item] = []
        self._lock = threading.Lock()
        self.batches = 0

    def emit(self, item: Item) -> None:
        with self._lock:
            self._items.append(item)
            full = len(self._items) >= self.items_per_batch
        if full:
            self.flush(time.time_ns())

    def flush(self, t_ns: int) -> None:
        with self._lock:
            items, self._items = self._items, []
            if items:
                self.outbox.append(items, created_t_ns=t_ns)
                self.batches += 1


class StationAgent:
    """Run a site's schedule.

    Parameters
    ----------
    config:
        The validated site configuration.
    open_receiver:
        Builds the receiver of a :class:`ReceiverConfig` (called again to reopen).
    sink:
        Where results go.
    clock, sleep:
        UTC ns now, and a sleep in seconds (virtual in tests and the demo).
    position_source:
        GPS (field kit); default: the site's fixed position.
    outbox:
        For the outbox depth in health (and ``run``'s upload thread with ``uplink``).
    uplink:
        Ships the outbox (``run_once`` makes one upload pass; ``run`` a thread).
    evidence_dir:
        Where evidence recordings are written.
    field_checker:
        A field kit's offline check against its registry snapshot: every emission's
        class and finding kinds, for the live panel and the log (no case is opened;
        the centre's check on ingest is the one that does).
    """

    def __init__(
        self,
        config: SiteConfig,
        *,
        open_receiver: Callable[[ReceiverConfig], Receiver],
        sink: ResultSink,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], None] = time.sleep,
        position_source: PositionSource | None = None,
        outbox: Outbox | None = None,
        uplink: Uplink | None = None,
        evidence_dir: Path | None = None,
        read_cpu: Callable[[], float | None] | None = None,
        read_temp: Callable[[], float | None] = read_temperature_c,
        receiver_backoff_max_s: float = 60.0,
        field_checker: FieldChecker | None = None,
    ) -> None:
        self.config = config
        self.station_id = config.station.id
        self.sink = sink
        self._clock = clock
        self._sleep = sleep
        self._position_source = position_source
        self.outbox = outbox
        self.uplink = uplink
        self._read_cpu = read_cpu or CpuMeter().percent
        self._read_temp = read_temp
        self.locator = DriveTestLocator(config.locate) if config.locate else None
        self.field_checker = field_checker
        #: The latest verdicts of the field check, by :func:`emission_key`.
        self.field_verdicts: OrderedDict[tuple, FieldVerdict] = OrderedDict()
        self._verdicts_lock = threading.Lock()
        self.supervisors: dict[str, SupervisedReceiver] = {}
        #: Every task's guard (failures caught, logged, counted, backed off).
        self.guards: list[TaskGuard] = []
        self.lanes: dict[str, Scheduler] = {}
        #: Per receiver with reference carriers: its frequency error, shared by its tasks.
        self.ppm_trackers: dict[str, PpmTracker] = {
            r.id: PpmTracker(refs, r.ppm_tracking)
            for r in config.receivers
            if (refs := config.reference_carriers_for(r))
        }
        for rx_cfg in config.receivers:
            self.supervisors[rx_cfg.id] = SupervisedReceiver(
                rx_cfg.id,
                (lambda c=rx_cfg: open_receiver(c)),
                clock=clock,
                configure=(lambda rx, c=rx_cfg: _configure(rx, c)),
                backoff_max_s=receiver_backoff_max_s,
            )
            self.lanes[rx_cfg.id] = Scheduler(clock=clock, sleep=sleep)
        evidence = {
            config.receiver_for(t.receiver).id: EvidenceRecorder(
                t, folder=evidence_dir, clock=clock
            )
            for t in config.tasks
            if isinstance(t, EvidenceTask)
        }
        self.evidence = evidence
        for task in config.tasks:
            if isinstance(task, EvidenceTask):
                continue
            rx_cfg = config.receiver_for(task.receiver)
            runner = self._runner(task, evidence.get(rx_cfg.id))
            self.lanes[rx_cfg.id].add(
                task.name, task.every_s, self._task_action(rx_cfg, runner, task.name)
            )
        self.control = Scheduler(clock=clock, sleep=sleep)
        self.control.add("health", config.health_every_s, self._guarded("health",
                                                                        self.report_health))
        if config.locate is not None:
            self.control.add("locate", config.locate.every_s, self._guarded("locate",
                                                                            self.locate))

    # -- wiring ----------------------------------------------------------------------

    @staticmethod
    def _runner(task, recorder: EvidenceRecorder | None):  # noqa: ANN001, ANN205
        if isinstance(task, SweepTask):
            return SweepRunner(task, on_emissions=recorder)
        if isinstance(task, ChannelWatchTask):
            return ChannelWatchRunner(task)
        if isinstance(task, OccupancyTask):
            return OccupancyRunner(task)
        if isinstance(task, BearingTask):
            return BearingRunner(task)
        raise TypeError(f"unknown task {task!r}")

    def _task_action(self, rx_cfg: ReceiverConfig, runner, name: str) -> TaskGuard:  # noqa: ANN001
        sup = self.supervisors[rx_cfg.id]
        ctx = TaskContext(
            station_id=self.station_id,
            receiver=rx_cfg,
            health=sup.health,
            emit=self._emit,
            position=self.position,
            clock=self._clock,
            ppm=self.ppm_trackers.get(rx_cfg.id),
        )
        guard = TaskGuard(
            name,
            lambda: sup.use(lambda rx: runner(rx, ctx)),
            health=sup.health,
            clock=self._clock,
            station_id=self.station_id,
        )
        self.guards.append(guard)
        return guard

    def _guarded(self, name: str, action: Callable[[], object]) -> TaskGuard:
        """A control task under a guard (its failures are logged, not counted per receiver)."""
        guard = TaskGuard(name, action, health=None, clock=self._clock,
                          station_id=self.station_id)
        self.guards.append(guard)
        return guard

    def _emit(self, item: Item) -> None:
        if self.locator is not None:
            self.locator.observe(item)
        if self.field_checker is not None and isinstance(item, EmissionItem):
            self._field_check(item)
        self.sink.emit(item)

    def _field_check(self, item: EmissionItem) -> None:
        """Classify and check one emission on the spot (a failure is logged; the
        measurement still goes out, and the centre checks it again)."""
        assert self.field_checker is not None
        try:
            verdict = self.field_checker.check(item, self.station_id)
        except Exception:  # noqa: BLE001 - the measurement matters more than the check
            log.exception("field check of %.0f Hz failed", item.f_hz)
            return
        with self._verdicts_lock:
            self.field_verdicts[emission_key(item)] = verdict
            while len(self.field_verdicts) > _MAX_VERDICTS:
                self.field_verdicts.popitem(last=False)
        log.log(logging.INFO if verdict.finding_kinds else logging.DEBUG,
                "field check %s: %.4f MHz %s%s", self.station_id, item.f_hz / 1e6,
                verdict.emitter_class,
                (": " + ", ".join(verdict.finding_kinds)) if verdict.finding_kinds else "")

    def field_verdict(self, item: EmissionItem) -> FieldVerdict | None:
        """The field check's verdict on ``item`` (None when not checked)."""
        with self._verdicts_lock:
            return self.field_verdicts.get(emission_key(item))

    def position(self) -> PositionTag | None:
        """Where measurements are taken now (GPS for a field kit, else the site)."""
        if self._position_source is not None:
            return self._position_source.position()
        p = self.config.station.position
        if p is None:
            return None
        return PositionTag(lat_deg=p.lat_deg, lon_deg=p.lon_deg, alt_m=p.alt_m, source="site")

    # -- control tasks ---------------------------------------------------------------

    def report_health(self) -> None:
        """One health item per receiver (CPU, temperature, GPS, outbox depth included)."""
        now = self._clock()
        cpu = self._read_cpu()
        temp = self._read_temp()
        gps_fix = None
        if self._position_source is not None:
            gps_fix = self._position_source.position() is not None
        depth = self.outbox.depth() if self.outbox is not None else 0
        pos = self.position()
        for sup in self.supervisors.values():
            h = sup.health
            tracker = self.ppm_trackers.get(sup.receiver_id)
            ppm = None if tracker is None or tracker.ppm is None else round(tracker.ppm, 3)
            self.sink.emit(
                HealthItem(
                    receiver_id=sup.receiver_id,
                    state=h.state,  # type: ignore[arg-type]
                    overloads=h.overloads,
                    dropped_samples=h.dropped_samples,
                    failures=h.failures,
                    reopens=h.reopens,
                    gap_s=h.gap_s(now),
                    last_error=h.last_error,
                    cpu_percent=cpu,
                    temp_c=temp,
                    gps_fix=gps_fix,
                    outbox_depth=depth,
                    ppm_estimate=ppm,
                    t_ns=now,
                    position=pos,
                )
            )

    def locate(self, *, final: bool = False) -> None:
        """Emit emitter position estimates (field kit); ``final`` at the end of a drive."""
        if self.locator is None:
            return
        for item in self.locator.estimates(self._clock(), final=final):
            self.sink.emit(item)

    # -- running ---------------------------------------------------------------------

    def next_due_ns(self) -> int | None:
        dues = [s.next_due_ns() for s in (*self.lanes.values(), self.control)]
        dues = [d for d in dues if d is not None]
        return min(dues) if dues else None

    def run_once(self) -> list[str]:
        """One pass: every due task on every receiver, control tasks, a flush, an upload."""
        ran: list[str] = []
        for lane in self.lanes.values():
            ran += lane.run_once()
        ran += self.control.run_once()
        self.sink.flush(self._clock())
        if self.uplink is not None:
            self.uplink.run_once()
        return ran

    def run(self, *, until_ns: int | None = None, stop: threading.Event | None = None) -> None:
        """Run until ``until_ns`` or ``stop``: a thread per receiver, one for uploads."""
        stop = stop or threading.Event()
        threads = [
            threading.Thread(
                target=lane.run,
                kwargs={"until_ns": until_ns, "stop": stop},
                name=f"lane:{rx_id}",
                daemon=True,
            )
            for rx_id, lane in self.lanes.items()
        ]
        if self.uplink is not None:
            threads.append(
                threading.Thread(target=self._upload_loop, args=(stop,), name="uplink",
                                 daemon=True)
            )
        self.control.add("flush", 1.0, self._guarded("flush",
                                                     lambda: self.sink.flush(self._clock())))
        for t in threads:
            t.start()
        try:
            self.control.run(until_ns=until_ns, stop=stop)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
            self.sink.flush(self._clock())
            self.close()

    def _upload_loop(self, stop: threading.Event) -> None:
        assert self.uplink is not None
        while not stop.is_set():
            try:
                self.uplink.run_once()
            except Exception:  # noqa: BLE001 - the upload thread must not die
                log.exception("upload pass of %s failed", self.station_id)
                stop.wait(5.0)
                continue
            stop.wait(max(0.2, min(5.0, self.uplink.next_attempt_s - time.monotonic())))

    def close(self) -> None:
        for sup in self.supervisors.values():
            sup.close()

    def receivers_down(self) -> Sequence[str]:
        return [k for k, s in self.supervisors.items() if s.receiver is None]


_MAX_VERDICTS = 512


def emission_key(item: EmissionItem) -> tuple:
    """What tells one emission item from another (for its field verdict)."""
    return (item.receiver_id, item.band, item.t_first_ns, item.f_hz)


def _configure(rx: Receiver, cfg: ReceiverConfig) -> None:
    rx.set_sample_rate(cfg.sample_rate_hz)
    rx.set_gain(cfg.gain_db)
    if cfg.ppm:
        rx.set_ppm(cfg.ppm)


def emissions_of(items: Sequence[Item]) -> list[Emission]:
    """The emissions among ``items`` (for callers that want dsp types back)."""
    return [i.to_emission("") for i in items if isinstance(i, EmissionItem)]
