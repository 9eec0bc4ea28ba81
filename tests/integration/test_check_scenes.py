"""``rfwatch check`` on a simulated scene: exactly the expected findings, and one case
per emitter when the same scene is seen from two sites.

The scene (tests/data/compliance/scene_433.yaml) is recorded to SigMF through the
simulator API, as a station would record it, then analysed by the real CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_bridge.sigmf_io import write_sigmf
from firmware_bridge.simulator import Scene, SimulatorReceiver

DATA = Path(__file__).resolve().parents[1] / "data" / "compliance"
SCENE = DATA / "scene_433.yaml"
LICENCES = DATA / "licences_433.csv"
FOREIGN = DATA / "foreign_433.csv"
SITES = ("site-a", "site-b")
SECONDS = 0.25

#: What the scene was built to contain (see the table at the top of the scene file):
#: emitter id -> (class, licence or foreign id, finding kinds).
EXPECTED = {
    "expired-432-55": ("licensed", "LM-004", {"licence_not_valid"}),
    "pirate-432-65": ("unknown", None, {"unlicensed_emission"}),
    "foreign-432-75": ("foreign", "CN-001", set()),
    "licensed-432-85": ("licensed", "LM-001", set()),
    "offfreq-432-956": ("licensed", "LM-002", {"frequency_out_of_tolerance"}),
    "widebw-433-00": ("licensed", "LM-003", {"bandwidth_exceeded"}),
    "srd-434-10": ("exempt", None, set()),
}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list, object]]:
    """Each site's SigMF recording, its ground truth and its position."""
    scene = Scene.from_file(SCENE)
    out = tmp_path_factory.mktemp("scene")
    result = {}
    for site in SITES:
        rx = SimulatorReceiver.from_scene(scene, site, seed=1)
        with rx:
            block = rx.read(int(2.4e6 * SECONDS))
            truth = rx.truth()
        meta = write_sigmf(
            out / f"{site}.sigmf-meta", block.samples, sample_rate_hz=block.sample_rate_hz,
            f_center_hz=block.f_center_hz, t_start_ns=block.t_start_ns, station_id=site,
            receiver_id=block.receiver_id, position=rx.position, datatype="cu8",
        )
        result[site] = (meta, truth, rx.position)
    return result


