"""Scenes for the simulator tests, written inline so each test says what it sets up."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.simulator.model import Scene

RATE_HZ = 2.4e6
F_CENTER_HZ = 100e6

# Receiver at 21.85 N 106.76 E; emitters ~10 km north (0.09 deg of latitude), free space,
# so every emitter lands around -25 dBFS at 40 dB gain with thermal noise well above the
# 8-bit floor. Offsets from 100 MHz: wbfm -650 kHz, am -200 kHz, nbfm +100 kHz,
# fsk4 +300 kHz, cw +450 kHz, ofdm (400 kHz wide) +750 kHz.
MIXED_SCENE = """
name: mixed
start_time: 2026-01-05T01:00:00Z
seed: 7
propagation: {{model: free_space}}
receivers:
  - id: rx
    position: {{lat: 21.85, lon: 106.76, alt_m: 0}}
    noise_figure_db: 6
    cable_loss_db: 0
    ppm_error: {ppm}
    iq_imbalance: {{amplitude_db: {amp_db}, phase_deg: {phase_deg}}}
    dc_offset: {{i: {dc_i}, q: {dc_q}}}
    gain_db: {gain}
    f_center_hz: 100.0e6
    sample_rate_hz: 2.4e6
emitters:
  - {{id: wbfm, position: {{lat: 21.94, lon: 106.76}}, f_hz: 99.35e6,
      modulation: {{kind: wbfm}}, erp_dbm: 6}}
  - {{id: am, position: {{lat: 21.94, lon: 106.76}}, f_hz: 99.8e6,
      modulation: {{kind: am, mod_index: 0.8}}, erp_dbm: 4}}
  - {{id: nbfm, position: {{lat: 21.94, lon: 106.76}}, f_hz: 100.1e6,
      modulation: {{kind: nbfm, deviation_hz: 2500}}, erp_dbm: 5}}
  - {{id: fsk4, position: {{lat: 21.94, lon: 106.76}}, f_hz: 100.3e6,
      modulation: {{kind: fsk4}}, erp_dbm: 5}}
  - {{id: cw, position: {{lat: 21.94, lon: 106.76}}, f_hz: 100.45e6,
      modulation: {{kind: cw}}, erp_dbm: 0}}
  - {{id: ofdm, position: {{lat: 21.94, lon: 106.76}}, f_hz: 100.75e6,
      modulation: {{kind: ofdm, occupied_bw_hz: 400.0e3}}, erp_dbm: 8}}
"""


def _mixed_scene(
    *,
    ppm: float = 0.0,
    amp_db: float = 0.0,
    phase_deg: float = 0.0,
    dc_i: float = 0.0,
    dc_q: float = 0.0,
    gain: float = 40.2,
) -> Scene:
    """The six-modulation scene with the receiver impairments given."""
    text = MIXED_SCENE.format(
        ppm=ppm, amp_db=amp_db, phase_deg=phase_deg, dc_i=dc_i, dc_q=dc_q, gain=gain
    )
    return Scene.from_text(text, source="mixed.yaml")


def _cu8_to_complex(samples: np.ndarray) -> np.ndarray:
    """The documented uint8 -> [-1, 1) mapping, written out independently of dsp/."""
    x = (samples.astype(np.float64) - 127.5) / 128.0
    return x[0::2] + 1j * x[1::2]


@pytest.fixture(scope="session")
def make_mixed_scene():
    """Factory: ``make_mixed_scene(ppm=..., amp_db=..., ...) -> Scene``."""
    return _mixed_scene


@pytest.fixture(scope="session")
def cu8():
    """``cu8(samples) -> complex128``: (u - 127.5) / 128, I first."""
    return _cu8_to_complex


@pytest.fixture(scope="session")
def mixed_capture():
    """(receiver, complex IQ of 1 s) from the mixed scene with mild impairments."""
    from firmware_bridge.simulator.receiver import SimulatorReceiver

    scene = _mixed_scene(amp_db=0.2, phase_deg=1.0)
    rx = SimulatorReceiver.from_scene(scene, "rx", seed=11)
    rx.open()
    block = rx.read(int(RATE_HZ))
    return rx, _cu8_to_complex(block.samples), block
