"""Where is a case's emitter, and on which side of the border.

One location from everything that heard the emitter (:func:`dsp.geolocation.locate`):

- each station's level of the emission, from the case's findings (their ``measured``
  value: field strength in dBµV/m where the station is calibrated, dBm, or dBFS),
  the median per station over the case's last ``window_s`` (a station is one place;
  its repeated sightings are not independent evidence). Calibrated levels of one unit
  share one unknown transmitter power; dBFS levels are compared with each other only,
  which assumes the stations' receivers are alike (same make, same fixed gain);
- a field kit's own drive-test fit, attached to the case as evidence
  (``location-*.json``), as a position prior of its 95 % radius;
- bearings from sites with a directional antenna on a rotator, attached to the case
  as evidence (``bearing-*.json``, written by the centre's ingest from a station's
  ``bearing`` item): the newest of each site within ``window_s`` (a site's repeated
  sweeps of one emitter are not independent evidence either);
- station positions from the ``stations`` table (a station without one is skipped).

The border verdict (:func:`dsp.border.border_verdict`) on the shipped boundary line
(:mod:`compliance.boundary`) turns the posterior into ``vietnam`` / ``foreign`` /
``undetermined``; the thresholds and the terrain come from settings.

The result is kept on the case (``location_json``, ``location_ns``) and recomputed
when the case has changed since (:func:`refresh_locations`); ``rfwatch cases list
--json`` prints it as ``location`` (shape in :func:`location_json`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from compliance.boundary import load_boundary
from compliance.models import Case
from dsp.border import BorderVerdict, Boundary, border_verdict
from dsp.geolocation import (
    BearingObservation,
    LevelObservation,
    LocationEstimate,
    PositionPrior,
    locate,
)
from dsp.types import GeoPosition

__all__ = ["LocationSettings", "LEVEL_UNITS", "case_bearings", "case_observations",
           "locate_case",
           "location_json", "refresh_locations"]

log = logging.getLogger(__name__)

#: Units of a finding's ``measured`` value that are received levels.
LEVEL_UNITS = ("dBuV/m", "dBm", "dBFS")
_CALIBRATED = {"dBuV/m": True, "dBm": True, "dBFS": False}

_STATIONS = sa.table("stations", sa.column("id", sa.String), sa.column("kind", sa.String),
                     sa.column("lat_deg", sa.Float), sa.column("lon_deg", sa.Float))


@dataclass(frozen=True, slots=True)
class LocationSettings:
    """How a case is located and judged (from ``rfwatch.settings`` ``location``)."""

    terrain: str = "rural"
    p_vietnam_min: float = 0.975
    p_foreign_max: float = 0.025
    window_s: float = 3600.0
    border_file: Path | None = None


def _station_positions(session: Session) -> dict[str, GeoPosition]:
    """Fixed stations with a position. A field kit moves: its levels come in through its
    own drive-test fit (evidence), not at the one position the table holds for it."""
    rows = session.execute(sa.select(_STATIONS.c.id, _STATIONS.c.kind, _STATIONS.c.lat_deg,
                                     _STATIONS.c.lon_deg))
    return {r.id: GeoPosition(r.lat_deg, r.lon_deg) for r in rows
            if r.lat_deg is not None and r.lon_deg is not None and r.kind != "field_kit"}


def _kit_prior(path: str) -> PositionPrior | None:
    p = Path(path)
    if not p.name.startswith("location-") or p.suffix != ".json" or not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        pos = GeoPosition(float(doc["lat_deg"]), float(doc["lon_deg"]))
        radius = float(doc["radius_m"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("location evidence %s unreadable: %s", p, err)
        return None
    if not (math.isfinite(radius) and radius > 0):
        return None
    # radius_m is a 95 % radius: sqrt(chi2_2(0.95)) = 2.45 standard deviations
    return PositionPrior(pos, radius / 2.4477, source=p.name)


def case_observations(session: Session, case: Case, *, window_s: float = 3600.0
                      ) -> tuple[list[LevelObservation], list[PositionPrior]]:
    """The levels (median per station and unit) and drive-test priors of one case."""
    positions = _station_positions(session)
    since = case.last_seen_ns - int(window_s * 1e9)
    per: dict[tuple[str, str], list[float]] = defaultdict(list)
    for f in case.findings:
        if (f.measured is None or f.unit not in LEVEL_UNITS or f.t_ns < since
                or not math.isfinite(f.measured) or f.station_id not in positions):
            continue
        per[(f.station_id, f.unit)].append(float(f.measured))
    levels = [
        LevelObservation(positions[sid], float(np.median(v)), _CALIBRATED[unit],
                         site_id=sid, offset_group=unit)
        for (sid, unit), v in sorted(per.items())
    ]
    # A field kit refines its fit as it drives: each new estimate includes the points of
    # the earlier ones, so only the newest counts (they are not independent).
    newest = sorted((e for e in case.evidence if e.kind == "field_measurement"),
                    key=lambda e: e.added_ns, reverse=True)
    priors = []
    for e in newest:
        q = _kit_prior(e.uri)
        if q is not None:
            priors.append(q)
            break
    return levels, priors


def _bearing(path: str) -> tuple[str, int, BearingObservation] | None:
    """(site key, measurement time in ns, the bearing) of a ``bearing-*.json`` file."""
    p = Path(path)
    if not p.name.startswith("bearing-") or p.suffix != ".json" or not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        lat, lon = float(doc["lat_deg"]), float(doc["lon_deg"])
        bearing, sigma = float(doc["bearing_deg"]), float(doc["sigma_deg"])
        t_ns = int(doc["t_ns"])
        site = str(doc.get("station_id") or f"{lat:.6f},{lon:.6f}")
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("bearing evidence %s unreadable: %s", p, err)
        return None
    if not (all(math.isfinite(v) for v in (lat, lon, bearing, sigma))
            and -90 <= lat <= 90 and -180 <= lon <= 180 and 0 < sigma <= 180):
        log.warning("bearing evidence %s out of range; not used", p)
        return None
    return site, t_ns, BearingObservation(GeoPosition(lat, lon), bearing % 360.0, sigma,
                                          site_id=site)


def case_bearings(case: Case, *, window_s: float = 3600.0) -> list[BearingObservation]:
    """The newest bearing of each site attached to ``case`` (``bearing-*.json``
    evidence) measured within ``window_s`` of the case's last sighting, by site."""
    since = case.last_seen_ns - int(window_s * 1e9)
    newest: dict[str, tuple[int, int, BearingObservation]] = {}
    for e in case.evidence:
        if e.kind != "field_measurement":
            continue
        got = _bearing(e.uri)
        if got is None or got[1] < since:
            continue
        site, t_ns, obs = got
        if site not in newest or (t_ns, e.added_ns) > newest[site][:2]:
            newest[site] = (t_ns, e.added_ns, obs)
    return [newest[site][2] for site in sorted(newest)]


