"""``rfwatch check`` on simulated scenes of what is NOT a violation (issue 10 §3).

The scene (tests/data/compliance/scene_not_violations.yaml) puts one emitter of interest
in each site's capture: PMR446, a wireless microphone, 121.5 MHz AM, a GSM-like carrier
inside a band licence, a key fob seen near and far, a foreign FM station seen near and
far from the border. Each site's recording goes through the real CLI; the field
strengths come from the simulator's exact calibration (``--dbm-offset-db``,
``--antenna-factor-db-m``), and each class is shown both staying quiet and, with the
reason for it taken away (an override of the reference data, a registry without the
block, no distance estimate, a site far from the border), changing its verdict.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from firmware_bridge.sigmf_io import write_sigmf
from firmware_bridge.simulator import Scene, SimulatorReceiver

DATA = Path(__file__).resolve().parents[1] / "data" / "compliance"
SCENE = DATA / "scene_not_violations.yaml"
LICENCES = DATA / "licences_not_violations.csv"
FOREIGN = DATA / "foreign_not_violations.csv"
SECONDS = 0.25
PACKAGED = resources.files("compliance") / "data"

pytestmark = pytest.mark.slow


class Site:
    """One site's recording, ground truth and exact calibration."""

    def __init__(self, meta: Path, truth: list, rx: SimulatorReceiver) -> None:
        cfg = rx.config
        self.meta, self.truth, self.position = meta, truth, rx.position
        # dBFS = dBm + offset (the simulator's documented calibration) ...
        self.dbm_offset_db = -rx.dbm_to_dbfs_offset_db(cfg.f_center_hz, cfg.gain_db)
        # ... and E = P_iso + 20 log10(f/MHz) + 77.2, P = P_iso + G - L, so with
        # E = P + 107 + AF: AF = 20 log10(f/MHz) - 29.8 - G + L (f: the tuned centre;
        # over 2.4 MHz the AF changes by < 0.1 dB).
        self.af_db_m = (20 * math.log10(cfg.f_center_hz / 1e6) - 29.8 - cfg.antenna_gain_dbi
                        + cfg.cable_loss_db)

    def truth_of(self, emitter_id: str):
        return next(t for t in self.truth if t.emitter_id == emitter_id)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Site]:
    scene = Scene.from_file(SCENE)
    out = tmp_path_factory.mktemp("not_violations")
    result = {}
    for cfg in scene.config.receivers:
        rx = SimulatorReceiver.from_scene(scene, cfg.id, seed=1)
        with rx:
            block = rx.read(int(2.4e6 * SECONDS))
            truth = rx.truth()
        meta = write_sigmf(
            out / f"{cfg.id}.sigmf-meta", block.samples, sample_rate_hz=block.sample_rate_hz,
            f_center_hz=block.f_center_hz, t_start_ns=block.t_start_ns, station_id=cfg.id,
            receiver_id=block.receiver_id, position=rx.position, datatype="cu8",
        )
        result[cfg.id] = Site(meta, truth, rx)
    return result


