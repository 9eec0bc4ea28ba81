"""End to end: ``rfwatch simulate`` writes SigMF and its truth, ``rfwatch analyze --json``
finds what the truth says, within the accuracy of issue 5."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

RFWATCH = Path(sys.executable).with_name("rfwatch")


def run(*args: str) -> str:
    proc = subprocess.run([str(RFWATCH), *args], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_simulated_sigmf_through_the_cli(tmp_path: Path) -> None:
    meta = tmp_path / "basic.sigmf-meta"
    run("simulate", "basic", "--out", str(meta), "--seconds", "0.3")
    truth = json.loads((tmp_path / "basic.truth.json").read_text())
    doc = json.loads(run("analyze", str(meta), "--json"))
    noise = truth["noise"]["total_dbfs_hz"]
    t0 = truth["t_start_ns"]
    for t in truth["emitters"]:
        if not (t["on_air"] and t["fully_in_band"]):
            continue
        snr = t["power_dbfs"] - noise - 10 * math.log10(max(t["bw_99_hz"], doc["rbw_hz"]))
        if snr < 10:
            continue
        near = [e for e in doc["emissions"]
                if abs(e["f_hz"] - t["f_apparent_hz"]) <= max(2e3, 0.02 * t["bw_99_hz"])]
        assert len(near) == 1, (t["emitter_id"], doc["emissions"])
        e = near[0]
        assert abs(e["power"] - t["power_dbfs"]) <= 1.0, t["emitter_id"]
        if t["modulation"] != "cw":
            assert abs(e["bw_99_hz"] - t["bw_99_hz"]) <= 0.1 * t["bw_99_hz"], t["emitter_id"]
        first = datetime.strptime(e["t_first"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert abs(first.timestamp() * 1e9 - t0) < 0.05e9  # on from the start
    # nothing reported at an image or at the tuned centre
    for e in doc["emissions"]:
        assert abs(e["f_hz"] - truth["f_center_hz"]) > 3 * doc["rbw_hz"]
        assert not any(abs(e["f_hz"] - t["image_f_hz"]) < 2e3 for t in truth["emitters"])
