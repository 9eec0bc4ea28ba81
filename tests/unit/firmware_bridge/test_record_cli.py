"""`rfwatch record` with file: and simulator: receivers (rtltcp: is in integration)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sigmf
from scipy import signal

from firmware_bridge.sigmf_io import read_sigmf

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))
REPO = Path(__file__).resolve().parents[3]
SKYLINK = "rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8"


def _rfwatch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RFWATCH, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "300"})


def _peak_offset_hz(samples: np.ndarray, fs: float, lo: float, hi: float) -> float:
    f, p = signal.welch(samples, fs=fs, nperseg=4096, return_onesided=False)
    band = (f > lo) & (f < hi)
    return float(f[band][np.argmax(p[band])])


def test_record_from_a_file_spec_retuned(real_data, tmp_path):
    out = tmp_path / "skylink.sigmf-meta"
    done = _rfwatch("record", "--receiver", f"file:{real_data / SKYLINK}", "--freq", "433.85M",
                    "--rate", "250k", "--seconds", "1.5", "--out", str(out),
                    "--description", "Thử / test")
    assert done.returncode == 0, done.stderr
    assert "375000" in done.stdout  # samples written, reported to the user
    sigmf.fromfile(str(out)).validate()
    rec = read_sigmf(out)
    assert rec.samples.size == 375_000  # 1.5 s: the 1.05 s file looped
    assert rec.f_center_hz == 433.85e6
    # The emitter at 433.8126 MHz (PROVENANCE.md) is now 37.4 kHz below the new centre.
    assert _peak_offset_hz(rec.samples, 250e3, -60e3, -20e3) == pytest.approx(-37.4e3, abs=2e3)
    meta = json.loads(out.read_text())
    assert meta["global"]["core:description"] == "Thử / test"
    assert meta["global"]["rfwatch:overload"] is True  # the capture clips


def test_record_refuses_a_tune_outside_the_recording(real_data, tmp_path):
    done = _rfwatch("record", "--receiver", f"file:{real_data / SKYLINK}", "--freq", "435M",
                    "--rate", "250k", "--seconds", "1", "--out", str(tmp_path / "x.sigmf-meta"))
    assert done.returncode == 2
    assert "outside the recording's span" in done.stderr
    assert "Traceback" not in done.stderr


def test_record_bad_frequency_text(tmp_path, real_data):
    done = _rfwatch("record", "--receiver", f"file:{real_data / SKYLINK}", "--freq", "433,9",
                    "--seconds", "1", "--out", str(tmp_path / "x.sigmf-meta"))
    assert done.returncode == 2
    assert "--freq" in done.stderr and "Traceback" not in done.stderr


def test_record_bad_receiver_spec(tmp_path):
    done = _rfwatch("record", "--receiver", "usb:0", "--freq", "100M", "--seconds", "1",
                    "--out", str(tmp_path / "x.sigmf-meta"))
    assert done.returncode == 2
    assert "bad receiver spec" in done.stderr


@pytest.mark.slow
def test_record_from_the_simulator(tmp_path):
    scene = REPO / "firmware_bridge/simulator/scenes/basic.yaml"
    out = tmp_path / "sim.sigmf-meta"
    done = _rfwatch("record", "--receiver", f"simulator:{scene}#rx1", "--freq", "100M",
                    "--rate", "1.2M", "--seconds", "0.25", "--out", str(out))
    assert done.returncode == 0, done.stderr
    sigmf.fromfile(str(out)).validate()
    rec = read_sigmf(out)
    assert rec.samples.size == 300_000
    assert json.loads(out.read_text())["global"]["core:datatype"] == "cu8"
    # The scene's CW carrier at 100.15 MHz, seen by a receiver 20 ppm high (-2 kHz).
    assert _peak_offset_hz(rec.samples, 1.2e6, 140e3, 160e3) == pytest.approx(148e3, abs=1e3)
