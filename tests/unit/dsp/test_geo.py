"""Great-circle distance and bearing: analytic cases and a round trip."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import ParameterError
from dsp.geo import EARTH_RADIUS_M, bearing_deg, destination, distance_m
from dsp.types import GeoPosition


def test_analytic_distances() -> None:
    one_degree = EARTH_RADIUS_M * math.pi / 180
    assert distance_m(GeoPosition(0, 0), GeoPosition(0, 1)) == pytest.approx(one_degree)
    assert distance_m(GeoPosition(21, 106), GeoPosition(22, 106)) == pytest.approx(one_degree)
    assert distance_m(GeoPosition(0, 0), GeoPosition(0, 180)) == pytest.approx(
        math.pi * EARTH_RADIUS_M
    )
    assert distance_m(GeoPosition(90, 0), GeoPosition(-90, 0)) == pytest.approx(
        math.pi * EARTH_RADIUS_M
    )
    p = GeoPosition(21.8537, 106.7615)
    assert distance_m(p, p) == 0.0
    # Along a parallel at latitude phi, a small longitude step is R cos(phi) dlon.
    d = distance_m(GeoPosition(60, 10), GeoPosition(60, 10.001))
    assert d == pytest.approx(EARTH_RADIUS_M * 0.5 * math.radians(0.001), rel=1e-6)


@pytest.mark.parametrize(
    ("to", "expected"),
    [((1, 0), 0.0), ((0, 1), 90.0), ((-1, 0), 180.0), ((0, -1), 270.0)],
)
def test_cardinal_bearings(to: tuple[float, float], expected: float) -> None:
    assert bearing_deg(GeoPosition(0, 0), GeoPosition(*to)) == pytest.approx(expected, abs=1e-9)


def test_bearing_is_not_symmetric_on_a_great_circle() -> None:
    a, b = GeoPosition(50, -5), GeoPosition(50, 40)
    # Going east at 50 N, a great circle starts north of east and ends south of it.
    assert bearing_deg(a, b) < 90 < (bearing_deg(b, a) + 180) % 360


@settings(max_examples=100, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-180, 180),
    brg=st.floats(0, 359.999),
    dist=st.floats(10.0, 2_000_000.0),
)
def test_destination_round_trip(lat: float, lon: float, brg: float, dist: float) -> None:
    origin = GeoPosition(lat, lon, 120.0)
    p = destination(origin, brg, dist)
    assert p.alt_m == 120.0 and -180 <= p.lon_deg <= 180
    assert distance_m(origin, p) == pytest.approx(dist, rel=1e-6, abs=1e-3)
    diff = (bearing_deg(origin, p) - brg + 180) % 360 - 180
    assert abs(diff) < 1e-4


def test_bad_positions_are_refused() -> None:
    with pytest.raises(ValueError, match=r"a.lat_deg must be in \[-90, 90\]"):
        distance_m(GeoPosition(91, 0), GeoPosition(0, 0))
    with pytest.raises(ValueError, match=r"b.lon_deg must be in \[-180, 180\]"):
        bearing_deg(GeoPosition(0, 0), GeoPosition(0, 200))
    with pytest.raises(ParameterError, match="a must be a GeoPosition"):
        distance_m((0, 0), GeoPosition(0, 0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dist_m must be finite and >= 0"):
        destination(GeoPosition(0, 0), 10.0, -1.0)
