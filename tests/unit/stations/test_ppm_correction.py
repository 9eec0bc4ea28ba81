"""The station's frequency (ppm) correction from reference carriers (issue 5).

A simulated receiver with a known crystal error hears three licensed FM broadcasters
(the references) and a CW beacon. After the agent's first FM sweep the error is
estimated from the broadcasters, reported in health and applied to what follows:
the beacon is then reported at its true RF frequency (the simulator's ground truth)
although the receiver shows it kilohertz away.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dsp.calibration import estimate_ppm
from firmware_bridge.simulator import SimulatorReceiver
from stations.agent import MemorySink, StationAgent
from stations.batch import EmissionItem, HealthItem
from stations.config import PpmTrackingConfig, parse_site_config
from stations.tasks import PpmTracker

NS = 1_000_000_000
T0_NS = 1_772_413_200 * NS
CRYSTAL_PPM = 30.0
BEACON_HZ = 98.9e6

SCENE = f"""
name: ppm
start_time: 2026-03-02T01:00:00Z
seed: 11
receivers:
  - id: rx1
    position: {{lat: 21.9, lon: 106.7, alt_m: 300}}
    ppm_error: {CRYSTAL_PPM}
    gain_db: 8.7
emitters:
  - {{id: fm-93-5, f_hz: 93.5e6, modulation: {{kind: wbfm}}, erp_w: 50,
     position: {{lat: 21.85, lon: 106.75, alt_m: 500}}}}
  - {{id: fm-97-0, f_hz: 97.0e6, modulation: {{kind: wbfm}}, erp_w: 20,
     position: {{lat: 21.95, lon: 106.65, alt_m: 300}}}}
  - {{id: fm-101-0, f_hz: 101.0e6, modulation: {{kind: wbfm}}, erp_w: 50,
     position: {{lat: 21.85, lon: 106.75, alt_m: 500}}}}
  - {{id: beacon, f_hz: {BEACON_HZ}, modulation: {{kind: cw}}, erp_w: 0.01,
     position: {{lat: 21.91, lon: 106.71, alt_m: 50}}}}
"""

SITE = """
station: {id: ls-p, name: test, kind: fixed, position: {lat_deg: 21.9, lon_deg: 106.7}}
receivers: [{id: rx0, spec: "simulator:scene.yaml", gain_db: 8.7}]
reference_carriers_hz: [93.5 MHz, 97.0 MHz, 101.0 MHz]
tasks:
  - {type: sweep, name: fm, f_start_hz: 92.2 MHz, f_stop_hz: 102.2 MHz, rbw_hz: 2 kHz,
     every_s: 60, n_averages: 400}
health_every_s: 60
"""
# (Hops of this sweep: centres 93.1 + k * 1.8 MHz, seams 0.9 MHz either side; the
# carriers sit clear of the seams.)


def _run(tmp_path: Path, site: str, passes: int) -> tuple[MemorySink, SimulatorReceiver]:
    (tmp_path / "scene.yaml").write_text(SCENE, encoding="utf-8")
    rx = SimulatorReceiver.from_scene_file(tmp_path / "scene.yaml", "rx1", seed=2, t0_ns=T0_NS)
    now = [T0_NS]
    sink = MemorySink()
    agent = StationAgent(parse_site_config(site), open_receiver=lambda _c: rx, sink=sink,
                         clock=lambda: now[0], sleep=lambda s: None,
                         read_cpu=lambda: None, read_temp=lambda: None)
    for _ in range(passes):
        agent.run_once()
        now[0] += 60 * NS
        rx.idle_until(now[0])
    agent.close()
    return sink, rx


def _beacon(sink: MemorySink) -> list[EmissionItem]:
    return [i for i in sink.items if isinstance(i, EmissionItem)
            and abs(i.f_hz - BEACON_HZ) < 20e3]


def test_the_estimate_is_reported_and_puts_emissions_on_their_true_frequency(
    tmp_path: Path,
) -> None:
    sink, rx = _run(tmp_path, SITE, passes=3)
    truth = next(t for t in rx.truth() if t.emitter_id == "beacon")
    # The receiver shows the beacon ~3 kHz away (crystal 30 ppm fast: it reads low).
    shown_ppm = estimate_ppm(truth.f_apparent_hz, truth.f_hz)
    assert shown_ppm == pytest.approx(-CRYSTAL_PPM, abs=0.1)
    health = [i for i in sink.items if isinstance(i, HealthItem)]
    assert health and all(h.ppm_estimate is not None for h in health)
    assert health[-1].ppm_estimate == pytest.approx(shown_ppm, abs=2.0)
    beacons = _beacon(sink)
    assert len(beacons) == 3  # every sweep, the first one included (it calibrated itself)
    for b in beacons:
        assert abs(b.f_hz - truth.f_hz) <= 200.0, b.f_hz - truth.f_hz
    # The licensed references themselves come out within a few hundred Hz too.
    for ref in (93.5e6, 97.0e6, 101.0e6):
        seen = [i.f_hz for i in sink.items if isinstance(i, EmissionItem)
                and abs(i.f_hz - ref) < 20e3]
        assert seen and abs(sum(seen) / len(seen) - ref) <= 500.0, ref


def test_without_references_nothing_is_corrected(tmp_path: Path) -> None:
    site = SITE.replace("reference_carriers_hz: [93.5 MHz, 97.0 MHz, 101.0 MHz]\n", "")
    sink, rx = _run(tmp_path, site, passes=1)
    truth = next(t for t in rx.truth() if t.emitter_id == "beacon")
    (b,) = _beacon(sink)
    # Uncorrected, the beacon is where the receiver shows it: ~3 kHz from the truth.
    assert abs(b.f_hz - truth.f_hz) > 2000.0
    assert abs(b.f_hz - truth.f_apparent_hz) <= 200.0
    health = [i for i in sink.items if isinstance(i, HealthItem)]
    assert health and all(h.ppm_estimate is None for h in health)


def test_tracker_refuses_too_few_or_disagreeing_references(tmp_path: Path) -> None:
    import numpy as np

    from dsp.types import Spectrum

    # Two CW references, one of them 10 ppm off its licensed frequency.
    p = np.full(6001, -90.0, np.float32)
    f0, df = 99.8e6, 100.0
    p[int((100e6 * (1 + 5e-6) - f0) / df)] = -20.0
    p[int((100.2e6 * (1 + 15e-6) - f0) / df)] = -20.0
    s = Spectrum(f0, df, p, "dBFS", 150.0, 0, 0)
    cfg = PpmTrackingConfig(method="peak", search_hz=5e3, min_refs=2, max_residual_ppm=2.0)
    tracker = PpmTracker([100e6, 100.2e6], cfg)
    assert not tracker.observe(s, 0) and tracker.ppm is None and tracker.n_rejected == 1
    # Only one reference in view while two are required: no estimate either.
    assert not PpmTracker([100e6, 300e6], cfg).observe(s, 0)
    # One good reference, one required: taken; later ones are smoothed, not jumped to.
    one = PpmTracker([100e6], PpmTrackingConfig(method="peak", search_hz=5e3, min_refs=1,
                                               smoothing=0.5, every_s=60))
    assert one.observe(s, 0) and one.ppm == pytest.approx(5.0, abs=0.05)
    assert not one.observe(s, 30 * NS)  # not due yet
    q = np.full(6001, -90.0, np.float32)
    q[int((100e6 * (1 + 9e-6) - f0) / df)] = -20.0
    assert one.observe(Spectrum(f0, df, q, "dBFS", 150.0, 0, 0), 60 * NS)
    assert one.ppm == pytest.approx(7.0, abs=0.1)
