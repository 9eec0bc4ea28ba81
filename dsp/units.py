"""Unit conversions for RF power, voltage and field strength.

Every function works on Python floats and on NumPy arrays alike (element-wise).

Conventions and sources
-----------------------
- ``dBm`` is dB relative to 1 mW; ``dBuV`` relative to 1 microvolt (RMS) across the
  receiver's input impedance; ``dBuV/m`` relative to 1 microvolt per metre.
- V(dBuV) = P(dBm) + 10 log10(Z / ohm) + 90, i.e. + 106.99 (about 107) at 50 ohm
  (DOMAIN.md section A).
- A half-wave dipole has a gain of 2.15 dBi, so EIRP = ERP + 2.15 dB.
- Free-space field strength of an isotropic radiator: E = sqrt(30 * EIRP) / d (V/m,
  W, m), which for ERP in kW and d in km gives the figure ITU-R P.1546 (Annex 5,
  "free-space field strength") and P.525 quote:
  E(dBuV/m) = 106.9 + 10 log10(ERP / kW) - 20 log10(d / km).
- Free-space basic transmission loss (ITU-R P.525): L = 20 log10(4 pi d f / c).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from dsp.errors import ParameterError

__all__ = [
    "SPEED_OF_LIGHT_M_S",
    "DIPOLE_GAIN_DBI",
    "db_to_lin",
    "lin_to_db",
    "dbm_to_w",
    "w_to_dbm",
    "dbm_to_dbuv",
    "dbuv_to_dbm",
    "dbuv_m_to_dbm",
    "erp_to_eirp",
    "eirp_to_erp",
    "free_space_path_loss_db",
    "field_strength_from_erp_dbuv_m",
    "field_strength_from_eirp_dbuv_m",
]

SPEED_OF_LIGHT_M_S = 299_792_458.0
DIPOLE_GAIN_DBI = 2.15
"""Gain of a half-wave dipole over an isotropic antenna (ERP -> EIRP)."""

Number = float | np.ndarray


def _out(x: np.ndarray) -> Number:
    return float(x) if x.ndim == 0 else x


def _arr(x: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be a number or an array of numbers") from err
    return arr


def _positive(x: ArrayLike, name: str) -> np.ndarray:
    arr = _arr(x, name)
    if np.any(~(arr > 0)):
        raise ParameterError(f"{name} must be positive")
    return arr


def db_to_lin(db: ArrayLike) -> Number:
    """Power ratio from dB: ``10 ** (db / 10)``.

    Examples
    --------
    >>> db_to_lin(3.0)
    1.9952623149688795
    """
    return _out(np.power(10.0, _arr(db, "db") / 10.0))


def lin_to_db(ratio: ArrayLike) -> Number:
    """dB from a power ratio: ``10 * log10(ratio)``; ``ratio`` must be positive.

    Examples
    --------
    >>> lin_to_db(100.0)
    20.0
    """
    return _out(10.0 * np.log10(_positive(ratio, "ratio")))


def dbm_to_w(power_dbm: ArrayLike) -> Number:
    """Watts from dBm.

    Examples
    --------
    >>> dbm_to_w(30.0)
    1.0
    """
    return _out(np.power(10.0, (_arr(power_dbm, "power_dbm") - 30.0) / 10.0))


def w_to_dbm(power_w: ArrayLike) -> Number:
    """dBm from watts (positive).

    Examples
    --------
    >>> w_to_dbm(0.001)
    0.0
    """
    return _out(10.0 * np.log10(_positive(power_w, "power_w")) + 30.0)


def dbm_to_dbuv(power_dbm: ArrayLike, impedance_ohm: float = 50.0) -> Number:
    """RMS voltage in dBuV across ``impedance_ohm`` for a power in dBm.

    ``V = P + 10 log10(Z) + 90`` (106.99 dB at 50 ohm, 108.75 dB at 75 ohm).

    Examples
    --------
    >>> round(dbm_to_dbuv(-60.0), 2)
    46.99
    """
    z = float(_positive(impedance_ohm, "impedance_ohm"))
    return _out(_arr(power_dbm, "power_dbm") + 10.0 * math.log10(z) + 90.0)


def dbuv_to_dbm(v_dbuv: ArrayLike, impedance_ohm: float = 50.0) -> Number:
    """Power in dBm for an RMS voltage in dBuV across ``impedance_ohm``.

    Examples
    --------
    >>> round(dbuv_to_dbm(46.99), 2)
    -60.0
    """
    z = float(_positive(impedance_ohm, "impedance_ohm"))
    return _out(_arr(v_dbuv, "v_dbuv") - 10.0 * math.log10(z) - 90.0)


def dbuv_m_to_dbm(
    e_dbuv_m: ArrayLike,
    af_db_m: ArrayLike,
    cable_loss_db: ArrayLike = 0.0,
    impedance_ohm: float = 50.0,
) -> Number:
    """Power at the receiver input (dBm) for a field strength, antenna factor and cable.

    The inverse of :func:`dsp.calibration.field_strength_dbuv_m`:
    ``P = E - AF - cable_loss - (10 log10(Z) + 90)``.

    Examples
    --------
    >>> round(dbuv_m_to_dbm(60.0, 20.0, 2.0), 2)
    -68.99
    """
    v = _arr(e_dbuv_m, "e_dbuv_m") - _arr(af_db_m, "af_db_m") - _arr(cable_loss_db, "cable_loss_db")
    return dbuv_to_dbm(v, impedance_ohm)


def erp_to_eirp(erp_db: ArrayLike) -> Number:
    """EIRP from ERP, both in the same dB unit (dBW or dBm): + 2.15 dB.

    Examples
    --------
    >>> erp_to_eirp(30.0)
    32.15
    """
    return _out(_arr(erp_db, "erp_db") + DIPOLE_GAIN_DBI)


def eirp_to_erp(eirp_db: ArrayLike) -> Number:
    """ERP from EIRP, both in the same dB unit: - 2.15 dB.

    Examples
    --------
    >>> eirp_to_erp(32.15)
    30.0
    """
    return _out(_arr(eirp_db, "eirp_db") - DIPOLE_GAIN_DBI)


def free_space_path_loss_db(distance_m: ArrayLike, f_hz: ArrayLike) -> Number:
    """Free-space basic transmission loss (ITU-R P.525): ``20 log10(4 pi d f / c)``.

    Parameters
    ----------
    distance_m:
        Path length in metres, positive.
    f_hz:
        Frequency in Hz, positive.

    Examples
    --------
    >>> round(free_space_path_loss_db(1000.0, 100e6), 2)
    72.45
    """
    d = _positive(distance_m, "distance_m")
    f = _positive(f_hz, "f_hz")
    return _out(20.0 * np.log10(4.0 * math.pi * d * f / SPEED_OF_LIGHT_M_S))


def field_strength_from_eirp_dbuv_m(eirp_w: ArrayLike, distance_m: ArrayLike) -> Number:
    """Free-space field strength (dBuV/m) at ``distance_m`` from ``eirp_w`` watts EIRP.

    ``E = sqrt(30 * EIRP) / d`` V/m.

    Examples
    --------
    >>> round(field_strength_from_eirp_dbuv_m(1.0, 1.0), 2)
    134.77
    """
    p = _positive(eirp_w, "eirp_w")
    d = _positive(distance_m, "distance_m")
    return _out(10.0 * np.log10(30.0 * p) - 20.0 * np.log10(d) + 120.0)


def field_strength_from_erp_dbuv_m(erp_w: ArrayLike, distance_m: ArrayLike) -> Number:
    """Free-space field strength (dBuV/m) at ``distance_m`` from ``erp_w`` watts ERP.

    ERP is referred to a half-wave dipole, so EIRP = ERP + 2.15 dB and
    ``E = 106.9 + 10 log10(ERP / kW) - 20 log10(d / km)`` (ITU-R P.1546 / P.525).
    Free space is an upper bound for real paths; compliance uses it for
    "could this licensed power produce what we measured?".

    Parameters
    ----------
    erp_w:
        Effective radiated power in watts (positive).
    distance_m:
        Distance in metres (positive).

    Examples
    --------
    >>> round(field_strength_from_erp_dbuv_m(1000.0, 1000.0), 1)
    106.9
    """
    p = _positive(erp_w, "erp_w")
    d = _positive(distance_m, "distance_m")
    eirp_w = p * 10.0 ** (DIPOLE_GAIN_DBI / 10.0)
    return field_strength_from_eirp_dbuv_m(eirp_w, d)
