"""Great-circle distance and bearing between positions (spherical Earth).

The haversine formula on a sphere of the IUGG mean Earth radius (6 371 008.8 m)
is within about 0.5 % of the WGS-84 ellipsoidal distance, far inside what a
field-strength or coordination-distance check needs (border distances of
kilometres, propagation uncertainty of several dB).
"""

from __future__ import annotations

import math

from dsp.errors import ParameterError
from dsp.types import GeoPosition

__all__ = ["EARTH_RADIUS_M", "distance_m", "bearing_deg", "destination"]

EARTH_RADIUS_M = 6_371_008.8


def _check(p: GeoPosition, name: str) -> tuple[float, float]:
    if not isinstance(p, GeoPosition):
        raise ParameterError(f"{name} must be a GeoPosition; got {type(p).__name__}")
    lat, lon = float(p.lat_deg), float(p.lon_deg)
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ParameterError(f"{name}.lat_deg must be in [-90, 90]; got {p.lat_deg!r}")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ParameterError(f"{name}.lon_deg must be in [-180, 180]; got {p.lon_deg!r}")
    return math.radians(lat), math.radians(lon)


def distance_m(a: GeoPosition, b: GeoPosition) -> float:
    """Great-circle distance between two positions in metres (altitude ignored).

    Examples
    --------
    One degree of latitude:

    >>> round(distance_m(GeoPosition(21.0, 106.0), GeoPosition(22.0, 106.0)))
    111195
    """
    lat1, lon1 = _check(a, "a")
    lat2, lon2 = _check(b, "b")
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(a: GeoPosition, b: GeoPosition) -> float:
    """Initial bearing from ``a`` to ``b``, degrees clockwise from true north, [0, 360).

    Returns 0.0 when the positions coincide.

    Examples
    --------
    >>> bearing_deg(GeoPosition(21.85, 106.76), GeoPosition(22.0, 106.76))
    0.0
    >>> round(bearing_deg(GeoPosition(0.0, 0.0), GeoPosition(0.0, 1.0)), 6)
    90.0
    """
    lat1, lon1 = _check(a, "a")
    lat2, lon2 = _check(b, "b")
    dlon = lon2 - lon1
    y = math.sin(dlon) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    if x == 0.0 and y == 0.0:
        return 0.0
    return math.degrees(math.atan2(y, x)) % 360.0


def destination(origin: GeoPosition, bearing: float, dist_m: float) -> GeoPosition:
    """Position ``dist_m`` metres from ``origin`` along initial bearing ``bearing`` (deg).

    The altitude of ``origin`` is kept.

    Examples
    --------
    >>> p = destination(GeoPosition(21.85, 106.76), 45.0, 10_000.0)
    >>> round(distance_m(GeoPosition(21.85, 106.76), p), 3)
    10000.0
    """
    lat1, lon1 = _check(origin, "origin")
    if not math.isfinite(bearing):
        raise ParameterError(f"bearing must be finite; got {bearing!r}")
    if not (math.isfinite(dist_m) and dist_m >= 0):
        raise ParameterError(f"dist_m must be finite and >= 0; got {dist_m!r}")
    delta = dist_m / EARTH_RADIUS_M
    theta = math.radians(bearing)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(theta)
    )
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(lat1),
        math.cos(delta) - math.sin(lat1) * math.sin(lat2),
    )
    lon_deg = (math.degrees(lon2) + 540.0) % 360.0 - 180.0
    return GeoPosition(math.degrees(lat2), lon_deg, origin.alt_m)
