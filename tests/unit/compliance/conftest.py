"""Builders for compliance unit tests: emissions and licences made directly."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.records import ForeignStation, Licence
from compliance.reference import ReferenceData, load_reference_data
from dsp.types import Emission

#: 2026-03-02T02:00:00Z in ns: inside every test licence's validity by default.
T0_NS = int(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC).timestamp()) * 1_000_000_000


def make_emission(f_hz: float, bw_hz: float = 7_000.0, **kw: object) -> Emission:
    values: dict[str, object] = dict(
        f_hz=f_hz,
        bw_99_hz=bw_hz,
        bw_xdb_hz=bw_hz * 1.2,
        power_db=-40.0,
        peak_power_db=-35.0,
        snr_db=25.0,
        noise_floor_db=-65.0,
        power_unit="dBFS",
        f_resolution_hz=300.0,
        t_first_ns=T0_NS,
        t_last_ns=T0_NS + 1_000_000_000,
        station_id="site-a",
    )
    values.update(kw)
    return Emission(**values)  # type: ignore[arg-type]


def make_licence(licence_id: str, f_hz: float, **kw: object) -> Licence:
    values: dict[str, object] = dict(
        licence_id=licence_id,
        licensee="Công ty Thử nghiệm",
        station_name=f"Trạm {licence_id}",
        service="land_mobile",
        f_hz=f_hz,
        emission="16K0F3E",
        erp_w=10.0,
        lat=21.90,
        lon=106.65,
        antenna_height_m=None,
        valid_from="2024-01-01",
        valid_to="2028-12-31",
        status="valid",
    )
    values.update(kw)
    return Licence.model_validate(values)


def make_foreign(licence_id: str, f_hz: float, **kw: object) -> ForeignStation:
    values: dict[str, object] = dict(
        licence_id=licence_id,
        station_name=f"Station {licence_id}",
        service="land_mobile",
        f_hz=f_hz,
        emission="16K0F3E",
        erp_w=50.0,
        lat=22.01,
        lon=106.73,
        antenna_height_m=None,
        country="CN",
    )
    values.update(kw)
    return ForeignStation.model_validate(values)


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    """The packaged reference data."""
    return load_reference_data()
