"""The external names: every measurement of DESIGN.md, with units in the field names."""

from __future__ import annotations

from storage import names
from storage.validation import check_name


def test_design_measurements_present() -> None:
    assert set(names.MEASUREMENTS) == {
        "spectrum", "channel_power", "occupancy", "noise_floor", "emission", "station_health"
    }
    assert names.MEASUREMENTS["spectrum"].tags == ("station", "band", "f_bin")
    # DESIGN.md's fields are there (more may be added, e.g. the dBFS twins).
    design_fields = {
        "spectrum": {"power_dbm"},
        "channel_power": {"power_dbm", "e_dbuv_m"},
        "occupancy": {"fraction", "threshold_dbm"},
        "noise_floor": {"psd_dbm_hz"},
        "emission": {"f_hz", "bw_hz", "power_dbm", "snr_db"},
        "station_health": {"overloads", "dropped", "cpu", "temp_c", "gps_fix", "outbox_depth"},
    }
    for measurement, fields in design_fields.items():
        assert fields <= set(names.MEASUREMENTS[measurement].fields), measurement


def test_every_dbm_field_has_a_dbfs_twin() -> None:
    """Uncalibrated (dBFS) values have their own fields: they are never written as dBm."""
    for schema in names.MEASUREMENTS.values():
        for field in schema.fields:
            if "dbm" in field:
                twin = field.replace("dbm", "dbfs")
                assert twin in schema.fields, (schema.name, field)


def test_names_are_valid_for_both_backends() -> None:
    for schema in names.MEASUREMENTS.values():
        check_name("measurement", schema.name)
        for tag in schema.tags:
            check_name("tag key", tag)
        for field in schema.fields:
            check_name("field key", field)
        assert not set(schema.tags) & set(schema.fields)