def location_json(est: LocationEstimate, verdict: BorderVerdict) -> dict | None:
    """The ``location`` object of ``rfwatch cases list --json`` (``None``: no estimate).

    Keys: ``lat_deg``, ``lon_deg``, ``semi_major_m``, ``semi_minor_m``,
    ``orientation_deg`` (of the major axis, clockwise from north), ``confidence``
    (0.95), ``verdict`` (``vietnam`` | ``foreign`` | ``undetermined``), ``p_vietnam``,
    ``n_sites``, ``method``; added: ``drive_to`` (``{"lat_deg", "lon_deg"}`` or null),
    ``outliers``, ``note``.
    """
    if est.position is None:
        return None
    return {
        "lat_deg": round(est.position.lat_deg, 6),
        "lon_deg": round(est.position.lon_deg, 6),
        "semi_major_m": round(est.semi_major_m, 1),
        "semi_minor_m": round(est.semi_minor_m, 1),
        "orientation_deg": round(est.orientation_deg, 1),
        "confidence": est.confidence,
        "verdict": verdict.verdict,
        "p_vietnam": None if math.isnan(verdict.p_vietnam) else round(verdict.p_vietnam, 4),
        "n_sites": est.n_sites,
        "method": est.method,
        "drive_to": (None if verdict.drive_to is None else
                     {"lat_deg": round(verdict.drive_to.lat_deg, 6),
                      "lon_deg": round(verdict.drive_to.lon_deg, 6)}),
        "outliers": list(est.outliers),
        "note": verdict.note,
    }


def locate_case(session: Session, case: Case, settings: LocationSettings | None = None,
                boundary: Boundary | None = None) -> tuple[dict | None, str | None]:
    """Locate one case: (``location`` object or None, the reason when None)."""
    settings = settings or LocationSettings()
    levels, priors = case_observations(session, case, window_s=settings.window_s)
    bearings = case_bearings(case, window_s=settings.window_s)
    if not levels and not priors and not bearings:
        return None, "không có mức đo nào có vị trí trạm / no level from a station of known place"
    est = locate(levels, bearings, priors=priors, terrain=settings.terrain)
    if est.position is None:
        return None, est.reason
    boundary = boundary or load_boundary(settings.border_file)
    verdict = border_verdict(est, boundary, p_vietnam_min=settings.p_vietnam_min,
                             p_foreign_max=settings.p_foreign_max, terrain=settings.terrain)
    return location_json(est, verdict), None


def refresh_locations(session: Session, cases: Iterable[Case],
                      settings: LocationSettings | None = None) -> int:
    """Recompute the location of every case changed since its last one; returns how many.

    The caller commits. A case whose location cannot be estimated keeps
    ``location_json`` NULL and the reason in ``location_note``.
    """
    n = 0
    for case in cases:
        if case.location_ns is not None and case.location_ns >= case.updated_ns:
            continue
        doc, why = locate_case(session, case, settings)
        case.location_json = None if doc is None else json.dumps(doc, ensure_ascii=False)
        case.location_note = why
        case.location_ns = max(time.time_ns(), case.updated_ns)
        if doc is None:
            log.info("case %s not located: %s", case.id, why)
        else:
            log.info("case %s located: %.5f, %.5f, 95 %% %.0f x %.0f m, %s (P(VN) %s)",
                     case.id, doc["lat_deg"], doc["lon_deg"], doc["semi_major_m"],
                     doc["semi_minor_m"], doc["verdict"], doc["p_vietnam"])
        n += 1
    return n
