"""Distances and predicted field strength for the rules, in the units compliance uses.

Thin wrappers over ``dsp.geo.distance_m`` (haversine, IUGG mean radius) and
``dsp.units.field_strength_from_erp_dbuv_m`` (free space, ERP referred to a
half-wave dipole: E(dBµV/m) = 106.9 + 10 log10(ERP / kW) - 20 log10(d / km)).
Free space is the upper bound of a real path, which is why ``power_exceeded`` may
compare a measurement with it (plus a margin) without false alarms.
"""

from __future__ import annotations

from dsp.geo import distance_m
from dsp.types import GeoPosition
from dsp.units import field_strength_from_erp_dbuv_m

__all__ = ["haversine_km", "free_space_field_dbuv_m"]


def haversine_km(a: GeoPosition, b: GeoPosition) -> float:
    """Great-circle distance between two positions, km.

    Examples
    --------
    >>> round(haversine_km(GeoPosition(0.0, 0.0), GeoPosition(0.0, 1.0)), 3)
    111.195
    """
    return distance_m(a, b) / 1000.0


def free_space_field_dbuv_m(erp_w: float, distance_km: float) -> float:
    """Free-space field strength (dBµV/m) of ``erp_w`` watts ERP at ``distance_km``.

    Distances under 1 m are taken as 1 m (the formula is far-field only).

    Examples
    --------
    >>> round(free_space_field_dbuv_m(1000.0, 1.0), 2)
    106.92
    """
    return float(field_strength_from_erp_dbuv_m(erp_w, max(distance_km * 1000.0, 1.0)))
