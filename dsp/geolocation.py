"""Where is the transmitter: one location from every level and bearing that heard it.

The model (received-signal-strength location with the unknowns marginalised):

- A level ``P_i`` (dB) measured at position ``r_i`` follows the log-distance law
  ``P_i = A_g - 10 n log10(|r_i - r| / 1 m) + e_i`` where ``r`` is the emitter's
  position, ``n`` the path-loss exponent and ``e_i`` shadowing, Gaussian with a
  standard deviation ``sigma_db`` (log-normal shadowing: ITU-R P.1546 and P.1812 give
  5-10 dB location variability over land). ``A_g`` is the level at 1 m for the group
  ``g`` of the observation: every calibrated (dBm) observation shares one ``A`` (the
  transmitter's EIRP less the 1 m loss); uncalibrated (dBFS) observations share an
  ``A`` per ``offset_group``, so only their level *differences* count (receivers of
  one make at one gain, or one field kit along its drive).
- A bearing ``b_j`` measured at ``q_j`` is the true bearing to ``r`` plus Gaussian
  error ``sigma_deg`` (a rotating directional antenna; its spread is measured).
- Priors: ``A_g`` flat; ``n`` Gaussian per terrain (:data:`TERRAIN_PRIORS`); ``r``
  uniform over a search area around the observers.

For each candidate ``r`` on a grid the ``A_g`` and ``n`` enter linearly, so their
marginal likelihood is exact (a Gaussian integral: the 2x2 or kxk algebra below,
done for all candidates at once). The posterior over the grid gives the estimate
(its mode), the 95 % region (the highest-posterior cells holding 95 % of the mass),
the 95 % ellipse (from the posterior covariance, scaled by chi-square with 2 degrees
of freedom) and the probability of any area, e.g. one side of a border.

Robustness: a site in a valley or a reflection breaks the Gaussian law. After a first
pass, each level is predicted from the others (left out in turn; for a drive of many
points, from the fit), those more than 3 sigma off are down-weighted (Cauchy weights:
their variance grows with the square of their residual) and named in ``outliers``, and
the posterior is computed again.

Geometry: without bearings, levels from fewer distinct places than the unknowns
(the position, one level per group, plus one), or from places all on one line (the law
is symmetric about that line), cannot fix a position; :func:`locate` then returns no
position and says why.

Everything is in a local east/north plane in metres about the observers' centroid
(equirectangular: within 0.1 % over the few tens of kilometres of a province).

>>> import numpy as np
>>> from dsp.geo import destination, distance_m
>>> tx = GeoPosition(21.85, 106.76)
>>> rng = np.random.default_rng(3)
>>> sites = [destination(tx, b, d) for b, d in ((10, 6e3), (130, 9e3), (250, 7e3), (300, 12e3))]
>>> obs = [LevelObservation(s, 40 - 30 * np.log10(distance_m(tx, s)) + rng.normal(0, 4), True)
...        for s in sites]
>>> est = locate(obs, terrain="rural")
>>> est.position is not None and distance_m(est.position, tx) < est.semi_major_m
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dsp.errors import ParameterError
from dsp.geo import EARTH_RADIUS_M
from dsp.types import GeoPosition

__all__ = [
    "TERRAIN_PRIORS",
    "PathLossPrior",
    "LevelObservation",
    "BearingObservation",
    "PositionPrior",
    "LocationEstimate",
    "locate",
    "geometry_problem",
]

#: chi-square quantile, 2 degrees of freedom, 95 %.
CHI2_2_95 = 5.991464547107979


@dataclass(frozen=True, slots=True)
class PathLossPrior:
    """Prior belief about propagation in one kind of terrain.

    ``exponent_mean``/``exponent_sd``: Gaussian prior of the path-loss exponent ``n``;
    ``shadowing_db``: standard deviation of log-normal shadowing, dB.
    """

    exponent_mean: float
    exponent_sd: float
    shadowing_db: float


#: Priors per terrain. Exponents: free space 2; open rural land 2.0-2.5; hilly or
#: forested country 2.7-3.5; built-up areas 3-4 (Rappaport, "Wireless
#: Communications", table 4.2; Hata-Okumura slopes of 3.0-3.5 for base stations of
#: 30-50 m). Shadowing 4-8 dB (ITU-R P.1546 location variability 5.5 dB at VHF/UHF
#: for broadband signals; more in hills). Editable: pass your own PathLossPrior.
TERRAIN_PRIORS: dict[str, PathLossPrior] = {
    "open": PathLossPrior(2.2, 0.3, 4.0),
    "rural": PathLossPrior(2.8, 0.5, 6.0),
    "hilly": PathLossPrior(3.2, 0.6, 8.0),
    "urban": PathLossPrior(3.5, 0.5, 8.0),
}


@dataclass(frozen=True, slots=True)
class LevelObservation:
    """A level measured at a known place.

    ``power_db`` in dBm when ``calibrated`` (all calibrated observations share one
    unknown EIRP), else dBFS: only differences within ``offset_group`` count.
    ``weight`` scales the observation's inverse variance (e.g. 1/k for one of k
    correlated points of a drive).
    """

    position: GeoPosition
    power_db: float
    calibrated: bool
    site_id: str = ""
    offset_group: str = "uncalibrated"
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class BearingObservation:
    """A bearing (degrees clockwise from true north) to the emitter from a known place."""

    position: GeoPosition
    bearing_deg: float
    sigma_deg: float
    site_id: str = ""


@dataclass(frozen=True, slots=True)
class PositionPrior:
    """An earlier estimate of the emitter's position (a field kit's own drive-test fit),
    taken as a circular Gaussian of standard deviation ``sigma_m`` per axis."""

    position: GeoPosition
    sigma_m: float
    source: str = ""


@dataclass(frozen=True)
class LocationEstimate:
    """The estimate and its 95 % region, or why there is none.

    ``position`` is ``None`` when ``reason`` says why no position can be given.
    The ellipse: ``semi_major_m``/``semi_minor_m`` and ``orientation_deg`` of the
    major axis, clockwise from north in [0, 180). ``grid_*`` hold the posterior over
    the search grid (local metres about ``origin``), for areas and maps.
    """

    position: GeoPosition | None
    semi_major_m: float
    semi_minor_m: float
    orientation_deg: float
    confidence: float
    n_sites: int
    method: str
    reason: str | None = None
    path_loss_exponent: float = float("nan")
    outliers: tuple[str, ...] = ()
    origin: GeoPosition | None = None
    grid_x_m: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    grid_y_m: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    grid_p: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    cell_area_m2: float = 0.0

    def probability(self, inside: np.ndarray) -> float:
        """Posterior probability of the cells where ``inside`` (bool per cell) is True."""
        if self.grid_p.size == 0:
            return float("nan")
        return float(self.grid_p[np.asarray(inside, dtype=bool)].sum())

    def grid_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(lat_deg, lon_deg) of every grid cell."""
        if self.origin is None:
            return np.zeros(0), np.zeros(0)
        return _to_geo_arrays(self.grid_x_m, self.grid_y_m, self.origin)

    def in_region(self) -> np.ndarray:
        """Cells of the 95 % highest-posterior region (bool per cell)."""
        if self.grid_p.size == 0:
            return np.zeros(0, dtype=bool)
        order = np.argsort(self.grid_p)[::-1]
        cum = np.cumsum(self.grid_p[order])
        keep = np.zeros(self.grid_p.size, dtype=bool)
        keep[order[: int(np.searchsorted(cum, self.confidence)) + 1]] = True
        return keep

    def contains(self, p: GeoPosition) -> bool:
        """True when ``p`` is inside the 95 % highest-posterior region."""
        if self.origin is None or self.grid_p.size == 0:
            return False
        x, y = _to_xy([p], self.origin)[0]
        k = int(np.argmin((self.grid_x_m - x) ** 2 + (self.grid_y_m - y) ** 2))
        step = math.sqrt(self.cell_area_m2)
        if (abs(self.grid_x_m[k] - x) > step or abs(self.grid_y_m[k] - y) > step):
            return False  # outside the searched area
        return bool(self.in_region()[k])

    def ellipse_contains(self, p: GeoPosition) -> bool:
        """True when ``p`` is inside the 95 % ellipse."""
        if self.position is None:
            return False
        x, y = _to_xy([p], self.position)[0]
        th = math.radians(self.orientation_deg)
        # major axis direction: (sin th, cos th) in east/north
        u = x * math.sin(th) + y * math.cos(th)
        v = x * math.cos(th) - y * math.sin(th)
        return (u / self.semi_major_m) ** 2 + (v / max(self.semi_minor_m, 1e-9)) ** 2 <= 1.0


