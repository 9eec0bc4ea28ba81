"""A simulated scene set for location: emitters on both sides of the border line.

Each case is one emitter near the demo's border sites, heard by the three fixed sites
(calibrated, dBm), optionally by a field kit driving past (uncalibrated: only level
differences along the drive count) and optionally by a rotator site giving a bearing.
Levels come from the simulator's own physics (:meth:`Scene.link_budget`: log-distance
loss with an exponent drawn per case, log-normal shadowing per place, the directional
antenna's pattern for the rotator sweep) plus 1 dB of measurement noise; the bearing
comes from :func:`dsp.bearing.estimate_bearing` on the simulated sweep. The truth is
known, so ``bench/location.py`` and the accuracy tests can score the estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from dsp.bearing import estimate_bearing
from dsp.border import Boundary
from dsp.geo import destination
from dsp.geolocation import BearingObservation, LevelObservation
from dsp.types import GeoPosition
from firmware_bridge.simulator.model import Scene
from firmware_bridge.simulator.scene import (
    AntennaPatternConfig,
    EmitterConfig,
    PositionConfig,
    PropagationConfig,
    ReceiverConfig,
    SceneConfig,
)

__all__ = ["BORDER_SITES", "ROTATOR_SITE", "StudyCase", "location_cases"]

#: The demo's three border sites (lat, lon), on the Vietnamese side.
BORDER_SITES: dict[str, tuple[float, float]] = {
    "huu-nghi": (21.980, 106.715),
    "tan-thanh": (21.895, 106.655),
    "chi-ma": (21.795, 107.005),
}
#: A site with a directional antenna on a rotator (illustrative, near Đồng Đăng).
ROTATOR_SITE: tuple[float, float] = (21.945, 106.80)


@dataclass(frozen=True)
class StudyCase:
    truth: GeoPosition
    in_vietnam: bool
    levels: tuple[LevelObservation, ...]
    bearings: tuple[BearingObservation, ...]


def _receiver(rid: str, lat: float, lon: float, antenna: AntennaPatternConfig | None = None
              ) -> ReceiverConfig:
    return ReceiverConfig(id=rid, position=PositionConfig(lat=lat, lon=lon, alt_m=300),
                          antenna_gain_dbi=9.0 if antenna else 2.0, cable_loss_db=1.0,
                          antenna=antenna)


def location_cases(
    n: int,
    boundary: Boundary,
    *,
    seed: int = 0,
    drive: bool = False,
    rotator: bool = False,
    shadowing_db: float = 6.0,
    radius_m: float = 12_000.0,
) -> list[StudyCase]:
    """``n`` emitters within ``radius_m`` of the sites' centre, on both sides of the line."""
    rng = np.random.default_rng(seed)
    lat_c = float(np.mean([p[0] for p in BORDER_SITES.values()]))
    lon_c = float(np.mean([p[1] for p in BORDER_SITES.values()]))
    centre = GeoPosition(lat_c + 0.05, lon_c)  # a little north: towards the line
    cases: list[StudyCase] = []
    pattern = AntennaPatternConfig(beamwidth_deg=60.0, front_to_back_db=20.0)
    for k in range(n):
        tx = destination(centre, float(rng.uniform(0, 360)),
                         float(radius_m * np.sqrt(rng.uniform(0.02, 1.0))))
        in_vn = bool(boundary.inside(np.array([tx.lat_deg]), np.array([tx.lon_deg]))[0])
        receivers = [_receiver(rid, *p) for rid, p in BORDER_SITES.items()]
        if rotator:
            receivers.append(_receiver("rotator", *ROTATOR_SITE, antenna=pattern))
        emitter = EmitterConfig.model_validate({
            "id": f"tx{k}", "position": {"lat": tx.lat_deg, "lon": tx.lon_deg, "alt_m": 300},
            "f_hz": 163.45e6, "modulation": {"kind": "nbfm", "deviation_hz": 2500},
            "erp_w": float(10 ** rng.uniform(-1, 2)),
        })
        cfg = SceneConfig(
            name=f"loc{k}", start_time=datetime(2026, 7, 1, tzinfo=UTC), seed=seed * 100_003 + k,
            propagation=PropagationConfig(model="log_distance",
                                          exponent=float(rng.uniform(2.4, 3.4)),
                                          reference_distance_m=100.0,
                                          shadowing_db=shadowing_db),
            receivers=receivers, emitters=[emitter],
        )
        scene = Scene(cfg, source=f"<location study {k}>")
        levels = []
        for rx in receivers[:3]:
            p = scene.link_budget(emitter, rx).power_dbm + rng.normal(0, 1.0)
            levels.append(LevelObservation(rx.position.to_geo(), p, True, site_id=rx.id))
        if drive:
            start = None
            for _ in range(50):
                cand = destination(tx, float(rng.uniform(0, 360)), float(rng.uniform(1500, 6000)))
                if boundary.inside(np.array([cand.lat_deg]), np.array([cand.lon_deg]))[0]:
                    start = cand
                    break
            if start is not None:
                # a winding road: 60 points 100 m apart, turning up to 30 deg every 500 m
                heading = float(rng.uniform(0, 360))
                kit = _receiver("field-kit", start.lat_deg, start.lon_deg)
                at = start
                for j in range(60):
                    if j and j % 5 == 0:
                        heading += float(rng.uniform(-30, 30))
                    at = destination(at, heading, 100.0) if j else start
                    p = scene.link_budget(emitter, kit, at).power_dbm + rng.normal(0, 1.0)
                    # dBFS: an unknown offset the location must not need
                    levels.append(LevelObservation(at, p - 97.0, False, site_id=f"kit{j}",
                                                   offset_group="field-kit",
                                                   weight=1.0))
        bearings = []
        if rotator:
            rx = receivers[3]
            az = np.arange(0.0, 360.0, 15.0)
            # multipath bends the whole sweep: one bias per case, then level noise
            bias = float(rng.normal(0, 4.0))
            lev = np.array([scene.link_budget(emitter, rx, antenna_azimuth_deg=(a - bias) % 360)
                            .power_dbm for a in az]) + rng.normal(0, 1.0, az.size)
            est = estimate_bearing(az, lev, beamwidth_deg=60.0, front_to_back_db=20.0)
            bearings.append(BearingObservation(rx.position.to_geo(), est.bearing_deg,
                                               est.sigma_deg, site_id="rotator"))
        cases.append(StudyCase(tx, in_vn, tuple(levels), tuple(bearings)))
    return cases
