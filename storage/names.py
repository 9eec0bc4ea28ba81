"""External names of the time series: measurements, tags and fields, in one place.

These strings are what InfluxDB (and Grafana dashboards, and InfluxQL written by
hand) see, so they are part of the contract: change one only with a migration of
the stored data and of the dashboards. Units are part of the field names.

Keep series cardinality bounded: tags hold ids, band names, channel names and bin
indices, never free text or measured values.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CHANNEL_POWER",
    "EMISSION",
    "FIELD_BW_HZ",
    "FIELD_CPU",
    "FIELD_DROPPED",
    "FIELD_E_DBUV_M",
    "FIELD_FRACTION",
    "FIELD_F_HZ",
    "FIELD_GPS_FIX",
    "FIELD_OUTBOX_DEPTH",
    "FIELD_OVERLOADS",
    "FIELD_LAT_DEG",
    "FIELD_LON_DEG",
    "FIELD_POWER_DBFS",
    "FIELD_PPM",
    "FIELD_POWER_DBM",
    "FIELD_PSD_DBFS_HZ",
    "FIELD_PSD_DBM_HZ",
    "FIELD_SNR_DB",
    "FIELD_TEMP_C",
    "FIELD_THRESHOLD_DBFS",
    "FIELD_THRESHOLD_DBM",
    "MEASUREMENTS",
    "NOISE_FLOOR",
    "OCCUPANCY",
    "SPECTRUM",
    "STATION_HEALTH",
    "TAG_BAND",
    "TAG_CHANNEL",
    "TAG_CLASS",
    "TAG_F_BIN",
    "TAG_PLAN",
    "TAG_RECEIVER",
    "TAG_STATION",
    "MeasurementSchema",
]

# Measurements
SPECTRUM = "spectrum"
CHANNEL_POWER = "channel_power"
OCCUPANCY = "occupancy"
NOISE_FLOOR = "noise_floor"
EMISSION = "emission"
STATION_HEALTH = "station_health"

# Tags
TAG_STATION = "station"
TAG_BAND = "band"
TAG_F_BIN = "f_bin"
TAG_PLAN = "plan"
TAG_CHANNEL = "channel"
TAG_CLASS = "class"
TAG_RECEIVER = "receiver"

# Fields (units in the name)
FIELD_POWER_DBM = "power_dbm"
#: Uncalibrated twins of the dBm fields: a dBFS value is never written as dBm.
FIELD_POWER_DBFS = "power_dbfs"
FIELD_THRESHOLD_DBFS = "threshold_dbfs"
FIELD_PSD_DBFS_HZ = "psd_dbfs_hz"
#: Where a field kit was when it measured (GPS-tagged drive tests).
FIELD_LAT_DEG = "lat_deg"
FIELD_LON_DEG = "lon_deg"
FIELD_E_DBUV_M = "e_dbuv_m"
FIELD_FRACTION = "fraction"
FIELD_THRESHOLD_DBM = "threshold_dbm"
FIELD_PSD_DBM_HZ = "psd_dbm_hz"
FIELD_F_HZ = "f_hz"
FIELD_BW_HZ = "bw_hz"
FIELD_SNR_DB = "snr_db"
FIELD_OVERLOADS = "overloads"
FIELD_DROPPED = "dropped"
FIELD_CPU = "cpu"
FIELD_TEMP_C = "temp_c"
FIELD_GPS_FIX = "gps_fix"
FIELD_OUTBOX_DEPTH = "outbox_depth"
#: A receiver's frequency error estimated from reference carriers (parts per million).
FIELD_PPM = "ppm"


@dataclass(frozen=True, slots=True)
class MeasurementSchema:
    """The tag keys and field names one measurement is written with."""

    name: str
    tags: tuple[str, ...]
    fields: tuple[str, ...]


#: Every measurement rfwatch writes, by name (DESIGN.md, "Proposed measurements").
MEASUREMENTS: dict[str, MeasurementSchema] = {
    s.name: s
    for s in (
        MeasurementSchema(
            SPECTRUM,
            (TAG_STATION, TAG_BAND, TAG_F_BIN),
            (FIELD_POWER_DBM, FIELD_POWER_DBFS, FIELD_F_HZ),
        ),
        MeasurementSchema(
            CHANNEL_POWER,
            (TAG_STATION, TAG_PLAN, TAG_CHANNEL),
            (FIELD_POWER_DBM, FIELD_POWER_DBFS, FIELD_E_DBUV_M, FIELD_LAT_DEG, FIELD_LON_DEG),
        ),
        MeasurementSchema(
            OCCUPANCY,
            (TAG_STATION, TAG_BAND, TAG_CHANNEL),
            (FIELD_FRACTION, FIELD_THRESHOLD_DBM, FIELD_THRESHOLD_DBFS),
        ),
        MeasurementSchema(
            NOISE_FLOOR, (TAG_STATION, TAG_BAND), (FIELD_PSD_DBM_HZ, FIELD_PSD_DBFS_HZ)
        ),
        MeasurementSchema(
            EMISSION,
            (TAG_STATION, TAG_CLASS),
            (
                FIELD_F_HZ,
                FIELD_BW_HZ,
                FIELD_POWER_DBM,
                FIELD_POWER_DBFS,
                FIELD_SNR_DB,
                FIELD_E_DBUV_M,
                FIELD_LAT_DEG,
                FIELD_LON_DEG,
            ),
        ),
        MeasurementSchema(
            STATION_HEALTH,
            (TAG_STATION, TAG_RECEIVER),
            (
                FIELD_OVERLOADS,
                FIELD_DROPPED,
                FIELD_CPU,
                FIELD_TEMP_C,
                FIELD_GPS_FIX,
                FIELD_OUTBOX_DEPTH,
                FIELD_PPM,
            ),
        ),
    )
}