def _to_xy(points: Sequence[GeoPosition], origin: GeoPosition) -> np.ndarray:
    lat = np.radians([p.lat_deg for p in points])
    lon = np.radians([p.lon_deg for p in points])
    c = math.cos(math.radians(origin.lat_deg))
    x = (lon - math.radians(origin.lon_deg)) * c * EARTH_RADIUS_M
    y = (lat - math.radians(origin.lat_deg)) * EARTH_RADIUS_M
    return np.stack([x, y], axis=1)


def _to_geo_arrays(x: np.ndarray, y: np.ndarray, origin: GeoPosition
                   ) -> tuple[np.ndarray, np.ndarray]:
    lat = origin.lat_deg + np.degrees(y / EARTH_RADIUS_M)
    lon = origin.lon_deg + np.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(origin.lat_deg))))
    return lat, lon


def _to_geo(x: float, y: float, origin: GeoPosition) -> GeoPosition:
    lat, lon = _to_geo_arrays(np.array([x]), np.array([y]), origin)
    return GeoPosition(float(lat[0]), float(lon[0]))


def geometry_problem(levels: Sequence[LevelObservation],
                     bearings: Sequence[BearingObservation] = (),
                     *, min_spread_m: float = 200.0) -> str | None:
    """Why these observations cannot fix a position, or ``None`` when they can.

    Levels need three places not on one line (places closer than ``min_spread_m``
    count as one); bearings need two places whose bearings are not parallel; one
    bearing plus levels from two or more places will do.
    """
    pts = [o.position for o in levels] + [b.position for b in bearings]
    if not pts:
        return "không có quan trắc / no observations"
    origin = pts[0]
    xy = _to_xy(pts, origin)
    distinct: list[np.ndarray] = []
    for p in xy:
        if all(np.hypot(*(p - q)) >= min_spread_m for q in distinct):
            distinct.append(p)
    b_xy = _to_xy([b.position for b in bearings], origin) if bearings else np.zeros((0, 2))
    b_places = {tuple(np.round(p / min_spread_m)) for p in b_xy}
    if len(distinct) == 1:
        if len(bearings) >= 1 and levels:
            return None if len(bearings) >= 2 and len(b_places) >= 2 else (
                "chỉ một trạm / one site only")
        return "chỉ một trạm / one site only"
    if len(bearings) >= 2 and len(b_places) >= 2:
        angles = np.radians([b.bearing_deg for b in bearings])
        diff = np.abs(np.sin(angles[:, None] - angles[None, :]))
        if diff.max() > math.sin(math.radians(10.0)):
            return None
    if len(bearings) >= 1 and len(distinct) >= 2:
        return None
    if len(distinct) == 2:
        return "chỉ hai điểm đo / two places only"
    n_groups = len({("cal",) if o.calibrated else ("unc", o.offset_group) for o in levels})
    if not bearings and len(distinct) < n_groups + 3:
        # unknowns: the position (2), one level per group, the exponent (held by its
        # prior only): fewer places than that leave a ridge, not a position.
        return (f"quá ít điểm đo cho công suất phát chưa biết ({len(distinct)} điểm, cần "
                f"{n_groups + 3}) / too few places for an unknown transmitter power "
                f"({len(distinct)}, need {n_groups + 3}): a field-kit drive or a bearing")
    d = np.array(distinct)
    d = d - d.mean(axis=0)
    s = np.linalg.svd(d, compute_uv=False)
    if s[1] < 0.02 * s[0]:
        return "mọi trạm trên một đường thẳng / all sites on one line"
    return None


