"""`rfwatch demo --scene/--licences/--foreign`: other inputs, refused clearly when unusable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from firmware_bridge.simulator import scene_path

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RFWATCH, "--home", str(tmp_path / "home"), "demo", "--seconds", "5",
                           *args], capture_output=True, text=True, timeout=300)


def test_a_scene_without_the_demo_receivers_is_refused(tmp_path):
    doc = yaml.safe_load(scene_path("lang_son_demo").read_text(encoding="utf-8"))
    doc["receivers"] = [r for r in doc["receivers"] if r["id"] != "chi-ma"]
    bad = tmp_path / "other.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    proc = _run(tmp_path, "--scene", str(bad))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "chi-ma" in lines[0] and "other.yaml" in lines[0]
    assert "Traceback" not in proc.stderr


def test_a_bad_licence_file_is_refused_before_anything_runs(tmp_path):
    bad = tmp_path / "licences.csv"
    bad.write_text("licence_id,f_hz\nX,163.450\n", encoding="utf-8")
    proc = _run(tmp_path, "--licences", str(bad))
    assert proc.returncode == 2, proc.stderr
    assert "licences.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "home" / "demo").exists()  # nothing half-written