def check(site: Site, home: Path, *extra: str, licences: Path = LICENCES,
          calibrated: bool = True) -> dict:
    args = ["check", str(site.meta), "--licences", str(licences), "--foreign", str(FOREIGN),
            "--site-lat", str(site.position.lat_deg), "--site-lon", str(site.position.lon_deg),
            "--json", *extra]
    if calibrated:
        args += ["--dbm-offset-db", str(site.dbm_offset_db),
                 "--antenna-factor-db-m", str(site.af_db_m)]
    from rfwatch.cli import app

    result = CliRunner().invoke(app, args, env={"RFWATCH_HOME": str(home)},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def emission_at(doc: dict, f_hz: float, within_hz: float = 3_000.0) -> dict:
    [e] = [e for e in doc["emissions"] if abs(e["f_hz"] - f_hz) <= within_hz]
    return e


def findings_at(doc: dict, f_hz: float, within_hz: float = 3_000.0) -> list[str]:
    return sorted(f["kind"] for f in doc["findings"] if abs(f["f_hz"] - f_hz) <= within_hz)


def override(tmp_path: Path, name: str, edit) -> Path:
    """An override folder holding the packaged ``name`` as changed by ``edit(doc)``."""
    folder = tmp_path / "override"
    folder.mkdir(exist_ok=True)
    doc = yaml.safe_load((PACKAGED / name).read_text(encoding="utf-8"))
    edit(doc)
    (folder / name).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder


# -- PMR446 ---------------------------------------------------------------------------


def test_pmr446_on_its_raster_is_exempt_not_unlicensed_off_raster(sites, tmp_path):
    site = sites["site-pmr"]
    f = site.truth_of("pmr446-ch3").f_hz
    doc = check(site, tmp_path)
    e = emission_at(doc, f)
    assert (e["class"], e["licence_id"], e["verify"]) == ("exempt", None, None)
    assert e["e_dbuv_m"] == pytest.approx(site.truth_of("pmr446-ch3").e_dbuv_m, abs=1.5)
    assert doc["findings"] == []
    # Without the PMR446 entry the 12.5 kHz land-mobile plan calls it off its raster:
    # what rfwatch said before issue 10.
    folder = override(tmp_path, "exempt_bands.yaml", lambda d: d.update(
        bands=[b for b in d["bands"] if b["id"] != "pmr446"]))
    doc = check(site, tmp_path, "--data-dir", str(folder))
    assert emission_at(doc, f)["class"] == "unknown"
    assert findings_at(doc, f) == ["off_channel_raster", "unlicensed_emission"]


# -- wireless microphone -----------------------------------------------------------


def test_wireless_microphone_is_exempt(sites, tmp_path):
    site = sites["site-mic"]
    f = site.truth_of("mic-182").f_hz
    doc = check(site, tmp_path)
    assert emission_at(doc, f)["class"] == "exempt" and doc["findings"] == []
    folder = override(tmp_path, "exempt_bands.yaml", lambda d: d.update(
        bands=[b for b in d["bands"] if b["id"] != "wireless_mic_182"]))
    doc = check(site, tmp_path, "--data-dir", str(folder))
    assert findings_at(doc, f) == ["unlicensed_emission"]


# -- 121.5 MHz ----------------------------------------------------------------------


def test_121_5_mhz_am_is_not_monitored_by_default(sites, tmp_path):
    site = sites["site-air"]
    f = site.truth_of("air-121-5").f_hz
    doc = check(site, tmp_path, calibrated=False)
    e = emission_at(doc, f)
    assert e["class"] == "not_monitored" and doc["findings"] == []
    # Configurable: an operator who monitors the band after all gets the finding.
    folder = override(tmp_path, "not_monitored.yaml", lambda d: [
        b.update(enabled=False) for b in d["bands"] if b["id"] == "aeronautical_vhf"])
    doc = check(site, tmp_path, "--data-dir", str(folder), calibrated=False)
    assert emission_at(doc, f)["class"] == "unknown"
    assert findings_at(doc, f) == ["unlicensed_emission"]


# -- GSM in a band licence -----------------------------------------------------------


def test_gsm_carrier_inside_a_band_licence_is_explained_by_it(sites, tmp_path):
    site = sites["site-gsm"]
    f = site.truth_of("gsm-945-2").f_hz
    doc = check(site, tmp_path)
    e = emission_at(doc, f, 5_000.0)
    assert (e["class"], e["licence_id"]) == ("band_licence", "BL-GSM-944")
    assert doc["findings"] == []
    # Without the registry's block the packaged (UNSURE) 900 MHz example block explains it;
    # without that too, it is unlicensed.
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(LICENCES.read_text(encoding="utf-8").splitlines()[:2]) + "\n",
                     encoding="utf-8")
    doc = check(site, tmp_path, licences=plain)
    e = emission_at(doc, f, 5_000.0)
    assert (e["class"], e["licence_id"]) == ("band_licence", "gsm_900_dl")
    folder = override(tmp_path, "band_licences.yaml", lambda d: d.update(blocks=[]))
    doc = check(site, tmp_path, "--data-dir", str(folder), licences=plain)
    assert emission_at(doc, f, 5_000.0)["class"] == "unknown"
    assert findings_at(doc, f, 5_000.0) == ["unlicensed_emission"]


# -- key fob near and far ---------------------------------------------------------


