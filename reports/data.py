"""What a report says, gathered from the stores: plain values, no layout.

The PDF and the XLSX are both drawn from these dataclasses, so they hold the same
numbers. Cases come through :class:`compliance.cases.CaseService`, stations from the
``stations`` table, time series through :class:`storage.timeseries.TimeSeriesStore`.

Uptime and gaps
---------------
A station sends a health point per receiver at a steady interval. Over the report
period a **gap** is any stretch longer than ``GAP_FACTOR`` times the station's median
health interval with no health point (the start and the end of the period count too),
plus any outage its supervisor reported (``gap_s``). Uptime is one minus the summed
gap time over the period. A station that sent nothing in the period has uptime 0.

Occupancy by band is the mean and the maximum of the ``occupancy`` ``fraction``
(ITU-R SM.1880 frequency-channel occupancy, per channel and interval) over the
period, per station and band. Emissions by class count the ``emission`` points.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from compliance.cases import CaseService
from compliance.models import Case
from dsp.errors import ParameterError
from reports.series import SpectrumSeries, TrackPoint, load_spectra, load_track
from storage import names
from storage.timeseries import TimeSeriesStore

__all__ = [
    "GAP_FACTOR",
    "BandOccupancy",
    "CaseDetail",
    "ClassCount",
    "Gap",
    "InspectionReport",
    "LocationEstimate",
    "PeriodReport",
    "SpectrumSeries",
    "StationInfo",
    "StationUptime",
    "TrackPoint",
    "case_detail",
    "evidence_spectra",
    "gather_inspection",
    "gather_period",
    "load_stations",
    "load_track",
    "load_spectra",
]

NS = 1_000_000_000
#: A silence longer than this many median health intervals is a gap.
GAP_FACTOR = 3.0
#: Rows of a period report's heatmap at most (sweeps are max-held over windows).
HEATMAP_ROWS = 400


@dataclass(frozen=True, slots=True)
class StationInfo:
    id: str
    name: str
    kind: str
    lat_deg: float | None
    lon_deg: float | None


@dataclass(frozen=True, slots=True)
class Gap:
    t_start_ns: int
    t_end_ns: int

    @property
    def duration_s(self) -> float:
        return (self.t_end_ns - self.t_start_ns) / NS


@dataclass(frozen=True, slots=True)
class StationUptime:
    station: StationInfo
    n_health: int
    t_first_ns: int | None
    t_last_ns: int | None
    uptime_fraction: float
    gaps: tuple[Gap, ...]

    @property
    def gap_total_s(self) -> float:
        return float(sum(g.duration_s for g in self.gaps))


@dataclass(frozen=True, slots=True)
class BandOccupancy:
    station_id: str
    band: str
    mean_fraction: float
    max_fraction: float
    n_samples: int


@dataclass(frozen=True, slots=True)
class ClassCount:
    emitter_class: str
    n_emissions: int
    n_stations: int


@dataclass(frozen=True, slots=True)
class LocationEstimate:
    """An emitter position estimate with its 95 % region.

    A field kit's drive-test fit is a circle of ``radius_m``; the case's location
    (compliance.location: every station's level and the fit together) is an ellipse:
    ``radius_m`` its semi-major axis, ``semi_minor_m`` and ``orientation_deg``
    (clockwise from north) the rest, with the border ``verdict`` and ``p_vietnam``.
    """

    case_id: str
    f_hz: float
    lat_deg: float
    lon_deg: float
    radius_m: float
    n_points: int
    t_ns: int
    station_id: str
    semi_minor_m: float | None = None
    orientation_deg: float = 0.0
    verdict: str | None = None
    p_vietnam: float | None = None
    method: str = "drive_fit"

    def ring_lon_lat(self, n: int = 72) -> list[tuple[float, float]]:
        """The 95 % region's outline, closed, counter-clockwise (as KML asks)."""
        r_earth = 6_371_008.8
        a_m = self.radius_m
        b_m = self.radius_m if self.semi_minor_m is None else self.semi_minor_m
        th = math.radians(self.orientation_deg)
        pts = []
        for k in range(n + 1):
            t = 2 * math.pi * k / n
            u, v = a_m * math.cos(t), b_m * math.sin(t)  # along / across the major axis
            east = u * math.sin(th) - v * math.cos(th)
            north = u * math.cos(th) + v * math.sin(th)
            pts.append((self.lon_deg + math.degrees(east / (r_earth * math.cos(
                math.radians(self.lat_deg)))), self.lat_deg + math.degrees(north / r_earth)))
        # counter-clockwise: positive signed area in (lon, lat)
        area = sum(x0 * y1 - x1 * y0
                   for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False))
        return pts if area > 0 else pts[::-1]


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """A case with its findings, history, evidence and position estimates as rows."""

    summary: dict[str, object]
    findings: tuple[dict[str, object], ...]
    history: tuple[dict[str, object], ...]
    evidence: tuple[dict[str, object], ...]
    locations: tuple[LocationEstimate, ...]


