"""Central ingest: a validated batch in; time series, findings, cases and live frames out.

Exactly once in effect
----------------------
A batch id already in the ledger (``ingested_batches``) is answered ``duplicate``
and not processed again. A new batch is processed in this order: compliance
(findings folded into cases), evidence, time-series points, and last the ledger
row. If the centre dies anywhere before the ledger commit, the station resends the
batch and every step repeats without counting twice: the time-series points land
on the same (measurement, tags, time) and overwrite themselves (the time-series
contract), the case service does not store a finding of the same kind, station and
time again, and evidence already attached (same SHA-256) is not attached again.

Time series written (names from :mod:`storage.names`)
-----------------------------------------------------
- ``spectrum``: each spectrum reduced to at most :data:`SPECTRUM_STORE_BINS` bins by
  max-hold (bounded series cardinality: ``f_bin`` is the reduced bin index; the
  full-resolution spectrum goes to live subscribers and stays at the station).
- ``emission`` (tag ``class`` from compliance), ``channel_power``, ``occupancy``,
  ``noise_floor`` and ``station_health``.
- Uncalibrated values (dBFS) go to a ``power_dbfs`` field, never to ``power_dbm``.
  Emissions of one batch are written 1 ns apart so that two emissions of one sweep
  stay two points.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centre.models import IngestedBatch
from dsp.errors import InputFormatError, StorageError
from dsp.types import Emission, GeoPosition
from stations.batch import (
    Batch,
    ChannelPowerItem,
    EmissionItem,
    EvidenceItem,
    HealthItem,
    LocationItem,
    OccupancyItem,
    PositionTag,
    SpectrumItem,
)
from storage import names
from storage.timeseries import Point, TimeSeriesStore

__all__ = [
    "ComplianceHook",
    "ComplianceOutcome",
    "IngestResult",
    "IngestService",
    "SPECTRUM_STORE_BINS",
    "reduce_spectrum",
]

#: Most bins of one spectrum written to the time-series store.
SPECTRUM_STORE_BINS = 256


@dataclass(frozen=True, slots=True)
class ComplianceOutcome:
    """What compliance made of a batch's emissions: a class per emission, cases touched."""

    classes: tuple[str, ...]
    n_findings: int = 0
    case_ids: tuple[str, ...] = ()
    finding_kinds: tuple[str, ...] = ()


class ComplianceHook(Protocol):
    """The centre's compliance step (see :mod:`centre.compliance_hook`).

    Both calls must be idempotent in effect: a batch processed again after a crash
    (before its id reached the ledger) must not add findings or evidence twice.
    """

    def process(
        self,
        *,
        station_id: str,
        emissions: Sequence[Emission],
        sites: Sequence[GeoPosition | None],
    ) -> ComplianceOutcome: ...

    def attach_evidence(
        self,
        *,
        station_id: str,
        f_hz: float,
        t_ns: int,
        kind: str,
        path: Path,
        sha256: str,
        description: str,
    ) -> str | None: ...


@dataclass(frozen=True, slots=True)
class IngestResult:
    batch_id: str
    status: str  # "accepted" | "duplicate"
    n_points: int = 0
    n_findings: int = 0
    case_ids: tuple[str, ...] = ()
    classes: tuple[str, ...] = field(default=())


