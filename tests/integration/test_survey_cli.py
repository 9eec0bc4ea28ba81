"""``rfwatch analyze --json`` on survey CSVs: seams equalised, flags kept, no negative SNR.

- A simulated rtl_power-style survey (hops without crop, a WBFM station straddling a
  seam, see tests/unit/dsp/test_survey_seams.py) written as rtl_power CSV and read
  back by the real console script: the station within 1.5 dB and 15 % of the
  simulator's truth.
- A survey with an emitter seen in two sweeps only: ``intermittent`` reaches the JSON.
- The real rtl_power files: the ``coherent`` flag reaches the JSON, the SNR is null
  (unknown), never negative.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dsp.types import Spectrum
from firmware_bridge.survey_csv import write_survey_csv
from tests.conftest import REAL_DATA
from tests.unit.dsp.test_survey_seams import STATION_HZ, make_survey

pytestmark = pytest.mark.slow

RFWATCH = Path(sys.executable).with_name("rfwatch")


def analyze(path: Path) -> dict:
    proc = subprocess.run([str(RFWATCH), "analyze", str(path), "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_seam_station_through_an_rtl_power_csv(tmp_path: Path) -> None:
    survey = make_survey([("fm", STATION_HZ, "wbfm", -5)], gain_db=49.6, nf_db=20.0, seed=3)
    fm = survey.truth["fm"]
    path = write_survey_csv(tmp_path / "seam.csv", survey.sweeps)
    doc = analyze(path)
    hits = [e for e in doc["emissions"]
            if abs(e["f_hz"] - fm.f_apparent_hz) < e["bw_99_hz"] / 2]
    assert len(hits) == 1, doc["emissions"]
    (e,) = hits
    assert abs(e["power"] - fm.power_dbfs) <= 1.5
    assert abs(e["bw_99_hz"] - fm.bw_99_hz) <= 0.15 * fm.bw_99_hz
    for x in doc["emissions"]:
        assert x["snr_db"] is None or x["snr_db"] >= 0


def test_intermittent_flag_reaches_the_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    sweeps = []
    for t in range(20):
        p = np.full(1000, -80.0)
        p[200:260] = -55.0
        if 12 <= t <= 13:
            p[700:705] = -68.0
        lin = 10 ** (p / 10) * rng.gamma(100, 1 / 100, p.size)
        sweeps.append(Spectrum(88e6, 1e3, (10 * np.log10(lin)).astype(np.float32), "dBFS",
                               1e3, t * 10**9, t * 10**9 + 5 * 10**8, n_averages=100))
    doc = analyze(write_survey_csv(tmp_path / "burst.csv", sweeps))
    burst = [e for e in doc["emissions"] if abs(e["f_hz"] - 88.702e6) < 3e3]
    assert len(burst) == 1
    assert "intermittent" in burst[0]["flags"]
    assert burst[0]["t_first"].startswith("1970-01-01T00:00:12")


@pytest.mark.parametrize("name", ["nhkfm3", "fm802-3"])
def test_real_survey_flags_and_unknown_snr(name: str) -> None:
    doc = analyze(REAL_DATA / "rtl_power-fm-multipath" / f"{name}.csv")
    assert doc["emissions"]
    for e in doc["emissions"]:
        assert "coherent" in e["flags"]
        assert e["snr_db"] is None