@dataclass
class PeriodReport:
    t_start_ns: int
    t_end_ns: int
    station_filter: str | None
    stations: list[StationUptime]
    occupancy: list[BandOccupancy]
    classes: list[ClassCount]
    cases: list[CaseDetail]
    heatmaps: list[SpectrumSeries] = field(default_factory=list)
    track: list[TrackPoint] = field(default_factory=list)
    generated_ns: int = 0

    @property
    def n_emissions(self) -> int:
        return sum(c.n_emissions for c in self.classes)

    @property
    def n_findings(self) -> int:
        return sum(len(c.findings) for c in self.cases)

    @property
    def n_open(self) -> int:
        return sum(1 for c in self.cases if c.summary["status"] not in ("closed", "dismissed"))

    @property
    def mean_uptime(self) -> float | None:
        if not self.stations:
            return None
        return float(np.mean([s.uptime_fraction for s in self.stations]))


@dataclass
class InspectionReport:
    case: CaseDetail
    stations: list[StationInfo]
    spectra: list[SpectrumSeries]
    track: list[TrackPoint]
    licence: dict[str, object] | None
    generated_ns: int = 0
    #: Fine spectra computed from the case's SigMF evidence (one row each).
    evidence_spectra: list[SpectrumSeries] = field(default_factory=list)


# -- reading -------------------------------------------------------------------------


def load_stations(sessions: sessionmaker[Session]) -> list[StationInfo]:
    """Every registered station, by id."""
    from centre.models import STATIONS

    with sessions() as session:
        rows = session.execute(
            select(STATIONS.c.id, STATIONS.c.name, STATIONS.c.kind, STATIONS.c.lat_deg,
                   STATIONS.c.lon_deg).order_by(STATIONS.c.id)
        ).all()
    # A station registered without a position is stored at (0, 0): no position.
    return [StationInfo(r[0], r[1] or r[0], r[2] or "fixed",
                        *((None, None) if (r[3] or 0.0) == 0.0 and (r[4] or 0.0) == 0.0
                          else (r[3], r[4])))
            for r in rows]


def case_detail(case: Case) -> CaseDetail:
    """A case (loaded with findings, history and evidence) as report rows."""
    from compliance.cases import case_summary, ns_to_iso

    findings = tuple(
        {
            "case_id": case.id,
            "kind": f.kind,
            "station": f.station_id,
            "t": ns_to_iso(f.t_ns),
            "t_ns": f.t_ns,
            "f_hz": f.f_hz,
            "bw_hz": f.bw_hz,
            "measured": f.measured,
            "permitted": f.permitted,
            "unit": f.unit,
            "severity": f.severity,
            "legal_basis": f.legal_basis,
            "licence_id": f.licence_id,
            "detail": f.detail,
        }
        for f in case.findings
    )
    history = tuple(
        {
            "t": ns_to_iso(h.t_ns),
            "t_ns": h.t_ns,
            "actor": h.actor,
            "action": h.action,
            "from_status": h.from_status,
            "to_status": h.to_status,
            "detail": h.detail,
        }
        for h in case.history
    )
    evidence = tuple(
        {"kind": e.kind, "uri": e.uri, "sha256": e.sha256, "size_bytes": e.size_bytes,
         "t": ns_to_iso(e.added_ns), "t_ns": e.added_ns, "note": e.note}
        for e in case.evidence
    )
    locations = []
    for e in case.evidence:
        if e.kind != "field_measurement":
            continue
        est = _read_location(Path(e.uri), case.id)
        if est is not None:
            locations.append(est)
    summary = {**case_summary(case), "first_seen_ns": case.first_seen_ns,
               "last_seen_ns": case.last_seen_ns}
    loc = summary.get("location")
    if isinstance(loc, dict):
        # the case's own location last: the best estimate, the one the record states
        locations.append(LocationEstimate(
            case_id=case.id, f_hz=case.f_hz, lat_deg=float(loc["lat_deg"]),
            lon_deg=float(loc["lon_deg"]), radius_m=float(loc["semi_major_m"]),
            n_points=int(loc["n_sites"]), t_ns=int(case.location_ns or case.last_seen_ns),
            station_id="centre", semi_minor_m=float(loc["semi_minor_m"]),
            orientation_deg=float(loc["orientation_deg"]), verdict=str(loc["verdict"]),
            p_vietnam=loc.get("p_vietnam"), method=str(loc["method"])))
    return CaseDetail(summary, findings, history, evidence, tuple(locations))


