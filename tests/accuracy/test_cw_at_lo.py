"""A carrier exactly at the LO: the block's DC, reported, never dropped silently."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.iq_analysis import DC_BUDGET_DBFS
from dsp.pipeline import analyze_iq
from firmware_bridge.simulator import Scene, SimulatorReceiver

FS = 2.4e6
FC = 100e6


def _noise(n: int = 1 << 20, level_db: float = -50.0) -> np.ndarray:
    rng = np.random.default_rng(1)
    scale = np.float32(10 ** (level_db / 20) / np.sqrt(2))
    return (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64) * scale


@pytest.mark.parametrize("amp_db", [-25.0, -10.0])
def test_a_carrier_at_the_lo_above_any_dc_offset_is_reported_unverified(amp_db):
    r = analyze_iq(_noise() + np.complex64(10 ** (amp_db / 20)), sample_rate_hz=FS,
                   f_center_hz=FC)
    [e] = [e for e in r.emissions if abs(e.f_hz - FC) < r.spectrum.f_step_hz]
    assert "at_lo_unverified" in e.flags
    assert e.power_db == pytest.approx(amp_db, abs=0.1)  # a tone's power: |DC|^2


def test_a_dc_within_the_receivers_own_offset_is_listed_as_dc_spike():
    amp_db = DC_BUDGET_DBFS - 10.0
    r = analyze_iq(_noise() + np.complex64(10 ** (amp_db / 20)), sample_rate_hz=FS,
                   f_center_hz=FC)
    assert not [e for e in r.emissions if abs(e.f_hz - FC) < r.spectrum.f_step_hz]
    [(e, why)] = [(e, why) for e, why in r.rejected if why == "dc_spike"]
    assert e.f_hz == FC and e.power_db == pytest.approx(amp_db, abs=0.1)


def test_no_dc_no_entry():
    r = analyze_iq(_noise(), sample_rate_hz=FS, f_center_hz=FC)
    assert not [e for e, why in r.rejected if why == "dc_spike"]
    assert not r.emissions


SCENE = """
name: cw-at-lo
start_time: 2026-07-01T01:00:00Z
seed: 2
propagation: {model: free_space}
receivers:
  - id: rx
    position: {lat: 21.90, lon: 106.70, alt_m: 300}
    gain_db: 20
    f_center_hz: 163.45e6
    sample_rate_hz: 2.4e6
    dc_offset: {i: 0.002, q: -0.001}
emitters:
  - id: cw
    position: {lat: 21.91, lon: 106.71, alt_m: 300}
    f_hz: 163.45e6
    modulation: {kind: cw}
    erp_w: 1.0
"""


def test_simulated_carrier_at_the_lo_is_reported_with_its_power():
    scene = Scene.from_text(SCENE)
    rx = SimulatorReceiver(scene, "rx", seed=1)
    with rx:
        block = rx.read(1 << 20)
        truth = {t.emitter_id: t for t in rx.truth()}
    r = analyze_iq(block.samples, sample_rate_hz=block.sample_rate_hz,
                   f_center_hz=block.f_center_hz)
    [e] = [e for e in r.emissions if abs(e.f_hz - block.f_center_hz) < r.spectrum.f_step_hz]
    assert "at_lo_unverified" in e.flags
    assert e.power_db == pytest.approx(truth["cw"].power_dbfs, abs=1.0)
