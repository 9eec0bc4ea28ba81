"""FM broadcast carriers from the simulator, measured by demodulation through ``rfwatch analyze``.

A 2.1 s cu8 SigMF recording of a scene with two stereo FM stations (programme
audio swinging the 99 % bandwidth's centre, 19 kHz pilot) and one mono station, with
a 12 ppm crystal error, goes through the streaming file path (one pass, then a
bounded second read of the first 2 s for the FM stations). Each stereo carrier
must come out within 100 Hz of the simulator's truth (``f_apparent_hz``) with
``f_method == "fm_pilot"``, the mono one with ``"fm_demod"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.iq import u8_to_complex64
from firmware_bridge.sigmf_io import write_sigmf
from firmware_bridge.simulator import Scene, SimulatorReceiver
from rfwatch.commands.analyze import analysis_json, run_analysis

SCENE = """
name: fm
start_time: 2026-01-05T01:00:00Z
seed: 11
propagation: {model: free_space}
receivers:
  - id: rx
    position: {lat: 21.85, lon: 106.76, alt_m: 270}
    noise_figure_db: 6.0
    cable_loss_db: 1.0
    ppm_error: 12
    dc_offset: {i: 0.01, q: -0.008}
    gain_db: 20
    f_center_hz: 98.0e6
    sample_rate_hz: 2.4e6
emitters:
  - {id: vov1, position: {lat: 21.90, lon: 106.76}, f_hz: 97.3e6,
     modulation: {kind: wbfm}, erp_dbm: 20}
  - {id: vov3, position: {lat: 21.90, lon: 106.76}, f_hz: 98.5e6,
     modulation: {kind: wbfm}, erp_dbm: 5}
  - {id: mono, position: {lat: 21.90, lon: 106.76}, f_hz: 98.9e6,
     modulation: {kind: wbfm, stereo: false}, erp_dbm: 5}
"""


def test_stereo_fm_carriers_within_100_hz(tmp_path: Path) -> None:
    scene = Scene.from_text(SCENE)
    rx = SimulatorReceiver.from_scene(scene, "rx", seed=2)
    with rx:
        rx.tune(98.0e6)
        block = rx.read(int(2.1 * 2.4e6))
        truth = {t.emitter_id: t for t in rx.truth()}
    samples = u8_to_complex64(block.samples) if block.samples.dtype == np.uint8 else (
        block.samples)
    meta = write_sigmf(tmp_path / "fm.sigmf-meta", samples,
                       sample_rate_hz=block.sample_rate_hz, f_center_hz=block.f_center_hz,
                       t_start_ns=block.t_start_ns, datatype="cu8")
    result = run_analysis(meta)
    doc = analysis_json(result, source=str(meta))
    for eid, method in (("vov1", "fm_pilot"), ("vov3", "fm_pilot"), ("mono", "fm_demod")):
        t = truth[eid]
        near = [e for e in doc["emissions"] if abs(e["f_hz"] - t.f_apparent_hz) < 50e3]
        assert len(near) == 1, (eid, doc["emissions"])
        e = near[0]
        assert e["f_method"] == method, (eid, e)
        assert abs(e["f_hz"] - t.f_apparent_hz) <= 100.0, (eid, e["f_hz"] - t.f_apparent_hz)
        print(f"{eid}: carrier {e['f_hz'] - t.f_apparent_hz:+.1f} Hz from the truth")
        # the bandwidth is still the 99 % occupied bandwidth, measured on the spectrum
        assert abs(e["bw_99_hz"] - t.bw_99_hz) <= 0.1 * t.bw_99_hz, (eid, e["bw_99_hz"])
