"""Central ingest: a batch in; time series, findings, cases and live frames out.

Bad data never blocks good data
-------------------------------
:func:`parse_batch` checks the envelope (batch id, station, sequence) as a whole and
every item on its own: good items are taken, bad ones are returned to the station
with their index, kind and reason (short; input is never echoed) and kept in the
ledger row. Only an envelope that cannot be read refuses the whole batch.

Exactly once in effect, across processes
----------------------------------------
The ledger (``ingested_batches``) is keyed by (station id, batch id). A batch is
processed in this order:

1. classification (reads the registry only);
2. evidence files (named by SHA-256: writing again changes nothing) and time-series
   points (the same measurement, tags and time overwrite themselves);
3. one database transaction: findings folded into cases, evidence attached, and the
   ledger row, committed together. A batch whose time series could not be stored
   leaves no case behind; a centre that dies before the commit leaves nothing in the
   database, and the station's resend repeats steps 1-3 without counting twice.

Case folding reads candidate cases and then writes; two processes folding the same
emitter at once would both open a case. On PostgreSQL the transaction therefore
takes a transaction-scoped advisory lock first (``pg_advisory_xact_lock``), shared
by every centre process on that database; a second delivery of the same batch
waits for it and then finds the ledger row. The embedded stores (SQLite) are for
one process: an in-process lock does the same there.

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
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.orm import Session, sessionmaker

from centre.compliance_hook import Classified, ComplianceOutcome
from centre.models import IngestedBatch
from dsp.errors import InputFormatError, StorageError
from dsp.types import Emission, GeoPosition
from stations.batch import (
    BATCH_ID_PATTERN,
    STATION_ID_PATTERN,
    Batch,
    BearingItem,
    ChannelPowerItem,
    EmissionItem,
    EvidenceItem,
    HealthItem,
    Item,
    LocationItem,
    NonNegInt,
    OccupancyItem,
    PositionTag,
    SpectrumItem,
)
from storage import names
from storage.timeseries import Point, TimeSeriesStore
from storage.validation import check_name, check_t_ns, check_tag_value, normalize_field

__all__ = [
    "ComplianceHook",
    "ComplianceOutcome",
    "IngestResult",
    "IngestService",
    "ParsedBatch",
    "RejectedItem",
    "SPECTRUM_STORE_BINS",
    "parse_batch",
    "reduce_spectrum",
]

log = logging.getLogger(__name__)

#: Most bins of one spectrum written to the time-series store.
SPECTRUM_STORE_BINS = 256
#: Most characters of one rejection reason (input is never echoed in full).
MAX_REASON_CHARS = 300
#: Most items of one batch (as the wire contract says).
MAX_ITEMS = 100_000
#: The advisory lock every centre process takes to fold cases (PostgreSQL).
FOLD_LOCK_KEY = 0x7266_7761_7463_6801  # "rfwatch" + 1


class ComplianceHook(Protocol):
    """The centre's compliance step (see :mod:`centre.compliance_hook`).

    ``classify`` only reads. ``record`` and ``attach_evidence`` write in the session
    they are given and must be idempotent in effect: a batch processed again after a
    crash (its ledger row was never committed) must not add findings or evidence twice.
    """

    def classify(
        self, emissions: Sequence[Emission], sites: Sequence[GeoPosition | None]
    ) -> Classified: ...

    def record(
        self, session: Session, *, station_id: str, classified: Classified
    ) -> ComplianceOutcome: ...

    def attach_evidence(
        self,
        session: Session,
        *,
        station_id: str,
        f_hz: float,
        t_ns: int,
        kind: str,
        path: Path,
        sha256: str,
        size_bytes: int,
        description: str,
        now_ns: int,
    ) -> str | None: ...


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """An item the centre refused: its index in the batch, its kind, and why."""

    index: int
    kind: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """A batch of the items that passed, and the ones that did not."""

    batch: Batch
    rejected: tuple[RejectedItem, ...] = ()


@dataclass(frozen=True, slots=True)
class IngestResult:
    batch_id: str
    status: str  # "accepted" | "duplicate"
    n_points: int = 0
    n_findings: int = 0
    case_ids: tuple[str, ...] = ()
    classes: tuple[str, ...] = field(default=())
    rejected: tuple[RejectedItem, ...] = ()


# -- parsing -------------------------------------------------------------------------


class _Envelope(BaseModel):
    """The batch without its items (checked as a whole)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    batch_id: str = Field(pattern=BATCH_ID_PATTERN)
    station_id: str = Field(pattern=STATION_ID_PATTERN)
    station_kind: str = Field(default="fixed", pattern=r"^(fixed|field_kit)$")
    seq: NonNegInt
    created_t_ns: NonNegInt
    thinned: NonNegInt = 0
    items: list[Any] = Field(default_factory=list, max_length=MAX_ITEMS)