def reduce_spectrum(power_db: np.ndarray, max_bins: int) -> tuple[np.ndarray, int]:
    """Max-hold ``power_db`` down to at most ``max_bins`` bins; return (bins, factor).

    >>> reduce_spectrum(np.array([1, 5, 2, 3, 9], dtype=np.float32), 3)
    (array([5., 3., 9.], dtype=float32), 2)
    """
    n = power_db.size
    factor = max(1, -(-n // max_bins))
    if factor == 1:
        return power_db.astype(np.float32), 1
    pad = (-n) % factor
    padded = np.concatenate([power_db, np.full(pad, -np.inf, dtype=power_db.dtype)])
    return padded.reshape(-1, factor).max(axis=1).astype(np.float32), factor


def _power_field(unit: str) -> str:
    """Calibrated powers go to ``power_dbm``; dBFS never does."""
    return names.FIELD_POWER_DBM if unit == "dBm" else names.FIELD_POWER_DBFS


def _geo(tag: PositionTag | None) -> GeoPosition | None:
    return None if tag is None else GeoPosition(tag.lat_deg, tag.lon_deg, tag.alt_m)


class IngestService:
    """Take in batches at the centre.

    Parameters
    ----------
    timeseries:
        The time-series store (InfluxDB or embedded).
    sessions:
        Relational session factory (the DB is migrated to ``0003_stations`` or later).
    compliance:
        The compliance step.
    evidence_dir:
        Where evidence files (SigMF, location estimates) are kept.
    on_spectrum:
        Called with (station_id, spectrum item) after a batch is committed (live view).
    """

    def __init__(
        self,
        *,
        timeseries: TimeSeriesStore,
        sessions: sessionmaker[Session],
        compliance: ComplianceHook,
        evidence_dir: Path,
        on_spectrum: Callable[[str, SpectrumItem], None] | None = None,
    ) -> None:
        self._ts = timeseries
        self._sessions = sessions
        self._compliance = compliance
        self._evidence_dir = Path(evidence_dir)
        self._on_spectrum = on_spectrum
        # One batch at a time: the duplicate check and the compliance fold of cases
        # must not interleave (two batches about one emitter must land in one case).
        self._lock = threading.Lock()
        self.accepted = 0
        self.duplicates = 0

    def ingest(self, batch: Batch) -> IngestResult:
        """Process ``batch`` once; a batch id seen before returns ``duplicate``."""
        with self._lock:
            result = self._ingest_locked(batch)
        if result.status == "accepted" and self._on_spectrum is not None:
            for item in batch.items:
                if isinstance(item, SpectrumItem):
                    self._on_spectrum(batch.station_id, item)
        return result

    def _ingest_locked(self, batch: Batch) -> IngestResult:
        session = self._sessions()
        try:
            if session.get(IngestedBatch, batch.batch_id) is not None:
                self.duplicates += 1
                return IngestResult(batch.batch_id, "duplicate")
            emission_items = [i for i in batch.items if isinstance(i, EmissionItem)]
            session.close()  # the compliance step keeps its own transactions
            outcome = self._compliance.process(
                station_id=batch.station_id,
                emissions=[i.to_emission(batch.station_id) for i in emission_items],
                sites=[_geo(i.position) for i in emission_items],
            )
            if len(outcome.classes) != len(emission_items):
                raise StorageError("compliance returned a class count unlike the emissions")
            case_ids = list(outcome.case_ids)
            for item in batch.items:
                if isinstance(item, EvidenceItem):
                    cid = self._store_evidence(batch.station_id, item)
                elif isinstance(item, LocationItem):
                    cid = self._store_location(batch.station_id, item)
                else:
                    continue
                if cid is not None and cid not in case_ids:
                    case_ids.append(cid)
            points = self._points(batch, outcome.classes)
            self._ts.write(points)
            session.add(
                IngestedBatch(
                    batch_id=batch.batch_id,
                    station_id=batch.station_id,
                    seq=batch.seq,
                    created_t_ns=batch.created_t_ns,
                    received_at=datetime.now(UTC),
                    n_items=len(batch.items),
                    thinned=batch.thinned,
                )
            )
            session.commit()
        except IntegrityError:
            session.rollback()
            self.duplicates += 1
            return IngestResult(batch.batch_id, "duplicate")
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        self.accepted += 1
        return IngestResult(
            batch.batch_id,
            "accepted",
            n_points=len(points),
            n_findings=outcome.n_findings,
            case_ids=tuple(case_ids),
            classes=outcome.classes,
        )

    # -- time series -----------------------------------------------------------------

    def _points(self, batch: Batch, classes: Sequence[str]) -> list[Point]:
        sid = batch.station_id
        points: list[Point] = []
        emission_index = 0
        for item in batch.items:
            if isinstance(item, SpectrumItem):
                points.extend(self._spectrum_points(sid, item))
            elif isinstance(item, EmissionItem):
                cls = classes[emission_index]
                fields = {
                    names.FIELD_F_HZ: item.f_hz,
                    names.FIELD_BW_HZ: item.bw_99_hz,
                    _power_field(item.power_unit): item.power_db,
                    names.FIELD_SNR_DB: item.snr_db,
                }
                if item.e_dbuv_m is not None:
                    fields[names.FIELD_E_DBUV_M] = item.e_dbuv_m
                if item.position is not None:
                    fields[names.FIELD_LAT_DEG] = item.position.lat_deg
                    fields[names.FIELD_LON_DEG] = item.position.lon_deg
                tags = {names.TAG_STATION: sid, names.TAG_CLASS: cls}
                points.append(Point(names.EMISSION, tags, fields, item.t_first_ns + emission_index))
                emission_index += 1
            elif isinstance(item, ChannelPowerItem):
                fields = {_power_field(item.power_unit): item.power_db}
                if item.e_dbuv_m is not None:
                    fields[names.FIELD_E_DBUV_M] = item.e_dbuv_m
                if item.position is not None:
                    fields[names.FIELD_LAT_DEG] = item.position.lat_deg
                    fields[names.FIELD_LON_DEG] = item.position.lon_deg
                tags = {
                    names.TAG_STATION: sid,
                    names.TAG_PLAN: item.plan,
                    names.TAG_CHANNEL: item.channel,
                }
                points.append(Point(names.CHANNEL_POWER, tags, fields, item.t_ns))
            elif isinstance(item, OccupancyItem):
                tags = {
                    names.TAG_STATION: sid,
                    names.TAG_BAND: item.band,
                    names.TAG_CHANNEL: item.channel,
                }
                fields = {
                    names.FIELD_FRACTION: item.fraction,
                    (
                        names.FIELD_THRESHOLD_DBM
                        if item.power_unit == "dBm"
                        else names.FIELD_THRESHOLD_DBFS
                    ): item.threshold_db,
                }
                points.append(Point(names.OCCUPANCY, tags, fields, item.t_start_ns))
            elif isinstance(item, HealthItem):
                points.append(self._health_point(sid, item))
        return points

    def _spectrum_points(self, sid: str, item: SpectrumItem) -> list[Point]:
        power, factor = reduce_spectrum(item.power_db(), SPECTRUM_STORE_BINS)
        pfield = _power_field(item.power_unit)
        step = item.f_step_hz * factor
        # Reduced bin k covers input bins [k*factor, (k+1)*factor): its centre frequency.
        f0 = item.f_start_hz + (factor - 1) * item.f_step_hz / 2
        points = [
            Point(
                names.SPECTRUM,
                {names.TAG_STATION: sid, names.TAG_BAND: item.band, names.TAG_F_BIN: str(k)},
                {pfield: float(p), names.FIELD_F_HZ: f0 + k * step},
                item.t_start_ns,
            )
            for k, p in enumerate(power.tolist())
        ]
        if item.noise_floor_db is not None:
            psd = item.noise_floor_db - 10.0 * float(np.log10(item.rbw_hz))
            psd_field = (
                names.FIELD_PSD_DBM_HZ if item.power_unit == "dBm" else names.FIELD_PSD_DBFS_HZ
            )
            points.append(
                Point(
                    names.NOISE_FLOOR,
                    {names.TAG_STATION: sid, names.TAG_BAND: item.band},
                    {psd_field: psd},
                    item.t_start_ns,
                )
            )
        return points

    @staticmethod
    def _health_point(sid: str, item: HealthItem) -> Point:
        fields: dict[str, float | int | bool | str] = {
            names.FIELD_OVERLOADS: item.overloads,
            names.FIELD_DROPPED: item.dropped_samples,
            names.FIELD_OUTBOX_DEPTH: item.outbox_depth,
            "state": item.state,
            "failures": item.failures,
            "reopens": item.reopens,
            "gap_s": item.gap_s,
        }
        if item.cpu_percent is not None:
            fields[names.FIELD_CPU] = item.cpu_percent
        if item.temp_c is not None:
            fields[names.FIELD_TEMP_C] = item.temp_c
        if item.gps_fix is not None:
            fields[names.FIELD_GPS_FIX] = item.gps_fix
        if item.ppm_estimate is not None:
            fields[names.FIELD_PPM] = item.ppm_estimate
        tags = {names.TAG_STATION: sid, names.TAG_RECEIVER: item.receiver_id}
        return Point(names.STATION_HEALTH, tags, fields, item.t_ns)

    # -- evidence --------------------------------------------------------------------

    def _store_evidence(self, sid: str, item: EvidenceItem) -> str | None:
        data = item.data()
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise InputFormatError("evidence data does not match its sha256", field="sha256")
        folder = self._evidence_dir / sid
        folder.mkdir(parents=True, exist_ok=True)
        base = folder / item.sha256[:16]
        data_path = base.with_suffix(".sigmf-data")
        meta_path = base.with_suffix(".sigmf-meta")
        data_path.write_bytes(data)
        meta_path.write_text(item.meta_json, encoding="utf-8")
        return self._compliance.attach_evidence(
            station_id=sid,
            f_hz=item.f_hz,
            t_ns=item.t_start_ns,
            kind="sigmf",
            path=data_path,  # the checksum is of the samples; the meta file sits beside
            sha256=item.sha256,
            description=(
                f"Bản ghi IQ / IQ recording {item.f_center_hz / 1e6:.4f} MHz, "
                f"{item.sample_rate_hz / 1e3:.0f} kS/s ({sid})"
            ),
        )

    def _store_location(self, sid: str, item: LocationItem) -> str | None:
        body = item.model_dump_json(indent=2).encode("utf-8")
        sha = hashlib.sha256(body).hexdigest()
        folder = self._evidence_dir / sid
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"location-{sha[:16]}.json"
        path.write_bytes(body)
        return self._compliance.attach_evidence(
            station_id=sid,
            f_hz=item.f_hz,
            t_ns=item.t_ns,
            kind="field_measurement",
            path=path,
            sha256=sha,
            description=(
                f"Ước tính vị trí máy phát / emitter position estimate: "
                f"{item.lat_deg:.5f}, {item.lon_deg:.5f} ± {item.radius_m:.0f} m "
                f"({item.n_points} điểm đo / points, n={item.path_loss_exponent:.2f})"
            ),
        )


def batch_summary(batch: Batch) -> str:
    """One line for logs: id, station, item counts by kind."""
    counts: dict[str, int] = {}
    for item in batch.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return json.dumps({"batch": batch.batch_id, "station": batch.station_id, **counts})