def _level_loglik(xy: np.ndarray, p_db: np.ndarray, groups: np.ndarray, w: np.ndarray,
                  gx: np.ndarray, gy: np.ndarray, prior: PathLossPrior) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Log marginal likelihood of the levels at every candidate, and the exponent there.

    ``y = X beta + e`` with ``beta = (A_1..A_k, n)``, ``e ~ N(0, s^2 / w)``; flat
    priors on the ``A``, ``n ~ N(m, t^2)``. Integrating ``beta`` out leaves
    ``-0.5 (y'Wy/s^2 - b' L^-1 b + m^2/t^2) - 0.5 log det L`` (+ a constant), with
    ``L = P0 + X'WX/s^2`` and ``b = P0 m0 + X'Wy/s^2``.
    """
    s2 = prior.shadowing_db**2
    k = int(groups.max()) + 1
    dx = gx[:, None] - xy[None, :, 0]
    dy = gy[:, None] - xy[None, :, 1]
    # 10 m floor: the law does not hold in the near field, and a candidate must not
    # win by sitting on an observer.
    u = -10.0 * np.log10(np.maximum(np.hypot(dx, dy), 10.0))  # (cand, obs)
    g1 = np.zeros((groups.size, k))
    g1[np.arange(groups.size), groups] = 1.0
    wg = g1 * w[:, None]  # (obs, k)
    # L blocks: A-A: diag(sum w) (constant), A-n: sum_i w u over each group, n-n: sum w u^2
    aa = np.diag(wg.sum(axis=0)) / s2  # (k, k)
    an = (u @ wg) / s2  # (cand, k)
    nn = (u**2 @ w) / s2 + 1.0 / prior.exponent_sd**2  # (cand,)
    ya = (wg.T @ p_db) / s2  # (k,)
    yn = (u @ (w * p_db)) / s2 + prior.exponent_mean / prior.exponent_sd**2  # (cand,)
    # Schur complement on the A block (diagonal, constant): exact and vectorised.
    aa_inv = 1.0 / np.diag(aa)
    schur = nn - (an**2 * aa_inv).sum(axis=1)  # (cand,)
    rhs_n = yn - (an * (ya * aa_inv)).sum(axis=1)
    n_hat = rhs_n / schur
    quad_a = (ya**2 * aa_inv).sum()  # b_A' AA^-1 b_A
    quad = quad_a + rhs_n**2 / schur  # b' L^-1 b via the block inverse
    yy = (w * p_db**2).sum() / s2
    ll = -0.5 * (yy - quad + prior.exponent_mean**2 / prior.exponent_sd**2) \
        - 0.5 * np.log(schur)
    return ll, n_hat


def _fit_at(xy: np.ndarray, p_db: np.ndarray, groups: np.ndarray, w: np.ndarray,
            x: float, y: float, n: float) -> np.ndarray:
    """Residuals of every level at emitter (x, y) with exponent ``n`` (levels per group
    fitted)."""
    u = -10.0 * np.log10(np.maximum(np.hypot(xy[:, 0] - x, xy[:, 1] - y), 10.0))
    r = p_db - n * u
    for g in np.unique(groups):
        sel = groups == g
        r[sel] -= np.average(r[sel], weights=w[sel])
    return r


def _outlier_scores(xy: np.ndarray, p_db: np.ndarray, groups: np.ndarray, w: np.ndarray,
                    gx: np.ndarray, gy: np.ndarray, post: np.ndarray, prior: PathLossPrior,
                    centre: np.ndarray, half: float) -> np.ndarray:
    """|residual| / sigma of each level, where the level itself had no say.

    A site in a valley (or one seeing a reflection) pulls a least-squares fit towards
    explaining it, so its own residual at the fit is small. For a few sites each one is
    left out in turn (a coarse grid is enough) and its level predicted from the others;
    for many (a drive: one point cannot pull the fit far) the residual at the fit is used.
    """
    z = np.zeros(p_db.size)
    if p_db.size > 16:
        k = int(np.argmax(post))
        _, n1 = _level_loglik(xy, p_db, groups, w, gx[k:k + 1], gy[k:k + 1], prior)
        return np.abs(_fit_at(xy, p_db, groups, w, gx[k], gy[k], float(n1[0]))) \
            / prior.shadowing_db
    cgx, cgy, _ = _grid(centre, half, 61)
    for i in range(p_db.size):
        keep = np.arange(p_db.size) != i
        if np.count_nonzero(groups[keep] == groups[i]) < 2:
            continue  # nothing left to compare its level with
        ll, n_hat = _level_loglik(xy[keep], p_db[keep], groups[keep], w[keep], cgx, cgy, prior)
        k = int(np.argmax(ll))
        w_i = w.copy()
        w_i[i] = 0.0
        r = _fit_at(xy, p_db, groups, w_i + 1e-12 * (~keep), cgx[k], cgy[k], float(n_hat[k]))
        z[i] = abs(r[i]) / (prior.shadowing_db * math.sqrt(2.0))  # prediction error too
    return z


def _bearing_loglik(b_xy: np.ndarray, b_deg: np.ndarray, b_sd: np.ndarray,
                    gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    to = np.degrees(np.arctan2(gx[:, None] - b_xy[None, :, 0], gy[:, None] - b_xy[None, :, 1]))
    err = (to - b_deg[None, :] + 180.0) % 360.0 - 180.0
    return -0.5 * ((err / b_sd[None, :]) ** 2).sum(axis=1)


def _posterior(ll: np.ndarray) -> np.ndarray:
    p = np.exp(ll - ll.max())
    return p / p.sum()


def _grid(centre: np.ndarray, half_m: float, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    xs = np.linspace(centre[0] - half_m, centre[0] + half_m, n)
    ys = np.linspace(centre[1] - half_m, centre[1] + half_m, n)
    gx, gy = np.meshgrid(xs, ys)
    return gx.ravel(), gy.ravel(), float((xs[1] - xs[0]) * (ys[1] - ys[0]))


def locate(
    levels: Sequence[LevelObservation],
    bearings: Sequence[BearingObservation] = (),
    *,
    priors: Sequence[PositionPrior] = (),
    terrain: str | PathLossPrior = "rural",
    search_margin_m: float = 30_000.0,
    grid_n: int = 121,
    confidence: float = 0.95,
) -> LocationEstimate:
    """Locate one emitter from levels and bearings (see the module notes for the model).

    Parameters
    ----------
    levels, bearings:
        What every site and field-kit point measured of the same emission.
    priors:
        Earlier position estimates to combine (e.g. a field kit's drive-test fit).
    terrain:
        A key of :data:`TERRAIN_PRIORS` or a :class:`PathLossPrior`.
    search_margin_m:
        How far beyond the observers the emitter may be, metres.
    grid_n:
        Grid cells per axis of each of the two passes (coarse over the whole area,
        fine around the posterior).
    confidence:
        Of the region and ellipse (0.95).

    Returns
    -------
    LocationEstimate
        With ``position`` None and ``reason`` set when the geometry cannot fix one.
    """
    prior = TERRAIN_PRIORS.get(terrain) if isinstance(terrain, str) else terrain
    if prior is None:
        raise ParameterError(f"terrain must be one of {sorted(TERRAIN_PRIORS)}, got {terrain!r}")
    if not 0.5 < confidence < 1.0:
        raise ParameterError(f"confidence must be in (0.5, 1), got {confidence!r}")
    for i, o in enumerate(levels):
        if not (math.isfinite(o.power_db) and math.isfinite(o.weight) and o.weight > 0):
            raise ParameterError(f"levels[{i}]: power_db and weight must be finite (weight > 0)")
    for i, b in enumerate(bearings):
        if not (math.isfinite(b.bearing_deg) and math.isfinite(b.sigma_deg) and b.sigma_deg > 0):
            raise ParameterError(f"bearings[{i}]: bearing_deg and sigma_deg must be finite, "
                                 "sigma_deg > 0")
    sites = {o.site_id or f"{o.position.lat_deg:.4f},{o.position.lon_deg:.4f}" for o in levels}
    sites |= {b.site_id or f"{b.position.lat_deg:.4f},{b.position.lon_deg:.4f}" for b in bearings}
    for i, q in enumerate(priors):
        if not (math.isfinite(q.sigma_m) and q.sigma_m > 0):
            raise ParameterError(f"priors[{i}]: sigma_m must be finite and > 0")
    sites |= {q.source or f"prior{i}" for i, q in enumerate(priors)}
    method = "+".join(m for m, on in (("rss", bool(levels)), ("bearing", bool(bearings)),
                                      ("drive_fit", bool(priors))) if on)
    why = None if priors else geometry_problem(levels, bearings)
    if why is not None:
        return LocationEstimate(None, float("nan"), float("nan"), float("nan"), confidence,
                                len(sites), method or "none", reason=why)

    pts = ([o.position for o in levels] + [b.position for b in bearings]
           + [q.position for q in priors])
    lat0 = float(np.mean([p.lat_deg for p in pts]))
    lon0 = float(np.mean([p.lon_deg for p in pts]))
    origin = GeoPosition(lat0, lon0)
    xy = _to_xy([o.position for o in levels], origin) if levels else np.zeros((0, 2))
    b_xy = _to_xy([b.position for b in bearings], origin) if bearings else np.zeros((0, 2))
    p_db = np.array([o.power_db for o in levels], dtype=np.float64)
    w = np.array([o.weight for o in levels], dtype=np.float64)
    keys = [("cal",) if o.calibrated else ("unc", o.offset_group) for o in levels]
    index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    groups = np.array([index[k] for k in keys], dtype=np.int64)
    b_deg = np.array([b.bearing_deg for b in bearings], dtype=np.float64)
    b_sd = np.array([b.sigma_deg for b in bearings], dtype=np.float64)
    q_xy = _to_xy([q.position for q in priors], origin) if priors else np.zeros((0, 2))
    q_sd = np.array([q.sigma_m for q in priors], dtype=np.float64)

    all_xy = np.concatenate([xy, b_xy, q_xy])
    lo, hi = all_xy.min(axis=0), all_xy.max(axis=0)
    centre = (lo + hi) / 2
    half = float(max(hi - lo) / 2 + search_margin_m)

    def loglik(gx: np.ndarray, gy: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray,
                                                                             np.ndarray]:
        ll = np.zeros(gx.size)
        n_hat = np.full(gx.size, np.nan)
        if levels:
            ll_l, n_hat = _level_loglik(xy, p_db, groups, weights, gx, gy, prior)
            ll = ll + ll_l
        if bearings:
            ll = ll + _bearing_loglik(b_xy, b_deg, b_sd, gx, gy)
        for (qx, qy), sd in zip(q_xy, q_sd, strict=True):
            ll = ll - 0.5 * ((gx - qx) ** 2 + (gy - qy) ** 2) / sd**2
        return ll, n_hat

    def solve(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float,
                                            np.ndarray]:
        gx, gy, cell = _grid(centre, half, grid_n)
        ll, _ = loglik(gx, gy, weights)
        post = _posterior(ll)
        # fine pass over the area holding (nearly) all the mass
        keep = post > post.max() * 1e-6
        fx0, fx1 = gx[keep].min(), gx[keep].max()
        fy0, fy1 = gy[keep].min(), gy[keep].max()
        step = math.sqrt(cell)
        span = max(fx1 - fx0, fy1 - fy0) / 2 + 2 * step
        fgx, fgy, fcell = _grid(np.array([(fx0 + fx1) / 2, (fy0 + fy1) / 2]), span, grid_n)
        if fcell < cell:
            gx, gy, cell = fgx, fgy, fcell
        ll, n_hat = loglik(gx, gy, weights)
        post = _posterior(ll)
        for _ in range(3):
            # a posterior still packed into a few cells: zoom in on it again
            if np.count_nonzero(post > post.max() * 1e-3) >= 100:
                break
            k = int(np.argmax(post))
            d = np.stack([gx - gx[k], gy - gy[k]])
            spread = math.sqrt(max(float(np.trace((d * post) @ d.T)), cell / 6))
            span = max(5.0 * spread, 2.0 * math.sqrt(cell))
            gx, gy, cell = _grid(np.array([gx[k], gy[k]]), span, grid_n)
            ll, n_hat = loglik(gx, gy, weights)
            post = _posterior(ll)
        return gx, gy, post, cell, n_hat

    gx, gy, post, cell, n_hat = solve(w)
    outliers: tuple[str, ...] = ()
    if levels and len(levels) >= 5:
        z = _outlier_scores(xy, p_db, groups, w, gx, gy, post, prior, centre, half)
        bad = z > 3.0
        if bad.any():
            w2 = w.copy()
            # Cauchy weights: an outlier's variance grows with the square of its residual,
            # so a valley 30 dB down moves the estimate little.
            w2[bad] = w[bad] * 2.0 / (1.0 + z[bad] ** 2)
            outliers = tuple(levels[i].site_id or str(i) for i in np.flatnonzero(bad))
            gx, gy, post, cell, n_hat = solve(w2)

    # The estimate is the posterior's mode (the most likely place): with a flat prior
    # on the transmitter's power the posterior has a long tail away from the
    # observers, and its mean can sit where the emitter is unlikely to be. The
    # region is centred on the mode too: second moments about it.
    k_mode = int(np.argmax(post))
    mx, my = float(gx[k_mode]), float(gy[k_mode])
    d0 = np.stack([gx - mx, gy - my])
    cov = (d0 * post) @ d0.T
    cov = cov + np.eye(2) * cell / 12.0  # the grid's own quantisation
    evals, evecs = np.linalg.eigh(cov)
    # The ellipse of the covariance's shape that holds `confidence` of the posterior
    # mass (for a Gaussian posterior this is the chi-square scale, 5.99 at 95 %; a
    # skewed or two-lobed posterior needs its own, else the ellipse over-covers).
    d = np.stack([gx - mx, gy - my])
    m2 = np.einsum("in,ij,jn->n", d, np.linalg.inv(cov), d)
    order = np.argsort(m2)
    cum = np.cumsum(post[order])
    scale = float(m2[order][min(int(np.searchsorted(cum, confidence)), m2.size - 1)])
    # Never below the Gaussian's own scale: a posterior packed into a few grid cells
    # reaches 95 % at the first ones, and its ellipse would shrink to nothing.
    scale = max(scale, -2.0 * math.log(1.0 - confidence))
    semi_minor, semi_major = (math.sqrt(max(v, 0.0) * scale) for v in evals)
    major = evecs[:, 1]
    orientation = math.degrees(math.atan2(major[0], major[1])) % 180.0
    n_mean = float(np.nansum(post * n_hat)) if levels else float("nan")
    return LocationEstimate(
        position=_to_geo(mx, my, origin),
        semi_major_m=semi_major,
        semi_minor_m=semi_minor,
        orientation_deg=orientation,
        confidence=confidence,
        n_sites=len(sites),
        method=method,
        path_loss_exponent=n_mean,
        outliers=outliers,
        origin=origin,
        grid_x_m=gx,
        grid_y_m=gy,
        grid_p=post,
        cell_area_m2=cell,
    )