def _read_location(path: Path, case_id: str) -> LocationEstimate | None:
    """A field kit's position estimate (the JSON the centre keeps as evidence)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return LocationEstimate(
            case_id=case_id,
            f_hz=float(doc["f_hz"]),
            lat_deg=float(doc["lat_deg"]),
            lon_deg=float(doc["lon_deg"]),
            radius_m=float(doc["radius_m"]),
            n_points=int(doc["n_points"]),
            t_ns=int(doc["t_ns"]),
            station_id=path.parent.name,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not a position estimate (a photo, a note): not drawn


def _uptime(
    station: StationInfo, times_ns: Sequence[int], reported: Sequence[tuple[int, float]],
    t0_ns: int, t1_ns: int,
) -> StationUptime:
    period_ns = max(1, t1_ns - t0_ns)
    if not times_ns:
        return StationUptime(station, 0, None, None, 0.0, (Gap(t0_ns, t1_ns),))
    t = np.unique(np.asarray(times_ns, dtype=np.int64))
    step_ns = int(np.median(np.diff(t))) if t.size > 1 else period_ns
    limit_ns = GAP_FACTOR * step_ns
    gaps: list[Gap] = []
    if t[0] - t0_ns > limit_ns:
        gaps.append(Gap(t0_ns, int(t[0])))
    for a, b in zip(t[:-1], t[1:], strict=True):
        if b - a > limit_ns:
            gaps.append(Gap(int(a), int(b)))
    if t1_ns - t[-1] > limit_ns:
        gaps.append(Gap(int(t[-1]), t1_ns))
    # Outages the supervisor reported (a receiver lost and reopened) while health went on.
    for t_ns, gap_s in reported:
        if gap_s > 0:
            start = max(t0_ns, t_ns - int(gap_s * NS))
            if not any(g.t_start_ns <= start and t_ns <= g.t_end_ns for g in gaps):
                gaps.append(Gap(start, t_ns))
    gaps.sort(key=lambda g: g.t_start_ns)
    lost_ns = sum(g.t_end_ns - g.t_start_ns for g in gaps)
    uptime = max(0.0, 1.0 - lost_ns / period_ns)
    return StationUptime(station, int(t.size), int(t[0]), int(t[-1]), uptime, tuple(gaps))


def _station_uptimes(
    ts: TimeSeriesStore, stations: Sequence[StationInfo], t0_ns: int, t1_ns: int
) -> list[StationUptime]:
    rows = ts.query(names.STATION_HEALTH, names.FIELD_OUTBOX_DEPTH, t_start_ns=t0_ns,
                    t_end_ns=t1_ns, group_by=(names.TAG_STATION,))
    times: dict[str, list[int]] = {}
    for r in rows:
        times.setdefault(r.tags.get(names.TAG_STATION, ""), []).append(r.t_ns)
    reported: dict[str, list[tuple[int, float]]] = {}
    for r in ts.query(names.STATION_HEALTH, "gap_s", t_start_ns=t0_ns, t_end_ns=t1_ns,
                      group_by=(names.TAG_STATION,)):
        if isinstance(r.value, int | float):
            reported.setdefault(r.tags.get(names.TAG_STATION, ""), []).append(
                (r.t_ns, float(r.value)))
    return [_uptime(s, times.get(s.id, []), reported.get(s.id, []), t0_ns, t1_ns)
            for s in stations]


def _occupancy(ts: TimeSeriesStore, t0_ns: int, t1_ns: int,
               tags: dict[str, str]) -> list[BandOccupancy]:
    # Aggregated in the store (one row per station and band), however long the period.
    by: dict[str, dict[tuple[str, str], float]] = {}
    for agg in ("mean", "max", "count"):
        for r in ts.query(names.OCCUPANCY, names.FIELD_FRACTION, t_start_ns=t0_ns,
                          t_end_ns=t1_ns, tags=tags or None, aggregate=agg,  # type: ignore[arg-type]
                          group_by=(names.TAG_STATION, names.TAG_BAND)):
            if isinstance(r.value, int | float):
                key = (r.tags.get(names.TAG_STATION, ""), r.tags.get(names.TAG_BAND, ""))
                by.setdefault(agg, {})[key] = float(r.value)
    counts = by.get("count", {})
    return [
        BandOccupancy(sid, band, by["mean"][(sid, band)], by["max"][(sid, band)], int(n))
        for (sid, band), n in sorted(counts.items()) if n > 0
    ]


def _classes(ts: TimeSeriesStore, t0_ns: int, t1_ns: int,
             tags: dict[str, str]) -> list[ClassCount]:
    rows = ts.query(names.EMISSION, names.FIELD_F_HZ, t_start_ns=t0_ns, t_end_ns=t1_ns,
                    tags=tags or None, aggregate="count",
                    group_by=(names.TAG_STATION, names.TAG_CLASS))
    counts: dict[str, int] = {}
    stations: dict[str, set[str]] = {}
    for r in rows:
        n = int(r.value) if isinstance(r.value, int | float) else 0
        if n <= 0:
            continue
        cls = r.tags.get(names.TAG_CLASS, "")
        counts[cls] = counts.get(cls, 0) + n
        stations.setdefault(cls, set()).add(r.tags.get(names.TAG_STATION, ""))
    order = ("unknown", "licensed", "foreign", "exempt")
    keys = sorted(counts, key=lambda c: (order.index(c) if c in order else 9, c))
    return [ClassCount(c, counts[c], len(stations[c])) for c in keys]


def evidence_spectra(detail: CaseDetail, *, fft_size: int = 1024,
                     max_recordings: int = 3) -> list[SpectrumSeries]:
    """Welch spectra (``fft_size`` bins, so a few hundred Hz per bin at the evidence
    capture's rate) of the case's SigMF recordings, one per station, for the spectrum
    picture; recordings that are gone or unreadable are left out."""
    from dsp.errors import RfwatchError
    from dsp.spectrum import welch_spectrum
    from firmware_bridge.recording import IQRecording
    from firmware_bridge.recordings import load_recording

    out: list[SpectrumSeries] = []
    seen: set[str] = set()
    for e in detail.evidence:
        if e["kind"] != "sigmf" or len(out) >= max_recordings:
            continue
        path = Path(str(e["uri"]))
        station = path.parent.name
        if station in seen:
            continue
        try:
            rec = load_recording(path, fmt="sigmf")
        except (RfwatchError, OSError):
            continue
        if not isinstance(rec, IQRecording) or rec.samples.size < fft_size:
            continue
        spec = welch_spectrum(rec.samples, sample_rate_hz=rec.sample_rate_hz,
                              f_center_hz=rec.f_center_hz, fft_size=fft_size,
                              t_start_ns=rec.t_start_ns)
        f = spec.f_start_hz + np.arange(spec.n_bins) * spec.f_step_hz
        out.append(SpectrumSeries(station, "IQ", spec.power_unit, f,
                                  np.array([rec.t_start_ns], dtype=np.int64),
                                  np.asarray(spec.power_db, dtype=np.float64)[None, :]))
        seen.add(station)
    return out


# -- gathering -------------------------------------------------------------------------


def _overlaps(summary_case: Case, t0_ns: int, t1_ns: int) -> bool:
    return summary_case.first_seen_ns < t1_ns and summary_case.last_seen_ns >= t0_ns


def gather_period(
    sessions: sessionmaker[Session], ts: TimeSeriesStore, t0_ns: int, t1_ns: int, *,
    station: str | None = None, heatmaps: bool = True, clock_ns: int | None = None,
) -> PeriodReport:
    """Everything of a periodic report over ``[t0_ns, t1_ns)``, optionally one station.

    Raises
    ------
    ParameterError
        When the period is empty or the station is not registered.
    """
    if t1_ns <= t0_ns:
        raise ParameterError("--to phải sau --from / --to must be after --from")
    stations = load_stations(sessions)
    if station is not None:
        stations = [s for s in stations if s.id == station]
        if not stations:
            raise ParameterError(f"không có trạm / no station {station!r} (--station)")
    tags = {names.TAG_STATION: station} if station else {}
    cases = [
        c for c in CaseService(sessions).list_cases()
        if _overlaps(c, t0_ns, t1_ns) and (station is None or station in c.stations)
    ]
    cases.sort(key=lambda c: (c.first_seen_ns, c.id))
    series: list[SpectrumSeries] = []
    if heatmaps:
        for s in stations:
            if s.kind == "field_kit":
                continue
            found = load_spectra(ts, s.id, t0_ns, t1_ns, max_rows=HEATMAP_ROWS)
            if found:  # the band with the most sweeps: one picture per station
                series.append(max(found, key=lambda x: (x.t_ns.size, x.band)))
    kits = [s.id for s in stations if s.kind == "field_kit"]
    return PeriodReport(
        t_start_ns=t0_ns,
        t_end_ns=t1_ns,
        station_filter=station,
        stations=_station_uptimes(ts, stations, t0_ns, t1_ns),
        occupancy=_occupancy(ts, t0_ns, t1_ns, tags),
        classes=_classes(ts, t0_ns, t1_ns, tags),
        cases=[case_detail(c) for c in cases],
        heatmaps=series,
        track=load_track(ts, kits, t0_ns, t1_ns),
        generated_ns=time.time_ns() if clock_ns is None else clock_ns,
    )


def gather_inspection(
    sessions: sessionmaker[Session], ts: TimeSeriesStore, case_id: str, *,
    margin_s: float = 300.0, clock_ns: int | None = None,
) -> InspectionReport:
    """Everything of the post-inspection report of one case.

    Raises
    ------
    ComplianceError
        When there is no such case.
    """
    from compliance.models import LicenceRow

    case = CaseService(sessions).get(case_id)
    detail = case_detail(case)
    stations = load_stations(sessions)
    t0 = case.first_seen_ns - int(margin_s * NS)
    t1 = case.last_seen_ns + int(margin_s * NS)
    spectra: list[SpectrumSeries] = []
    for sid in case.stations:
        found = load_spectra(ts, sid, t0, t1, f_hz=case.f_hz)
        if found:
            spectra.append(max(found, key=lambda x: x.t_ns.size))
    kits = [s.id for s in stations if s.kind == "field_kit" and s.id in case.stations]
    licence: dict[str, object] | None = None
    if case.matched_id and case.emitter_class == "licensed":
        with sessions() as session:
            row = session.get(LicenceRow, case.matched_id)
            if row is not None:
                licence = {
                    "licence_id": row.licence_id, "licensee": row.licensee,
                    "station_name": row.station_name, "f_hz": row.f_hz,
                    "emission": row.emission, "erp_w": row.erp_w,
                    "valid_from": row.valid_from.isoformat(),
                    "valid_to": row.valid_to.isoformat() if row.valid_to else None,
                    "status": row.status,
                }
    return InspectionReport(
        case=detail,
        stations=stations,
        spectra=spectra,
        track=load_track(ts, kits, t0, t1),
        licence=licence,
        generated_ns=time.time_ns() if clock_ns is None else clock_ns,
        evidence_spectra=evidence_spectra(detail),
    )
