"""Unit conversions against first principles (P = V^2/R, Friis, E = sqrt(30 P)/d)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from dsp.errors import ParameterError
from dsp.units import (
    DIPOLE_GAIN_DBI,
    SPEED_OF_LIGHT_M_S,
    db_to_lin,
    dbm_to_dbuv,
    dbm_to_w,
    dbuv_m_to_dbm,
    dbuv_to_dbm,
    eirp_to_erp,
    erp_to_eirp,
    field_strength_from_eirp_dbuv_m,
    field_strength_from_erp_dbuv_m,
    free_space_path_loss_db,
    lin_to_db,
    w_to_dbm,
)


def test_power_conversions() -> None:
    assert dbm_to_w(0.0) == pytest.approx(1e-3)
    assert dbm_to_w(30.0) == pytest.approx(1.0)
    assert w_to_dbm(50.0) == pytest.approx(46.9897, abs=1e-4)
    p = np.array([-120.0, -50.5, 10.0])
    np.testing.assert_allclose(w_to_dbm(dbm_to_w(p)), p)
    assert db_to_lin(10.0) == pytest.approx(10.0)
    assert lin_to_db(0.5) == pytest.approx(-3.0103, abs=1e-4)
    assert isinstance(db_to_lin(1.0), float)
    assert isinstance(db_to_lin([1.0, 2.0]), np.ndarray)


@pytest.mark.parametrize("z", [50.0, 75.0])
def test_dbuv_from_first_principles(z: float) -> None:
    # 1 uV RMS across Z dissipates V^2 / Z watts.
    p_dbm = 10 * math.log10((1e-6) ** 2 / z / 1e-3)
    assert dbm_to_dbuv(p_dbm, z) == pytest.approx(0.0, abs=1e-9)
    assert dbuv_to_dbm(0.0, z) == pytest.approx(p_dbm)
    assert dbm_to_dbuv(-60.0) == pytest.approx(-60.0 + 106.9897, abs=1e-4)


def test_field_strength_from_erp_matches_p1546_free_space() -> None:
    # ITU-R P.1546: free space, 1 kW ERP: E = 106.9 - 20 log10(d / km) dB(uV/m).
    for d_km in (1.0, 10.0, 100.0):
        e = field_strength_from_erp_dbuv_m(1000.0, d_km * 1000.0)
        assert e == pytest.approx(106.9 - 20 * math.log10(d_km), abs=0.05)
    # From E = sqrt(30 * EIRP) / d directly, in V/m.
    erp_w, d_m = 250.0, 7_500.0
    e_v_m = math.sqrt(30 * erp_w * 10 ** (DIPOLE_GAIN_DBI / 10)) / d_m
    assert field_strength_from_erp_dbuv_m(erp_w, d_m) == pytest.approx(
        20 * math.log10(e_v_m / 1e-6), abs=1e-9
    )


def test_path_loss_and_field_strength_agree_through_friis() -> None:
    # Power an isotropic antenna collects: S * lambda^2 / (4 pi), S = E^2 / (120 pi).
    eirp_w, d_m, f_hz = 100.0, 20_000.0, 433.92e6
    lam = SPEED_OF_LIGHT_M_S / f_hz
    e_v_m = 10 ** ((field_strength_from_eirp_dbuv_m(eirp_w, d_m) - 120) / 20)
    p_rx_w = e_v_m**2 / (120 * math.pi) * lam**2 / (4 * math.pi)
    p_rx_friis_dbw = 10 * math.log10(eirp_w) - free_space_path_loss_db(d_m, f_hz)
    # 120 pi vs the 30 in E = sqrt(30 P)/d (which assumes Z0 = 120 pi exactly).
    assert 10 * math.log10(p_rx_w) == pytest.approx(p_rx_friis_dbw, abs=1e-6)


def test_erp_eirp_and_field_to_power() -> None:
    assert erp_to_eirp(10.0) == pytest.approx(12.15)
    assert eirp_to_erp(erp_to_eirp(-3.0)) == pytest.approx(-3.0)
    assert dbuv_m_to_dbm(107.0 + 10.0, 10.0) == pytest.approx(0.0103, abs=1e-3)
    np.testing.assert_allclose(
        free_space_path_loss_db(np.array([1e3, 1e4]), 1e8), [72.45, 92.45], atol=0.01
    )


@pytest.mark.parametrize(
    ("fn", "args", "match"),
    [
        (w_to_dbm, (0.0,), "power_w must be positive"),
        (lin_to_db, (-1.0,), "ratio must be positive"),
        (free_space_path_loss_db, (0.0, 1e8), "distance_m must be positive"),
        (free_space_path_loss_db, (1.0, np.nan), "f_hz must be positive"),
        (field_strength_from_erp_dbuv_m, (1.0, -5.0), "distance_m must be positive"),
        (dbm_to_dbuv, (0.0, 0.0), "impedance_ohm must be positive"),
    ],
)
def test_bad_values_are_refused(fn: Callable[..., object], args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fn(*args)
    with pytest.raises(ParameterError, match="must be a number"):
        dbm_to_w("ten")