def test_key_fob_near_is_marked_for_verification_not_a_case(sites, tmp_path):
    site = sites["kit-fob-near"]
    legal, strong = site.truth_of("fob-legal"), site.truth_of("fob-strong")
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    from rfwatch.cli import app

    result = CliRunner().invoke(app, [
        "check", str(site.meta), "--licences", str(LICENCES), "--json", "--cases",
        "--site-lat", str(site.position.lat_deg), "--site-lon", str(site.position.lon_deg),
        "--dbm-offset-db", str(site.dbm_offset_db), "--antenna-factor-db-m",
        str(site.af_db_m)], env={"RFWATCH_HOME": str(tmp_path), "RFWATCH_DB_URL": db},
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    e = emission_at(doc, legal.f_hz)
    # 10 mW at 30 m reads above what 25 mW gives at 100 m: without a distance it cannot
    # be judged, so it is marked for verification, with no finding and no case.
    assert e["class"] == "exempt" and e["verify"] and "srd_433" in e["verify"]
    assert findings_at(doc, legal.f_hz) == []
    # 0.5 W at 30 m is stronger than 25 mW could give even at 10 m: not this device.
    assert emission_at(doc, strong.f_hz)["class"] == "unknown"
    assert findings_at(doc, strong.f_hz) == ["unlicensed_emission"]
    assert len(doc["cases"]) == 1  # the strong one only


def test_key_fob_with_a_distance_estimate_is_judged_by_its_erp(sites, tmp_path):
    site = sites["kit-fob-near"]
    legal, strong = site.truth_of("fob-legal"), site.truth_of("fob-strong")
    d_m = round(legal.distance_m)
    doc = check(site, tmp_path, "--emitter-distance", f"{legal.f_hz / 1e6}M={d_m}",
                "--emitter-distance", f"{strong.f_hz / 1e6}M={d_m}m")
    e = emission_at(doc, legal.f_hz)
    assert (e["class"], e["verify"]) == ("exempt", None)
    assert findings_at(doc, legal.f_hz) == []
    assert emission_at(doc, strong.f_hz)["class"] == "exempt"
    [f] = [f for f in doc["findings"] if abs(f["f_hz"] - strong.f_hz) < 3_000]
    assert f["kind"] == "exempt_limit_exceeded" and f["unit"] == "dBuV/m"
    assert f["measured"] == pytest.approx(strong.e_dbuv_m, abs=1.5)
    assert f["measured"] > f["permitted"]
    assert f"{d_m} m" in f["detail"]


def test_key_fob_far_is_quiet(sites, tmp_path):
    site = sites["site-fob-far"]
    legal, strong = site.truth_of("fob-legal"), site.truth_of("fob-strong")
    doc = check(site, tmp_path)
    assert (emission_at(doc, legal.f_hz)["class"], emission_at(doc, legal.f_hz)["verify"]) == (
        "exempt", None)
    # 0.5 W at 300 m could be a legal fob at 60 m: verify, never a finding on its own.
    far_strong = emission_at(doc, strong.f_hz)
    assert far_strong["class"] == "exempt" and far_strong["verify"]
    assert doc["findings"] == []


# -- foreign FM near and far from the border ------------------------------------------


def test_foreign_fm_near_the_border_is_over_the_trigger(sites, tmp_path):
    site = sites["site-fm-near"]
    fm = site.truth_of("fm-cn-103-5")
    doc = check(site, tmp_path)
    e = emission_at(doc, fm.f_hz, 10_000.0)
    assert (e["class"], e["licence_id"]) == ("foreign", "CN-FM-1035")
    [f] = doc["findings"]
    assert f["kind"] == "cross_border_over_trigger" and f["unit"] == "dBuV/m"
    assert f["measured"] == pytest.approx(fm.e_dbuv_m, abs=1.5) and f["permitted"] == 54.0
    assert "VN-FM-1035" in f["detail"] and "km from the border" in f["detail"]
    assert "coverage level" in f["detail"]  # the 54 dBuV/m figure is BS.412's, UNSURE
    # No licence of ours on the channel: nothing to protect, no finding.
    empty = tmp_path / "none.csv"
    empty.write_text(LICENCES.read_text(encoding="utf-8").splitlines()[0] + "\n",
                     encoding="utf-8")
    assert check(site, tmp_path, licences=empty)["findings"] == []
    # Uncalibrated (dBFS): no field strength, no field-strength finding.
    raw = check(site, tmp_path, calibrated=False)
    assert raw["findings"] == [] and emission_at(raw, fm.f_hz, 10_000.0)["e_dbuv_m"] is None


def test_foreign_fm_far_from_the_border_is_marked_for_verification(sites, tmp_path):
    site = sites["site-fm-far"]
    fm = site.truth_of("fm-cn-103-5")
    doc = check(site, tmp_path)
    e = emission_at(doc, fm.f_hz, 10_000.0)
    assert e["class"] == "foreign" and e["e_dbuv_m"] > 54.0  # over the trigger, but ...
    assert doc["findings"] == []  # ... measured 14 km inside: not the field at the border
    assert "14." in e["verify"] and "from the border" in e["verify"]
