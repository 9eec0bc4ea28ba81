"""The external names: every measurement of DESIGN.md, with units in the field names."""

from __future__ import annotations

from storage import names
from storage.validation import check_name


def test_design_measurements_present() -> None:
    assert set(names.MEASUREMENTS) == {
        "spectrum", "channel_power", "occupancy", "noise_floor", "emission", "station_health"
    }
    assert names.MEASUREMENTS["spectrum"].tags == ("station", "band", "f_bin")
    assert names.MEASUREMENTS["channel_power"].fields == ("power_dbm", "e_dbuv_m")


def test_names_are_valid_for_both_backends() -> None:
    for schema in names.MEASUREMENTS.values():
        check_name("measurement", schema.name)
        for tag in schema.tags:
            check_name("tag key", tag)
        for field in schema.fields:
            check_name("field key", field)
        assert not set(schema.tags) & set(schema.fields)