def rfwatch(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-c", "from rfwatch.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def rfwatch_in_process(args: list[str], env: dict[str, str]):
    """The same CLI run in this process (saves the interpreter start per call)."""
    from typer.testing import CliRunner

    from rfwatch.cli import app

    result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def check(meta: Path, position, home: Path, *extra: str, db_url: str | None = None) -> dict:
    out = rfwatch_in_process(
        ["check", str(meta), "--licences", str(LICENCES), "--foreign", str(FOREIGN),
         "--site-lat", str(position.lat_deg), "--site-lon", str(position.lon_deg), "--json",
         *extra], {"RFWATCH_HOME": str(home)} | ({"RFWATCH_DB_URL": db_url} if db_url else {}))
    return json.loads(out.stdout)


def match_to_truth(emissions: list[dict], truth: list) -> dict[str, dict]:
    """Each emitter of the truth -> the one emission measured at its frequency."""
    found: dict[str, dict] = {}
    for t in truth:
        near = [e for e in emissions
                if abs(e["f_hz"] - t.f_apparent_hz) <= max(2_000.0, 0.02 * t.bw_99_hz)]
        assert len(near) == 1, (t.emitter_id, near)
        found[t.emitter_id] = near[0]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("site", SITES)
def test_check_gives_exactly_the_expected_findings(recordings, site, tmp_path):
    meta, truth, position = recordings[site]
    doc = check(meta, position, tmp_path)
    assert {t.emitter_id for t in truth} == set(EXPECTED)
    found = match_to_truth(doc["emissions"], truth)
    # No emission that is not one of the scene's emitters (no artefact, no split).
    assert len(doc["emissions"]) == len(EXPECTED)
    expected_findings = []
    for emitter_id, (cls, ref, kinds) in EXPECTED.items():
        e = found[emitter_id]
        assert (e["class"], e["licence_id"]) == (cls, ref), emitter_id
        expected_findings += [(kind, round(e["f_hz"]), ref) for kind in kinds]
    got = [(f["kind"], round(f["f_hz"]), f["licence_id"]) for f in doc["findings"]]
    assert sorted(got, key=str) == sorted(expected_findings, key=str)
    for f in doc["findings"]:
        assert set(f) >= {"kind", "f_hz", "licence_id", "measured", "permitted", "legal_basis"}
        assert "Nghị định 15/2020" in f["legal_basis"]
    oot = next(f for f in doc["findings"] if f["kind"] == "frequency_out_of_tolerance")
    assert oot["measured"] == pytest.approx(6_000.0, abs=500.0) and oot["measured"] > oot[
        "permitted"]
    wide = next(f for f in doc["findings"] if f["kind"] == "bandwidth_exceeded")
    truth_wide = next(t for t in truth if t.emitter_id == "widebw-433-00")
    assert wide["measured"] == pytest.approx(truth_wide.bw_99_hz, rel=0.1)


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_sites_give_one_case_per_emitter(recordings, db, tmp_path, request):
    db_url = (f"sqlite:///{tmp_path / 'rfwatch.db'}" if db == "sqlite"
              else request.getfixturevalue("pg_url"))
    env = {"RFWATCH_HOME": str(tmp_path), "RFWATCH_DB_URL": db_url}
    for site in SITES:
        meta, _truth, position = recordings[site]
        doc = check(meta, position, tmp_path, "--station", site, "--cases", db_url=db_url)
        assert len(doc["cases"]) == len([v for v in EXPECTED.values() if v[2]])
    # The command line as users run it (its own process), for the listing.
    listed = rfwatch(["cases", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    cases = json.loads(listed.stdout)
    with_findings = {k: v for k, v in EXPECTED.items() if v[2]}
    assert len(cases) == len(with_findings)
    truth = {t.emitter_id: t for t in recordings["site-a"][1]}
    for emitter_id, (cls, ref, kinds) in with_findings.items():
        [case] = [c for c in cases if abs(c["f_hz"] - truth[emitter_id].f_hz) < 2_000.0]
        assert (case["class"], case["licence_id"], case["status"]) == (cls, ref, "new")
        assert set(case["finding_kinds"]) == kinds
        assert case["stations"] == list(SITES)
        assert case["licence_linked"] is False  # licences came from a file, not the DB


@pytest.mark.slow
def test_check_refuses_a_bad_licence_file_in_one_line(recordings, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(LICENCES.read_text(encoding="utf-8").replace("432950000", "4329x0000"),
                   encoding="utf-8")
    meta, _truth, position = recordings["site-a"]
    out = rfwatch(["check", str(meta), "--licences", str(bad)], {"RFWATCH_HOME": str(tmp_path)})
    assert out.returncode == 2
    text = " ".join(out.stderr.split())  # rich wraps long lines at the console width
    assert "line 3 field 'f_hz'" in text and "nothing imported" in text
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_table_output_and_operator_override(recordings, tmp_path):
    import yaml

    meta, _truth, position = recordings["site-a"]
    base = ["check", str(meta), "--licences", str(LICENCES), "--foreign", str(FOREIGN),
            "--site-lat", str(position.lat_deg), "--site-lon", str(position.lon_deg)]
    table = rfwatch_in_process(base, {"RFWATCH_HOME": str(tmp_path), "COLUMNS": "400"})
    text = table.stdout
    # Classes and finding kinds in Vietnamese (the JSON keeps the English codes).
    for needle in ("LM-002", "CN-001", "miễn giấy phép", "chưa xác định", "có giấy phép",
                   "không đúng tần số quy định trong giấy phép",
                   "vượt độ rộng băng tần cần thiết", "Nghị định 15/2020/NĐ-CP",
                   "giá trị đo", "mức cho phép", "căn cứ pháp lý", "phân loại"):
        assert needle in text, needle
    for code in ("frequency_out_of_tolerance", "bandwidth_exceeded", "unknown"):
        assert code not in text, code
    # An operator widens the bandwidth margin in an override folder: the finding goes.
    from importlib import resources

    doc = yaml.safe_load((resources.files("compliance") / "data" / "tolerances.yaml")
                         .read_text(encoding="utf-8"))
    doc["measurement"]["bandwidth_margin_fraction"] = 2.0
    override = tmp_path / "override"
    override.mkdir()
    (override / "tolerances.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    edited = json.loads(rfwatch_in_process(base + ["--json", "--data-dir", str(override)],
                                           {"RFWATCH_HOME": str(tmp_path)}).stdout)
    kinds = sorted(f["kind"] for f in edited["findings"])
    assert kinds == ["frequency_out_of_tolerance", "licence_not_valid", "unlicensed_emission"]


def test_real_rtl_power_survey_against_a_licence(real_data, tmp_path):
    """NHK-FM Osaka, 88.1 MHz (PROVENANCE.md), licensed in a one-line registry, then not."""
    survey = real_data / "rtl_power-fm-multipath" / "nhkfm3.csv"
    header = ("licence_id,licensee,station_name,service,f_hz,emission,erp_w,lat,lon,"
              "antenna_height_m,valid_from,valid_to,status")
    registry = tmp_path / "nhk.csv"
    registry.write_text(header + "\nJP-NHK-881,NHK,NHK-FM Osaka,fm_broadcast,88100000,"
                        "256KF8EHF,10000,34.68,135.52,,2000-01-01,,valid\n", encoding="utf-8")
    out = rfwatch_in_process(["check", str(survey), "--licences", str(registry),
                              "--site-lat", "34.70", "--site-lon", "135.50", "--json"],
                             {"RFWATCH_HOME": str(tmp_path)})
    doc = json.loads(out.stdout)
    [e] = [e for e in doc["emissions"] if abs(e["f_hz"] - 88.1e6) < 10e3]
    assert (e["class"], e["licence_id"]) == ("licensed", "JP-NHK-881")
    assert doc["findings"] == []
    other = tmp_path / "other.csv"
    other.write_text(header + "\n", encoding="utf-8")
    out = rfwatch_in_process(["check", str(survey), "--licences", str(other), "--json"],
                             {"RFWATCH_HOME": str(tmp_path)})
    doc = json.loads(out.stdout)
    [e] = [e for e in doc["emissions"] if abs(e["f_hz"] - 88.1e6) < 10e3]
    assert e["class"] == "unknown"
    assert [f["kind"] for f in doc["findings"] if f["f_hz"] == e["f_hz"]] == [
        "unlicensed_emission"]
