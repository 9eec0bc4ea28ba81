"""Emitter position from drive-test RSSI: a log-distance path-loss fit.

Model: received power ``P_i = A - 10 n log10(d_i / 1 m) + e_i`` where ``d_i`` is
the distance from the (unknown) emitter to measurement point ``i``, ``A`` the power
at 1 m, ``n`` the path-loss exponent and ``e_i`` shadowing (Gaussian, in dB). For a
candidate emitter position, ``A`` and ``n`` follow from linear least squares; the
estimate is the candidate with the least squared error, searched on a coarse grid
over the area around the route and refined on a fine one. Works in dBFS or dBm:
only differences of power matter.

Uncertainty: with ``s^2`` the residual variance at the best fit (but at least
``(sigma_floor_db)^2``: real drive tests see several dB of shadowing and multipath,
and a fit closer than that is luck, not precision), the candidates whose error
exceeds the best by less than ``s^2 * chi2_2(0.95)`` (= 5.99, two position
parameters) form the 95 % region; ``radius_m`` is the largest distance
from the estimate to any point of it, plus half a grid step. A route that does not
surround the emitter gives a long, one-sided region and so a large radius: that is
the honest answer.

>>> import numpy as np
>>> from dsp.geo import destination
>>> tx = GeoPosition(21.85, 106.76)
>>> rng = np.random.default_rng(1)
>>> pts = [destination(tx, b, d) for b, d in zip(rng.uniform(0, 360, 40),
...                                                rng.uniform(300, 3000, 40))]
>>> d = np.array([distance_m(tx, p) for p in pts])
>>> p_db = -20 - 30 * np.log10(d) + rng.normal(0, 2, 40)
>>> est = estimate_emitter(pts, p_db)
>>> bool(distance_m(est.position, tx) < est.radius_m < 1500)
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsp.geo import EARTH_RADIUS_M, distance_m
from dsp.types import GeoPosition

__all__ = ["LocationEstimate", "estimate_emitter"]

#: chi-square, 2 degrees of freedom, 95 %.
_CHI2_2_95 = 5.991
_N_MIN, _N_MAX = 1.6, 6.0


@dataclass(frozen=True, slots=True)
class LocationEstimate:
    position: GeoPosition
    radius_m: float
    path_loss_exponent: float
    power_at_1m_db: float
    rms_error_db: float
    n_points: int


def _to_xy(points: Sequence[GeoPosition], lat0: float, lon0: float) -> np.ndarray:
    """Local east/north metres (equirectangular; fine over a few tens of km)."""
    lat = np.radians([p.lat_deg for p in points])
    lon = np.radians([p.lon_deg for p in points])
    x = (lon - math.radians(lon0)) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M
    y = (lat - math.radians(lat0)) * EARTH_RADIUS_M
    return np.stack([x, y], axis=1)


def _to_geo(x: float, y: float, lat0: float, lon0: float) -> GeoPosition:
    lat = lat0 + math.degrees(y / EARTH_RADIUS_M)
    lon = lon0 + math.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
    return GeoPosition(lat, lon)


def _sse_grid(xy: np.ndarray, p_db: np.ndarray, gx: np.ndarray, gy: np.ndarray):  # noqa: ANN202
    """Least-squares error, A and n for every candidate (gx, gy) (vectorised)."""
    dx = gx.reshape(-1, 1) - xy[:, 0]
    dy = gy.reshape(-1, 1) - xy[:, 1]
    # 10 m floor: the fit must not reward sitting on a measurement point.
    u = -10.0 * np.log10(np.maximum(np.hypot(dx, dy), 10.0))  # (cand, points)
    u_mean = u.mean(axis=1, keepdims=True)
    p_mean = p_db.mean()
    uc = u - u_mean
    pc = p_db - p_mean
    var_u = (uc**2).sum(axis=1)
    n = np.where(var_u > 0, (uc * pc).sum(axis=1) / np.maximum(var_u, 1e-12), _N_MIN)
    n = np.clip(n, _N_MIN, _N_MAX)  # physically plausible exponents only
    a = p_mean - n * u_mean[:, 0]
    resid = p_db - (a[:, None] + n[:, None] * u)
    return (resid**2).sum(axis=1), a, n


def estimate_emitter(
    points: Sequence[GeoPosition],
    power_db: Sequence[float] | np.ndarray,
    *,
    margin_m: float = 5000.0,
    coarse: int = 61,
    fine: int = 41,
    sigma_floor_db: float = 3.0,
) -> LocationEstimate:
    """Estimate an emitter's position from received powers at known points.

    Parameters
    ----------
    points:
        Measurement positions (at least 4).
    power_db:
        Received power at each point (dBFS or dBm; one unit throughout).
    margin_m:
        How far beyond the route's bounding box the emitter may be, metres.
    coarse, fine:
        Grid sizes of the two search passes (per axis).
    sigma_floor_db:
        Smallest residual spread (dB) assumed for the uncertainty region.

    Raises
    ------
    ValueError
        Fewer than 4 points, lengths differ, or non-finite powers.
    """
    p = np.asarray(power_db, dtype=np.float64)
    if len(points) != p.size:
        raise ValueError(f"points ({len(points)}) and power_db ({p.size}) differ in length")
    if p.size < 4:
        raise ValueError(f"need at least 4 points, got {p.size}")
    if not np.all(np.isfinite(p)):
        raise ValueError("power_db holds NaN or infinite values")
    lat0 = float(np.mean([q.lat_deg for q in points]))
    lon0 = float(np.mean([q.lon_deg for q in points]))
    xy = _to_xy(points, lat0, lon0)
    lo = xy.min(axis=0) - margin_m
    hi = xy.max(axis=0) + margin_m
    xs = np.linspace(lo[0], hi[0], coarse)
    ys = np.linspace(lo[1], hi[1], coarse)
    gx, gy = np.meshgrid(xs, ys)
    sse_c, _, _ = _sse_grid(xy, p, gx.ravel(), gy.ravel())
    best = int(np.argmin(sse_c))
    step = max(xs[1] - xs[0], ys[1] - ys[0])
    fx = np.linspace(gx.ravel()[best] - 2 * step, gx.ravel()[best] + 2 * step, fine)
    fy = np.linspace(gy.ravel()[best] - 2 * step, gy.ravel()[best] + 2 * step, fine)
    fgx, fgy = np.meshgrid(fx, fy)
    sse_f, a_f, n_f = _sse_grid(xy, p, fgx.ravel(), fgy.ravel())
    k = int(np.argmin(sse_f))
    bx, by = float(fgx.ravel()[k]), float(fgy.ravel()[k])
    dof = max(1, p.size - 4)
    s2 = max(float(sse_f[k]) / dof, sigma_floor_db**2)
    limit = float(sse_f[k]) + _CHI2_2_95 * s2
    # The 95 % region, from both grids (the coarse one sees far-away lobes).
    all_x = np.concatenate([gx.ravel(), fgx.ravel()])
    all_y = np.concatenate([gy.ravel(), fgy.ravel()])
    all_sse = np.concatenate([sse_c, sse_f])
    inside = all_sse <= limit
    reach = np.hypot(all_x[inside] - bx, all_y[inside] - by)
    fine_step = max(fx[1] - fx[0], fy[1] - fy[0])
    grid_half = (step if np.any(reach > 2 * step) else fine_step) / 2
    radius = float(reach.max(initial=0.0)) + grid_half
    position = _to_geo(bx, by, lat0, lon0)
    return LocationEstimate(
        position=position,
        radius_m=radius,
        path_loss_exponent=float(n_f[k]),
        power_at_1m_db=float(a_f[k]),
        rms_error_db=math.sqrt(float(sse_f[k]) / p.size),
        n_points=int(p.size),
    )


def route_spread_m(points: Sequence[GeoPosition]) -> float:
    """Largest distance between the first point and any other (how far the route went)."""
    if len(points) < 2:
        return 0.0
    return max(distance_m(points[0], q) for q in points[1:])
