"""RtlSdrReceiver on a machine without a dongle (and, opt-in, with one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import ReceiverError, ReceiverNotFound
from firmware_bridge.receiver import R820T_GAINS_DB
from firmware_bridge.rtlsdr import (
    RtlSdrReceiver,
    list_devices,
    probe,
    validate_sample_rate,
)

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))

# Whether a dongle is attached decides which tests make sense on this machine.
_HAVE_DONGLE = bool(probe().devices)  # probe() never raises
no_dongle = pytest.mark.skipif(_HAVE_DONGLE, reason="a dongle is attached")


@no_dongle
def test_open_without_dongle_says_what_and_how_to_check():
    rx = RtlSdrReceiver(0)
    with pytest.raises(ReceiverNotFound) as err:
        rx.open()
    text = str(err.value)
    assert "No RTL-SDR found" in text and "index 0" in text
    assert "rtl_test" in text and "blacklist" in text
    assert not rx.is_open


@no_dongle
def test_open_by_serial_without_dongle():
    with pytest.raises(ReceiverNotFound, match="serial '12345678'"):
        RtlSdrReceiver("12345678").open()


@no_dongle
def test_probe_reports_library_and_no_devices():
    result = probe()
    assert result.library_ok, result.library_message
    assert "pyrtlsdr" in result.library_message
    assert result.devices == []


def test_read_before_open_is_an_error():
    with pytest.raises(ReceiverError, match="not open"):
        RtlSdrReceiver(0).read(1024)


@pytest.mark.parametrize("rate", [225_001, 250_000, 300_000, 900_001, 2_400_000, 3_200_000])
def test_valid_rates(rate):
    assert validate_sample_rate(rate) == rate


@pytest.mark.parametrize("rate", [0, 225_000, 300_001, 600_000, 900_000, 3_200_001, 10e6])
def test_invalid_rates(rate):
    with pytest.raises(ReceiverError, match="225001–300000 and 900001–3200000"):
        validate_sample_rate(rate)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=5e6))
def test_rate_validation_matches_librtlsdr_ranges(rate):
    ok = 225_001 <= rate <= 300_000 or 900_001 <= rate <= 3_200_000
    if ok:
        assert validate_sample_rate(rate) == rate
    else:
        with pytest.raises(ReceiverError):
            validate_sample_rate(rate)


def test_gain_snaps_to_the_tuner_table_before_open():
    rx = RtlSdrReceiver(0, gain_db=None)
    rx.set_gain(20.0)
    assert rx.gain_db == 19.7
    rx.set_gain(100)
    assert rx.gain_db == 49.6
    rx.set_gain(None)
    assert rx.gain_db is None
    assert rx.capabilities.gains_db == R820T_GAINS_DB


@no_dongle
def test_rfwatch_devices_prints_one_line_and_exits_0():
    done = subprocess.run([RFWATCH, "devices"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == ["Không tìm thấy RTL-SDR / No RTL-SDR found"]


@no_dongle
def test_rfwatch_record_without_dongle_is_one_error_no_traceback(tmp_path):
    done = subprocess.run(
        [RFWATCH, "record", "--receiver", "rtlsdr:#0", "--freq", "98.5M", "--rate", "2.4M",
         "--seconds", "1", "--out", str(tmp_path / "x.sigmf-meta")],
        capture_output=True, text=True, timeout=60, env={"COLUMNS": "400", "PATH": "/usr/bin"},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "No RTL-SDR found" in done.stderr
    assert not (tmp_path / "x.sigmf-data").exists()


@pytest.mark.hardware
def test_real_dongle_reads_blocks():
    devices = list_devices()
    assert devices, "no dongle attached"
    with RtlSdrReceiver(0, f_center_hz=100e6, sample_rate_hz=2.048e6, gain_db=20) as rx:
        assert rx.gain_db in rx.capabilities.gains_db
        block = rx.read(262_144)
        assert block.samples.dtype == np.uint8 and block.samples.size == 524_288
        assert block.f_center_hz == 100e6 and block.sample_rate_hz == 2.048e6
        # A live ADC is not stuck at one value.
        assert block.samples.std() > 0.5
        rx.tune(433.92e6)
        assert rx.read(16_384).f_center_hz == 433.92e6
