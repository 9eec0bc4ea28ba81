"""Path loss between an emitter and a receiver: free space or log-distance.

- Distance: great-circle (haversine, mean Earth radius) combined with the height
  difference, at least 1 m.
- Free space (ITU-R P.525): ``L = 20 log10(d_m) + 20 log10(f_hz) - 147.55`` dB.
- Log-distance: free space up to ``reference_distance_m``, then
  ``L(d) = L_fs(d0) + 10 n log10(d / d0)`` with exponent ``n``.
- Field strength from the power an isotropic (0 dBi) antenna would deliver into 50 ohm:
  ``E(dBuV/m) = P_iso(dBm) + 20 log10(f_MHz) + 77.2`` (DOMAIN.md A: E = P + 107 + AF,
  AF of a 0 dBi antenna = 20 log10(f_MHz) - 29.77).
"""

from __future__ import annotations

import math

from dsp.types import GeoPosition

__all__ = [
    "EARTH_RADIUS_M",
    "distance_m",
    "free_space_loss_db",
    "log_distance_loss_db",
    "field_strength_dbuv_m",
]

EARTH_RADIUS_M = 6_371_008.8
_C_M_S = 299_792_458.0


def distance_m(a: GeoPosition, b: GeoPosition) -> float:
    """3-D distance (m): haversine ground distance and the altitude difference, >= 1 m."""
    lat1, lat2 = math.radians(a.lat_deg), math.radians(b.lat_deg)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon_deg - a.lon_deg)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    ground_m = 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
    dz_m = (a.alt_m or 0.0) - (b.alt_m or 0.0)
    return max(1.0, math.hypot(ground_m, dz_m))


def free_space_loss_db(d_m: float, f_hz: float) -> float:
    """Free-space basic transmission loss (dB) over ``d_m`` metres at ``f_hz``."""
    return 20 * math.log10(4 * math.pi * max(d_m, 1.0) * f_hz / _C_M_S)


def log_distance_loss_db(
    d_m: float, f_hz: float, exponent: float, reference_distance_m: float
) -> float:
    """Log-distance loss (dB): free space to ``reference_distance_m``, then ``exponent``."""
    d0 = reference_distance_m
    if d_m <= d0:
        return free_space_loss_db(d_m, f_hz)
    return free_space_loss_db(d0, f_hz) + 10 * exponent * math.log10(d_m / d0)


def field_strength_dbuv_m(p_iso_dbm: float, f_hz: float) -> float:
    """Field strength (dBuV/m) from the power (dBm) an isotropic antenna delivers."""
    return p_iso_dbm + 20 * math.log10(f_hz / 1e6) + 77.2
