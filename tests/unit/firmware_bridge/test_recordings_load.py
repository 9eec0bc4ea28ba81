"""load_recording: one entry point for every file type, by extension."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.errors import InputFormatError
from firmware_bridge.recording import IQRecording, SurveyRecording
from firmware_bridge.recordings import load_recording, recording_kind
from firmware_bridge.sigmf_io import write_sigmf


def test_dispatch_on_the_real_files(real_data):
    rtl433 = load_recording(real_data / "rtl_433/radiohead_ask_03/g001_433.92M_250k.cu8")
    assert isinstance(rtl433, IQRecording)
    assert (rtl433.f_center_hz, rtl433.sample_rate_hz) == (433.92e6, 250e3)
    survey = load_recording(real_data / "rtl_power-fm-multipath/fm802-3.csv")
    assert isinstance(survey, SurveyRecording)
    assert len(survey.spectra) == 299
    adsb = load_recording(real_data / "dump1090/modes1.bin", rate_hz=2e6, f_center_hz=1090e6)
    assert adsb.samples.size == 356_868
    urh = load_recording(real_data / "urh/homematic.complex32s", rate_hz=1e6, f_center_hz=868.3e6)
    assert urh.samples.size == 117_396
    with pytest.raises(InputFormatError, match="real-valued"):
        load_recording(real_data / "sigmf/sigmf_logo.sigmf-data")


def test_raw_file_without_rate_says_which_option(real_data):
    with pytest.raises(InputFormatError, match="--rate"):
        load_recording(real_data / "urh/enocean.complex")
    with pytest.raises(InputFormatError, match="--freq"):
        load_recording(real_data / "urh/enocean.complex", rate_hz=1e6)


def test_format_override(real_data, tmp_path):
    copy = tmp_path / "capture.dat"
    copy.write_bytes((real_data / "rtl_433/radiohead_ask_03/g001_433.92M_250k.cu8").read_bytes())
    with pytest.raises(InputFormatError, match="unknown file type"):
        load_recording(copy)
    rec = load_recording(copy, fmt="cu8", rate_hz=250e3, f_center_hz=433.92e6)
    assert rec.samples.size == 131_072


def test_sigmf_rate_must_agree(tmp_path):
    meta = write_sigmf(tmp_path / "r", np.zeros(32, dtype=np.complex64), sample_rate_hz=1e6,
                       f_center_hz=1e8, t_start_ns=0)
    assert load_recording(meta, rate_hz=1e6).sample_rate_hz == 1e6
    with pytest.raises(InputFormatError, match="core:sample_rate"):
        load_recording(meta, rate_hz=2e6)


def test_missing_file(tmp_path):
    with pytest.raises(InputFormatError, match="no such file"):
        load_recording(tmp_path / "gone.cu8", rate_hz=1e6, f_center_hz=1e8)
    with pytest.raises(InputFormatError):
        load_recording(tmp_path / "gone.sigmf-meta")


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.sigmf-meta", "sigmf"), ("a.SIGMF-DATA", "sigmf"), ("a.sigmf", "sigmf"),
     ("a.csv", "csv"), ("a.cu8", "cu8"), ("a.bin", "cu8"), ("a.cs8", "cs8"),
     ("a.cs16", "cs16"), ("a.ci16", "cs16"), ("a.cf32", "cf32"), ("a.cfile", "cf32"),
     ("a.complex", "cf32"), ("a.complex16u", "cu8"), ("a.complex16s", "cs8"),
     ("a.complex32s", "cs16")],
)
def test_recording_kind(name, kind):
    assert recording_kind(name) == kind
