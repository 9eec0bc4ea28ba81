"""Distance from a monitoring site to the border line (``compliance/data/border_vn_cn.yaml``).

The line is a polyline of (lat, lon) points. The distance to it is the smallest
distance to any of its segments, each measured in a local equirectangular projection
centred on the site (x = R cos(lat0) dlon, y = R dlat). Over the tens of kilometres
that matter here that projection is good to far better than the line's own stated
accuracy (about 0.5 km for Natural Earth 1:10m), which every verdict must carry.
A site beyond either end of the stretch gets the distance to the nearest end point,
an upper bound of the true distance to the whole border.
"""

from __future__ import annotations

import math

from compliance.reference import BorderLine
from dsp.geo import EARTH_RADIUS_M
from dsp.types import GeoPosition

__all__ = ["distance_to_line_km"]


def _segment_distance_m(px: float, py: float, ax: float, ay: float, bx: float,
                        by: float) -> float:
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy)
                                                 / length2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def distance_to_line_km(site: GeoPosition, line: BorderLine) -> float:
    """Shortest distance (km) from ``site`` to the border polyline ``line``.

    Examples
    --------
    >>> from compliance.reference import BorderLine
    >>> line = BorderLine(id="t", name="t", points=((22.0, 106.0), (22.0, 107.0)),
    ...                   accuracy_m=1.0, source="test", licence="test")
    >>> round(distance_to_line_km(GeoPosition(21.9, 106.5), line), 2)  # 0.1 deg of lat
    11.12
    """
    lat0 = math.radians(site.lat_deg)
    kx = EARTH_RADIUS_M * math.cos(lat0) * math.pi / 180.0
    ky = EARTH_RADIUS_M * math.pi / 180.0

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (lon - site.lon_deg) * kx, (lat - site.lat_deg) * ky

    pts = [xy(lat, lon) for lat, lon in line.points]
    best = min(_segment_distance_m(0.0, 0.0, *a, *b) for a, b in zip(pts, pts[1:],
                                                                       strict=False))
    return best / 1000.0
