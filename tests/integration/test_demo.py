"""``rfwatch demo`` end to end: a fresh home, the README's command, what it finds.

The scene (firmware_bridge/simulator/scenes/lang_son_demo.yaml) holds licensed FM
and TV, a foreign FM station across the border (96.3 MHz), a commune radio licensed
on 64.0 MHz transmitting on 64.3 MHz, and an intermittent unlicensed NBFM transmitter
on 163.45 MHz near the border. The demo must find each as what it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("demo-home")
    out = home / "demo.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFWATCH_")}
    t0 = time.monotonic()
    proc = subprocess.run(
        [RFWATCH, "--home", str(home), "demo", "--json-out", str(out)],
        env=env, capture_output=True, text=True, timeout=540,
    )
    wall_s = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cases = subprocess.run(
        [RFWATCH, "--home", str(home), "cases", "list", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert cases.returncode == 0, cases.stderr
    return {
        "result": json.loads(out.read_text(encoding="utf-8")),
        "cases": json.loads(cases.stdout),
        "stdout": proc.stdout,
        "wall_s": wall_s,
        "home": home,
    }


def _near(f_hz: float, target_hz: float, tol_hz: float) -> bool:
    return abs(f_hz - target_hz) <= tol_hz


@pytest.mark.slow
def test_demo_runs_on_its_own_and_prints_tables(demo: dict) -> None:
    assert demo["wall_s"] < 600
    out = demo["stdout"]
    for title in ("Trạm / Stations", "Phát xạ / Emissions", "Vụ việc / Cases"):
        assert title in out
    result = demo["result"]
    ids = {s["id"] for s in result["stations"]}
    assert ids == {"huu-nghi", "tan-thanh", "chi-ma", "field-kit"}
    assert all(s["pending"] == 0 and s["batches"] > 0 for s in result["stations"])
    # The embedded stores are in the home folder.
    assert (demo["home"] / "rfwatch.db").is_file()
    assert (demo["home"] / "timeseries.sqlite").is_file()


@pytest.mark.slow
def test_demo_finds_the_unlicensed_transmitter(demo: dict) -> None:
    hits = [c for c in demo["cases"] if _near(c["f_hz"], 163.45e6, 5e3)]
    assert len(hits) == 1, "one emitter, one case, however many stations heard it"
    case = hits[0]
    assert case["class"] == "unknown" and "unlicensed_emission" in case["finding_kinds"]
    assert {"huu-nghi", "tan-thanh", "field-kit"} <= set(case["stations"])
    # Evidence: SigMF recordings from the border stations and the field team's position
    # estimate, which must put the emitter (21.930 N, 106.640 E in the scene) inside its
    # uncertainty circle.
    full = next(c for c in demo["result"]["cases"] if c["id"] == case["id"])
    assert "sigmf" in full["evidence"] and "field_measurement" in full["evidence"]
    from dsp.geo import distance_m
    from dsp.types import GeoPosition

    note = full["drive_fit"]
    lat, lon_rest = note.split(":", 2)[-1].split(",", 1)
    lon, radius = lon_rest.split("±")
    est = GeoPosition(float(lat), float(lon))
    radius_m = float(radius.split("m")[0])
    assert distance_m(est, GeoPosition(21.930, 106.640)) <= radius_m <= 3000
    # The case's location: the field kit's fit with every station's level, its 95 %
    # ellipse holding the truth, and on our side of the border.
    loc = full["location"]
    assert loc is not None and loc["verdict"] == "vietnam" and loc["p_vietnam"] >= 0.975
    where = GeoPosition(loc["lat_deg"], loc["lon_deg"])
    assert distance_m(where, GeoPosition(21.930, 106.640)) <= loc["semi_major_m"] <= 3000
    listed = next(c for c in demo["cases"] if c["id"] == case["id"])
    assert listed["location"] == loc  # `cases list --json` carries the same object


@pytest.mark.slow
def test_demo_finds_the_foreign_station_as_foreign(demo: dict) -> None:
    rows = [e for e in demo["result"]["emissions"] if _near(e["f_hz"], 96.3e6, 20e3)]
    assert rows and all(e["class"] == "foreign" for e in rows)
    assert {e["station"] for e in rows} >= {"huu-nghi", "tan-thanh"}
    # Licensed broadcasters are licensed, and raise no case.
    for f in (93.5e6, 97.0e6, 101.0e6):
        near = [e for e in demo["result"]["emissions"] if _near(e["f_hz"], f, 20e3)]
        assert near and all(e["class"] == "licensed" for e in near), f
    assert not [c for c in demo["cases"] if _near(c["f_hz"], 96.3e6, 100e3)
                and c["class"] != "foreign"]


@pytest.mark.slow
def test_demo_finds_the_off_frequency_commune_radio(demo: dict) -> None:
    hits = [c for c in demo["cases"] if _near(c["f_hz"], 64.3e6, 5e3)]
    assert len(hits) == 1
    case = hits[0]
    assert case["class"] == "licensed" and case["licence_id"] == "TTKD-TM-640"
    assert "frequency_out_of_tolerance" in case["finding_kinds"]
    # Its IQ image (mirror about a hop's LO) is not taken for a second transmitter.
    assert not [c for c in demo["cases"] if 54e6 <= c["f_hz"] <= 68e6 and c is not case]


@pytest.mark.slow
def test_demo_corrects_each_receivers_frequency_error(demo: dict) -> None:
    # The scene's receivers are 8..40 ppm off (2..4 kHz at 100 MHz); each station
    # estimates its error from the licensed FM carriers and corrects what it reports.
    emissions = demo["result"]["emissions"]
    for f in (93.5e6, 97.0e6, 101.0e6):
        near = [e for e in emissions if _near(e["f_hz"], f, 20e3)]
        assert {e["station"] for e in near} >= {"huu-nghi", "tan-thanh", "chi-ma"}, f
        for e in near:
            assert abs(e["f_hz"] - f) <= 500.0, (e["station"], e["f_hz"])
    # So the stations agree on the unknown emitter's frequency: one case (above), all
    # within 1 kHz of the scene's 163.45 MHz.
    vhf = [e for e in emissions if _near(e["f_hz"], 163.45e6, 10e3)]
    assert {e["station"] for e in vhf} >= {"huu-nghi", "tan-thanh", "chi-ma", "field-kit"}
    assert all(abs(e["f_hz"] - 163.45e6) <= 1e3 for e in vhf)


@pytest.mark.slow
def test_demo_measures_the_licensed_tv_multiplex(demo: dict) -> None:
    tv = [e for e in demo["result"]["emissions"] if _near(e["f_hz"], 546e6, 1e6)]
    assert tv and "huu-nghi" in {e["station"] for e in tv}
    for e in tv:
        assert e["class"] == "licensed" and e["licence_id"] == "LS-DVBT2-30"
        assert 7.3e6 <= e["bw_99_hz"] <= 7.8e6  # scene: a 7.61 MHz block (99 %: 7.53 MHz)
    assert not [c for c in demo["cases"] if _near(c["f_hz"], 546e6, 4e6)]


@pytest.mark.slow
def test_demo_raises_no_false_cases(demo: dict) -> None:
    # Only the unlicensed VHF emitter and the off-frequency commune radio are cases:
    # no case from a receiver artefact (IQ image, ADC distortion product, DC spike).
    assert sorted(round(c["f_hz"] / 1e3) for c in demo["cases"]) == [64_300, 163_450]
