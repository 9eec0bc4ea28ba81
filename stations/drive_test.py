"""Drive tests of a field kit: GPS-tagged channel powers in, emitter positions out.

The position fit itself is :func:`stations.locate.estimate_emitter` (pure); this
module decides which sightings count and when an estimate is due.
"""

from __future__ import annotations

from dsp.types import GeoPosition
from stations.batch import ChannelPowerItem, Item, LocationItem
from stations.config import LocateConfig
from stations.locate import estimate_emitter, route_spread_m

__all__ = ["DriveTestLocator"]


class DriveTestLocator:
    """Collect GPS-tagged channel powers (a drive test's RSSI); estimate where emitters are.

    Each watched channel is one emitter (optionally only ``targets_f_hz``); only
    sightings at or above ``min_power_db`` count (the emitter was on the air). An
    estimate is made once ``min_points`` points spread over ``min_spread_m`` metres,
    and again each time the points grow by a quarter. Channel powers come from a
    fixed-gain channel watch, so they compare across the route (AGC powers do not).
    """

    def __init__(self, config: LocateConfig) -> None:
        self.config = config
        self._tracks: dict[float, list[tuple[GeoPosition, float, int]]] = {}
        self._last_n: dict[float, int] = {}

    def observe(self, item: Item) -> None:
        if not isinstance(item, ChannelPowerItem) or item.position is None:
            return
        if item.position.source != "gps":
            return
        floor = self.config.min_power_db
        if floor is not None and item.power_db < floor:
            return
        key = self._key(item.f_hz)
        if key is None:
            return
        pos = GeoPosition(item.position.lat_deg, item.position.lon_deg)
        self._tracks.setdefault(key, []).append((pos, item.power_db, item.t_ns))

    def _key(self, f_hz: float) -> float | None:
        tol = self.config.match_hz
        if self.config.targets_f_hz:
            near = [t for t in self.config.targets_f_hz if abs(t - f_hz) <= tol]
            return near[0] if near else None
        for key in self._tracks:
            if abs(key - f_hz) <= tol:
                return key
        return f_hz

    def estimates(self, t_ns: int, *, final: bool = False) -> list[LocationItem]:
        """New estimates; ``final``: one from every point so far (at the end of a drive)."""
        out = []
        for key, track in self._tracks.items():
            n = len(track)
            grown = n > self._last_n.get(key, 0) if final else n >= 1.25 * self._last_n.get(key, 0)
            if n < self.config.min_points or not grown:
                continue
            points = [p for p, _, _ in track]
            if route_spread_m(points) < self.config.min_spread_m:
                continue
            est = estimate_emitter(points, [p for _, p, _ in track])
            self._last_n[key] = n
            out.append(
                LocationItem(
                    f_hz=key,
                    lat_deg=est.position.lat_deg,
                    lon_deg=est.position.lon_deg,
                    radius_m=est.radius_m,
                    n_points=est.n_points,
                    path_loss_exponent=est.path_loss_exponent,
                    rms_error_db=est.rms_error_db,
                    t_ns=t_ns,
                )
            )
        return out
