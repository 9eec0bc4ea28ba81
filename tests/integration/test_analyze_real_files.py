"""``rfwatch analyze --json`` on the real recordings in ../shared/data/real.

What PROVENANCE.md says is in each file must be found:

- rtl_power FM multipath CSVs (Osaka): each 100 kHz span lies inside one FM station's
  channel (88.1, 76.5, 80.2, 85.1 MHz), so an occupied channel covers that frequency.
- rtl_433 Skylink captures: one OOK emitter about -107.4 kHz from 433.92 MHz; the
  receiver spur at +79.8 kHz (10 dB over the floor) is not an emission.
- rtl_433 RadioHead captures: the emitter about +6.07 kHz from 433.92 MHz.
- dump1090 modes1.bin (1090 MHz, 2 MS/s): Mode S / ADS-B around 1090 MHz.
- urh enocean (cf32, rate and frequency not recorded; URH assumes 1 MS/s): bursts.
- the SigMF logo (real int16, two channels) is refused with a one-line error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Each case runs the real console script in a subprocess (about 1 s of imports each).
pytestmark = pytest.mark.slow

RFWATCH = Path(sys.executable).with_name("rfwatch")
TOP_KEYS = {"source", "power_unit", "f_start_hz", "f_stop_hz", "rbw_hz", "emissions"}
EMISSION_KEYS = {"f_hz", "bw_99_hz", "bw_26db_hz", "power", "peak_power", "snr_db",
                 "t_first", "t_last"}


def analyze(path: Path, *args: str) -> dict:
    proc = subprocess.run([str(RFWATCH), "analyze", str(path), "--json", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    check_shape(doc, str(path))
    return doc


def check_shape(doc: dict, source: str) -> None:
    assert TOP_KEYS <= set(doc)  # keys added later (overload, rejected) are fine
    assert doc["source"] == source
    assert doc["power_unit"] in ("dBFS", "dBm")
    for key in ("f_start_hz", "f_stop_hz", "rbw_hz"):
        assert isinstance(doc[key], float)
    assert doc["f_start_hz"] < doc["f_stop_hz"]
    for e in doc["emissions"]:
        assert EMISSION_KEYS <= set(e)
        for key in ("f_hz", "bw_99_hz", "bw_26db_hz", "power", "peak_power"):
            assert isinstance(e[key], float), key
        assert e["snr_db"] is None or isinstance(e["snr_db"], float)
        for key in ("t_first", "t_last"):
            assert e[key].endswith("Z") and "T" in e[key]
        assert e["t_first"] <= e["t_last"]
        assert doc["f_start_hz"] - doc["rbw_hz"] <= e["f_hz"] <= doc["f_stop_hz"] + doc["rbw_hz"]


def covering(doc: dict, f_hz: float) -> list[dict]:
    return [e for e in doc["emissions"]
            if e["f_hz"] - e["bw_99_hz"] / 2 <= f_hz <= e["f_hz"] + e["bw_99_hz"] / 2]


@pytest.mark.parametrize(
    ("name", "station_hz"),
    [("nhkfm3.csv", 88.1e6), ("cocolo3.csv", 76.5e6), ("fm802-3.csv", 80.2e6),
     ("fmosaka-3.csv", 85.1e6)],
)
def test_rtl_power_fm_station_found(real_data: Path, name: str, station_hz: float) -> None:
    doc = analyze(real_data / "rtl_power-fm-multipath" / name)
    assert doc["power_unit"] == "dBFS"  # rtl_power's "dBm" is not dBm
    assert covering(doc, station_hz), doc["emissions"]
    # rtl_power stamps local time with no zone; the reader takes it as UTC (documented)
    assert all(e["t_first"].startswith("2018-11-18T") for e in doc["emissions"])


@pytest.mark.parametrize("name", ["g001", "g003"])
def test_rtl_433_skylink_emitter_found_spur_ignored(real_data: Path, name: str) -> None:
    doc = analyze(real_data / "rtl_433" / "skylink_ha-434tl" / f"{name}_433.92M_250k.cu8")
    f = [e["f_hz"] for e in doc["emissions"]]
    assert any(abs(x - (433.92e6 - 107.4e3)) < 3e3 for x in f), f
    assert not any(abs(x - (433.92e6 + 79.8e3)) < 2e3 for x in f), f
    main = max(doc["emissions"], key=lambda e: e["power"])
    assert abs(main["f_hz"] - (433.92e6 - 107.4e3)) < 3e3
    assert main["snr_db"] > 10


@pytest.mark.parametrize("name", ["g001", "g004"])
def test_rtl_433_radiohead_emitter_found(real_data: Path, name: str) -> None:
    doc = analyze(real_data / "rtl_433" / "radiohead_ask_03" / f"{name}_433.92M_250k.cu8")
    main = max(doc["emissions"], key=lambda e: e["power"])
    assert abs(main["f_hz"] - (433.92e6 + 6.07e3)) < 2e3, doc["emissions"]
    assert main["bw_99_hz"] < 20e3  # a narrowband ASK emitter


def test_dump1090_mode_s_around_1090_mhz(real_data: Path) -> None:
    doc = analyze(real_data / "dump1090" / "modes1.bin", "--rate", "2M", "--freq", "1090M")
    assert doc["f_start_hz"] == pytest.approx(1089e6, abs=1e3)
    assert any(abs(e["f_hz"] - 1090e6) < 1e6 and e["snr_db"] > 10 for e in doc["emissions"])


def test_urh_enocean_bursts_found(real_data: Path) -> None:
    doc = analyze(real_data / "urh" / "enocean.complex", "--rate", "1M", "--freq", "868.3M")
    assert doc["emissions"]
    assert max(e["snr_db"] for e in doc["emissions"]) > 20


def test_sigmf_logo_refused_in_one_line(real_data: Path) -> None:
    proc = subprocess.run(
        [str(RFWATCH), "analyze", str(real_data / "sigmf" / "sigmf_logo.sigmf-meta"), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "ri16_le" in proc.stderr
    assert proc.stdout == ""


def test_raw_iq_without_rate_is_a_clear_error(real_data: Path) -> None:
    proc = subprocess.run(
        [str(RFWATCH), "analyze", str(real_data / "urh" / "enocean.complex")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--rate" in proc.stderr


def test_human_table(real_data: Path) -> None:
    proc = subprocess.run(
        [str(RFWATCH), "analyze",
         str(real_data / "rtl_433" / "radiohead_ask_03" / "g001_433.92M_250k.cu8")],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Tần số/Freq (MHz)" in proc.stdout
    assert "433.92" in proc.stdout