_ITEM = TypeAdapter(Item)


def validation_reason(err: ValidationError, *, limit: int = MAX_REASON_CHARS) -> str:
    """Where and why, without the input (which may be large, or NaN, or hostile)."""
    parts = []
    for e in err.errors(include_url=False, include_input=False, include_context=False):
        loc = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg', '')}" if loc else str(e.get("msg", "")))
    reason = "; ".join(parts) or "invalid"
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def _kind_of(raw: object) -> str | None:
    kind = raw.get("kind") if isinstance(raw, dict) else None
    return kind if isinstance(kind, str) and len(kind) <= 32 else None


def parse_batch(body: bytes | str) -> ParsedBatch:
    """Read a batch from JSON: the envelope must be valid, each item may fail alone.

    Raises
    ------
    InputFormatError
        When the body is not JSON or the envelope (ids, sequence, item list) is not
        valid; the message names the field and never repeats the input.
    """
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError) as err:
        where = f" (line {err.lineno}, column {err.colno})" if hasattr(err, "lineno") else ""
        raise InputFormatError(f"thân yêu cầu không phải JSON / body is not JSON{where}") from err
    if not isinstance(raw, dict):
        raise InputFormatError("lô phải là một đối tượng JSON / a batch is a JSON object")
    try:
        envelope = _Envelope.model_validate(raw)
    except ValidationError as err:
        raise InputFormatError(
            f"lô không hợp lệ / invalid batch: {validation_reason(err)}"
        ) from err
    good: list[Any] = []
    rejected: list[RejectedItem] = []
    for index, item in enumerate(envelope.items):
        try:
            good.append(_ITEM.validate_python(item))
        except ValidationError as err:
            rejected.append(RejectedItem(index, _kind_of(item), validation_reason(err)))
        except (ValueError, TypeError, RecursionError) as err:  # a validator's own failure
            rejected.append(RejectedItem(index, _kind_of(item), str(err)[:MAX_REASON_CHARS]))
    data = envelope.model_dump(exclude={"items"})
    batch = Batch.model_construct(**data, items=good)  # every part validated above
    return ParsedBatch(batch, tuple(rejected))


# -- helpers -------------------------------------------------------------------------


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


def _check_point(p: Point) -> None:
    """What the stores would refuse, refused here first (so a store error means the
    store, never the data)."""
    check_name("measurement", p.measurement)
    for k, v in p.tags.items():
        check_name("tag key", k, measurement=p.measurement)
        check_tag_value(p.measurement, k, v)
    for k, v in p.fields.items():
        check_name("field key", k, measurement=p.measurement)
        normalize_field(p.measurement, k, v)
    check_t_ns(p.measurement, p.t_ns)


def _store_error(what: str, err: Exception) -> StorageError:
    """A store failure for the station (no SQL, no URL); the detail goes to the log."""
    log.error("%s: %s", what, err, exc_info=err)
    return StorageError(f"{what} / store unavailable, try again later")


