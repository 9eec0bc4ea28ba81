"""What a station shows while it runs: a snapshot of its receivers, GPS, last sweep,
emissions found, outbox and uplink, for the live view of ``rfwatch station run``.

:class:`StatusSink` sits in front of the real sink and remembers what went through it
(the last spectrum per band, the latest emissions); :func:`snapshot` reads the
agent's supervisors, position source, outbox and uplink. Nothing here draws: the
CLI renders the snapshot (rich), tests read it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from stations.batch import EmissionItem, Item, SpectrumItem

__all__ = ["ReceiverStatus", "StationSnapshot", "StatusSink", "snapshot"]

NS = 1_000_000_000


class StatusSink:
    """Pass items on to ``sink``, remembering the latest of each kind worth showing."""

    def __init__(self, sink, *, keep_emissions: int = 12) -> None:  # noqa: ANN001
        self.sink = sink
        self._lock = threading.Lock()
        self.last_spectrum: dict[str, SpectrumItem] = {}
        self.emissions: deque[EmissionItem] = deque(maxlen=keep_emissions)
        self.n_items = 0

    def emit(self, item: Item) -> None:
        with self._lock:
            self.n_items += 1
            if isinstance(item, SpectrumItem):
                self.last_spectrum[item.band] = item
            elif isinstance(item, EmissionItem):
                self.emissions.append(item)
        self.sink.emit(item)

    def flush(self, t_ns: int) -> None:
        self.sink.flush(t_ns)


@dataclass(frozen=True, slots=True)
class ReceiverStatus:
    receiver_id: str
    state: str
    gain: str
    failures: int
    last_error: str | None
    ppm: float | None


@dataclass(frozen=True, slots=True)
class StationSnapshot:
    station_id: str
    t_ns: int
    gps: str
    receivers: tuple[ReceiverStatus, ...]
    #: (band, f_start_hz, f_stop_hz, n_bins, age_s) of the latest spectrum per band.
    sweeps: tuple[tuple[str, float, float, int, float], ...]
    #: (band, f_hz, bw_99_hz, power_db, unit, snr_db, class, finding kinds) of the latest
    #: emissions; class ``None`` and no kinds where the kit makes no field check.
    emissions: tuple[tuple[str, float, float, float, str, float, str | None,
                           tuple[str, ...]], ...]
    outbox_depth: int
    rejected_items: int
    uploaded: int
    upload_error: str | None
    notes: tuple[str, ...] = field(default=())
    #: The registry snapshot the field check uses ("" without one).
    registry: str = ""


def snapshot(agent, status: StatusSink, *, now_ns: int | None = None) -> StationSnapshot:  # noqa: ANN001
    """The station as it is now (``agent``: a :class:`stations.agent.StationAgent`)."""
    now = time.time_ns() if now_ns is None else now_ns
    pos = agent.position()
    if agent._position_source is None:
        gps = "vị trí trạm / site position" + (
            f" {pos.lat_deg:.5f}, {pos.lon_deg:.5f}" if pos else " (none)")
    elif pos is None:
        gps = "GPS: chưa có vị trí / no fix"
    else:
        gps = f"GPS fix {pos.lat_deg:.5f}, {pos.lon_deg:.5f}" + (
            f" HDOP {pos.hdop:.1f}" if pos.hdop is not None else "")
    receivers = []
    for rx_cfg in agent.config.receivers:
        sup = agent.supervisors[rx_cfg.id]
        h = sup.health
        gain = "AGC" if rx_cfg.gain_db in (None, "agc") else f"{rx_cfg.gain_db} dB"
        tracker = agent.ppm_trackers.get(rx_cfg.id)
        receivers.append(ReceiverStatus(rx_cfg.id, h.state, gain, h.failures, h.last_error,
                                        None if tracker is None else tracker.ppm))
    with status._lock:
        sweeps = tuple(
            (band, s.f_start_hz, s.f_start_hz + s.f_step_hz * s.n_bins, s.n_bins,
             max(0.0, (now - s.t_end_ns) / NS))
            for band, s in sorted(status.last_spectrum.items())
        )
        latest = list(reversed(status.emissions))
    checks = [agent.field_verdict(e) for e in latest]
    emissions = tuple(
        (e.band, e.f_hz, e.bw_99_hz, e.power_db, e.power_unit, e.snr_db,
         None if v is None else v.emitter_class, () if v is None else v.finding_kinds)
        for e, v in zip(latest, checks, strict=True))
    depth = rejected = 0
    if agent.outbox is not None:
        stats = agent.outbox.stats()
        depth, rejected = stats.pending, stats.rejected_items
    up = agent.uplink
    return StationSnapshot(
        station_id=agent.station_id,
        t_ns=now,
        gps=gps,
        receivers=tuple(receivers),
        sweeps=sweeps,
        emissions=emissions,
        outbox_depth=depth,
        rejected_items=rejected,
        uploaded=0 if up is None else up.total_sent,
        upload_error=None if up is None else up.last_error,
        registry=getattr(agent.field_checker, "description", ""),
    )