class IngestService:
    """Take in batches at the centre.

    Parameters
    ----------
    timeseries:
        The time-series store (InfluxDB or embedded).
    sessions:
        Relational session factory (the DB is migrated to ``0006_centre`` or later).
    compliance:
        The compliance step.
    evidence_dir:
        Where evidence files (SigMF, location estimates, bearings) are kept; every path written
        is checked to lie inside it.
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
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self._ts = timeseries
        self._sessions = sessions
        self._compliance = compliance
        self._evidence_dir = Path(evidence_dir).resolve()
        self._on_spectrum = on_spectrum
        self._clock_ns = clock_ns
        # SQLite (one process): folds in this process take turns. PostgreSQL: the
        # advisory lock (every process) does it, and this lock is not taken.
        self._local_fold_lock = threading.Lock()
        self.accepted = 0
        self.duplicates = 0

    # -- the entry points --------------------------------------------------------------

    def ingest_body(self, body: bytes | str, *, station_id: str | None = None) -> IngestResult:
        """Parse ``body`` (see :func:`parse_batch`) and ingest what is good in it."""
        parsed = parse_batch(body)
        if station_id is not None and parsed.batch.station_id != station_id:
            raise PermissionError(parsed.batch.station_id)
        return self.ingest(parsed.batch, rejected=parsed.rejected)

    def ingest(self, batch: Batch, *, rejected: Sequence[RejectedItem] = ()) -> IngestResult:
        """Process ``batch`` once; a batch seen before returns ``duplicate``.

        Raises
        ------
        StorageError
            When a store is down (nothing is in the database then; resend later).
        """
        rejected = list(rejected)
        previous = self._ledger_row(batch)
        if previous is not None:
            self.duplicates += 1
            return IngestResult(batch.batch_id, "duplicate", rejected=previous)
        # Per item: its points, checked the way the stores check them.
        per_item: list[tuple[Any, list[Point]]] = []
        n_emissions = 0
        for index, item in enumerate(batch.items):
            try:
                item_points = self._item_points(batch.station_id, item, n_emissions)
                for p in item_points:
                    _check_point(p)
            except StorageError as err:
                rejected.append(RejectedItem(index, item.kind, str(err)[:MAX_REASON_CHARS]))
                continue
            per_item.append((item, item_points))
            n_emissions += isinstance(item, EmissionItem)
        items = [item for item, _ in per_item]
        emission_items = [i for i in items if isinstance(i, EmissionItem)]
        classified = self._compliance.classify(
            [i.to_emission(batch.station_id) for i in emission_items],
            [_geo(i.position) for i in emission_items],
        )
        if len(classified.classes) != len(emission_items):
            raise RuntimeError("compliance returned a class count unlike the emissions")
        classes = iter(classified.classes)
        points: list[Point] = []
        for item, item_points in per_item:
            if isinstance(item, EmissionItem):  # the class tag, now that it is known
                cls = next(classes)
                item_points = [
                    Point(p.measurement, {**p.tags, names.TAG_CLASS: cls}, p.fields, p.t_ns)
                    for p in item_points
                ]
            points.extend(item_points)
        evidence = [
            (item, self._write_evidence(batch.station_id, item))
            for item in items
            if isinstance(item, EvidenceItem | LocationItem | BearingItem)
        ]
        try:
            self._ts.write(points)
        except StorageError as err:
            raise _store_error("không ghi được chuỗi thời gian / cannot write time series",
                               err) from err
        try:
            outcome, case_ids, duplicate = self._commit(
                batch, classified, evidence, rejected, n_items=len(batch.items)
            )
        except (OperationalError, SAInterfaceError) as err:
            raise _store_error("CSDL không sẵn sàng / relational database unavailable",
                               err) from err
        except SQLAlchemyError as err:
            raise _store_error("không ghi được lô / cannot record the batch", err) from err
        if duplicate is not None:
            self.duplicates += 1
            return IngestResult(batch.batch_id, "duplicate", rejected=duplicate)
        self.accepted += 1
        if rejected:
            log.warning(
                "batch %s of %s: %d items refused (first: #%d %s: %s)",
                batch.batch_id, batch.station_id, len(rejected), rejected[0].index,
                rejected[0].kind, rejected[0].reason,
            )
        if self._on_spectrum is not None:
            for item in items:
                if isinstance(item, SpectrumItem):
                    self._on_spectrum(batch.station_id, item)
        return IngestResult(
            batch.batch_id,
            "accepted",
            n_points=len(points),
            n_findings=outcome.n_findings,
            case_ids=tuple(case_ids),
            classes=outcome.classes,
            rejected=tuple(rejected),
        )

    # -- the ledger and the unit of work -------------------------------------------------

    def _ledger_row(self, batch: Batch) -> tuple[RejectedItem, ...] | None:
        """The rejections of a batch already in the ledger, or ``None`` if it is new."""
        try:
            with self._sessions() as session:
                row = session.get(IngestedBatch, (batch.station_id, batch.batch_id))
                return None if row is None else _rejections(row.rejected_json)
        except (OperationalError, SAInterfaceError) as err:
            raise _store_error("CSDL không sẵn sàng / relational database unavailable",
                               err) from err

    def _commit(
        self,
        batch: Batch,
        classified: Classified,
        evidence: Sequence[tuple[EvidenceItem | LocationItem | BearingItem, tuple[Path, str, int]]],
        rejected: Sequence[RejectedItem],
        *,
        n_items: int,
    ) -> tuple[ComplianceOutcome, list[str], tuple[RejectedItem, ...] | None]:
        """Cases, evidence and the ledger row in one transaction (see the module doc)."""
        session = self._sessions()
        # PostgreSQL: only a batch that folds cases or attaches evidence needs the lock;
        # the ledger row alone is guarded by its primary key. SQLite (one process, one
        # writer at a time anyway): every transaction takes the in-process lock.
        folds = bool(classified.findings_by_t_ns or evidence)
        postgres = session.get_bind().dialect.name == "postgresql"
        local = not postgres
        if local:
            self._local_fold_lock.acquire()
        try:
            if folds and postgres:
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FOLD_LOCK_KEY})
            row = session.get(IngestedBatch, (batch.station_id, batch.batch_id))
            if row is not None:  # another process took it meanwhile
                session.rollback()
                return ComplianceOutcome(()), [], _rejections(row.rejected_json)
            outcome = self._compliance.record(
                session, station_id=batch.station_id, classified=classified
            )
            case_ids = list(outcome.case_ids)
            now_ns = self._clock_ns()
            for item, (path, sha, size) in evidence:
                cid = self._compliance.attach_evidence(
                    session, station_id=batch.station_id, **_evidence_args(item, batch.station_id),
                    path=path, sha256=sha, size_bytes=size, now_ns=now_ns,
                )
                if cid is not None and cid not in case_ids:
                    case_ids.append(cid)
            session.add(
                IngestedBatch(
                    batch_id=batch.batch_id,
                    station_id=batch.station_id,
                    seq=batch.seq,
                    created_t_ns=batch.created_t_ns,
                    received_at=datetime.now(UTC),
                    n_items=n_items,
                    thinned=batch.thinned,
                    n_rejected=len(rejected),
                    rejected_json=(
                        json.dumps([r.to_json() for r in rejected], ensure_ascii=False)
                        if rejected else None
                    ),
                )
            )
            session.commit()
            return outcome, case_ids, None
        except IntegrityError:
            # The ledger row exists after all (a concurrent delivery committed first).
            session.rollback()
            with self._sessions() as s2:
                row = s2.get(IngestedBatch, (batch.station_id, batch.batch_id))
                if row is None:
                    raise
                return ComplianceOutcome(()), [], _rejections(row.rejected_json)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if local:
                self._local_fold_lock.release()

    # -- time series -----------------------------------------------------------------

    def _item_points(self, sid: str, item: Any, emission_index: int) -> list[Point]:
        if isinstance(item, SpectrumItem):
            return self._spectrum_points(sid, item)
        if isinstance(item, EmissionItem):
            fields: dict[str, float | int | bool | str] = {
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
            tags = {names.TAG_STATION: sid, names.TAG_CLASS: "unknown"}  # set after classify
            return [Point(names.EMISSION, tags, fields, item.t_first_ns + emission_index)]
        if isinstance(item, ChannelPowerItem):
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
            return [Point(names.CHANNEL_POWER, tags, fields, item.t_ns)]
        if isinstance(item, OccupancyItem):
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
            return [Point(names.OCCUPANCY, tags, fields, item.t_start_ns)]
        if isinstance(item, HealthItem):
            return [self._health_point(sid, item)]
        return []

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
        if item.last_error:
            fields["last_error"] = " ".join(item.last_error.split())  # one line
        tags = {names.TAG_STATION: sid, names.TAG_RECEIVER: item.receiver_id}
        return Point(names.STATION_HEALTH, tags, fields, item.t_ns)

    # -- evidence --------------------------------------------------------------------

    def _folder(self, sid: str) -> Path:
        """The station's evidence folder, which must lie inside the evidence folder."""
        folder = (self._evidence_dir / sid).resolve()
        if not folder.is_relative_to(self._evidence_dir) or folder == self._evidence_dir:
            raise InputFormatError(f"station id {sid[:70]!r} cannot name a folder",
                                   field="station_id")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _write_evidence(
        self, sid: str, item: EvidenceItem | LocationItem | BearingItem
    ) -> tuple[Path, str, int]:
        """Write the evidence file (named by its SHA-256); (path, sha256, size)."""
        folder = self._folder(sid)
        if isinstance(item, EvidenceItem):
            data = item.data()
            base = folder / item.sha256[:16]
            data_path = base.with_suffix(".sigmf-data")
            if not data_path.is_file() or data_path.stat().st_size != len(data):
                data_path.write_bytes(data)
            base.with_suffix(".sigmf-meta").write_text(item.meta_json, encoding="utf-8")
            # The checksum is of the samples; the meta file sits beside.
            return data_path, item.sha256, len(data)
        if isinstance(item, BearingItem):
            # The station is part of the record: the location keeps the newest bearing
            # of each site (compliance.location).
            doc = {**item.model_dump(mode="json"), "station_id": sid}
            body = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")
            prefix = "bearing"
        else:
            body = item.model_dump_json(indent=2).encode("utf-8")
            prefix = "location"
        sha = hashlib.sha256(body).hexdigest()
        path = folder / f"{prefix}-{sha[:16]}.json"
        path.write_bytes(body)
        return path, sha, len(body)


def _evidence_args(item: EvidenceItem | LocationItem | BearingItem, sid: str) -> dict[str, Any]:
    if isinstance(item, EvidenceItem):
        return {
            "f_hz": item.f_hz,
            "t_ns": item.t_start_ns,
            "kind": "sigmf",
            "description": (
                f"Bản ghi IQ / IQ recording {item.f_center_hz / 1e6:.4f} MHz, "
                f"{item.sample_rate_hz / 1e3:.0f} kS/s ({sid})"
            ),
        }
    if isinstance(item, BearingItem):
        return {
            "f_hz": item.f_hz,
            "t_ns": item.t_ns,
            "kind": "field_measurement",
            "description": (
                f"Hướng tới máy phát / bearing to the emitter: {item.bearing_deg:.1f}° "
                f"± {item.sigma_deg:.1f}° từ / from {item.lat_deg:.5f}, {item.lon_deg:.5f} "
                f"({sid})"
            ),
        }
    return {
        "f_hz": item.f_hz,
        "t_ns": item.t_ns,
        "kind": "field_measurement",
        "description": (
            f"Ước tính vị trí máy phát / emitter position estimate: "
            f"{item.lat_deg:.5f}, {item.lon_deg:.5f} ± {item.radius_m:.0f} m "
            f"({item.n_points} điểm đo / points, n={item.path_loss_exponent:.2f})"
        ),
    }


def _rejections(text_json: str | None) -> tuple[RejectedItem, ...]:
    if not text_json:
        return ()
    return tuple(
        RejectedItem(int(r["index"]), r.get("kind"), str(r["reason"]))
        for r in json.loads(text_json)
    )


def batch_summary(batch: Batch) -> str:
    """One line for logs: id, station, item counts by kind."""
    counts: dict[str, int] = {}
    for item in batch.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return json.dumps({"batch": batch.batch_id, "station": batch.station_id, **counts})
