"""SimulatorReceiver as a Receiver: time, faults, schedules, determinism, movement."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.errors import ReceiverError, ReceiverLost, ReceiverNotFound
from dsp.types import GeoPosition
from firmware_bridge.receiver import R820T_GAINS_DB
from firmware_bridge.simulator import Scene, SimulatorReceiver, scene_path
from firmware_bridge.simulator.receiver import RETUNE_GAP_NS

RATE_LOW_HZ = 250e3  # a legal RTL-SDR rate that keeps long virtual times cheap

SCHEDULE_SCENE = """
name: sched
start_time: 2026-01-05T01:00:00Z
propagation: {{model: free_space}}
receivers:
  - id: rx
    position: {{lat: 21.85, lon: 106.76}}
    gain_db: 40.2
    f_center_hz: 150.0e6
    sample_rate_hz: 250.0e3
    faults: {faults}
emitters:
  - id: burst
    position: {{lat: 21.94, lon: 106.76}}
    f_hz: 150.05e6
    modulation: {{kind: cw}}
    erp_dbm: 10
    schedule: {{kind: intermittent, period_s: 10, on_s: 4, offset_s: 1}}
  - id: windows
    position: {{lat: 21.94, lon: 106.76}}
    f_hz: 149.95e6
    modulation: {{kind: cw}}
    erp_dbm: 10
    schedule: {{kind: windows, windows: [[2.5, 3.0], [7.25, 8.0]]}}
"""


def _scene(faults: str = "{}") -> Scene:
    return Scene.from_text(SCHEDULE_SCENE.format(faults=faults), source="sched.yaml")


def _tone_amplitude(x: np.ndarray, f_off_hz: float, fs: float, n_avg: int) -> np.ndarray:
    """|moving average| of the signal mixed down from ``f_off_hz`` (an envelope)."""
    y = x * np.exp(-2j * np.pi * f_off_hz * np.arange(x.size) / fs)
    return np.abs(np.convolve(y, np.ones(n_avg) / n_avg, mode="same"))


def test_capabilities_are_an_r820t():
    rx = SimulatorReceiver.from_scene(_scene(), seed=0)
    caps = rx.capabilities
    assert caps.f_min_hz == 24e6 and caps.f_max_hz == 1766e6
    assert caps.gains_db == R820T_GAINS_DB and len(caps.gains_db) == 29
    assert caps.accepts_rate(2.4e6) and caps.accepts_rate(250e3)
    assert not caps.accepts_rate(500e3)
    with pytest.raises(ReceiverError, match="sample rate"):
        rx.set_sample_rate(500e3)
    with pytest.raises(ReceiverError, match="out of range"):
        rx.tune(10e6)
    rx.set_gain(33.0)
    assert rx.gain_db == 32.8  # snapped to the table


def test_read_requires_open_and_gives_uint8_blocks():
    rx = SimulatorReceiver.from_scene(_scene(), seed=0)
    with pytest.raises(ReceiverError, match="not open"):
        rx.read(1000)
    with rx:
        block = rx.read(1000)
    assert block.samples.dtype == np.uint8 and block.samples.size == 2000
    assert block.n_samples == 1000
    assert block.f_center_hz == 150e6 and block.sample_rate_hz == RATE_LOW_HZ
    assert block.gain_db == 40.2 and block.receiver_id == "simulator:rx"


def test_virtual_time_advances_by_samples_and_retune_gaps():
    scene = _scene()
    rx = SimulatorReceiver.from_scene(scene, seed=0)
    with rx:
        b1 = rx.read(25_000)
        b2 = rx.read(25_000)
        rx.tune(151e6)
        b3 = rx.read(100)
        blocks = list(rx.stream(100, n_blocks=3))
    assert b1.t_start_ns == scene.start_ns
    assert b2.t_start_ns == scene.start_ns + 100_000_000  # 25k samples at 250 kS/s
    assert b3.t_start_ns == b2.t_end_ns + RETUNE_GAP_NS
    assert [b.t_start_ns for b in blocks] == [b3.t_end_ns + i * 400_000 for i in range(3)]


def test_t0_overrides_the_scene_start():
    rx = SimulatorReceiver.from_scene(_scene(), seed=0, t0_ns=1_800_000_000_000_000_000)
    with rx:
        assert rx.read(10).t_start_ns == 1_800_000_000_000_000_000


def test_intermittent_and_window_schedules_switch_at_scene_times(cu8):
    scene = _scene()
    rx = SimulatorReceiver.from_scene(scene, seed=0)
    fs = RATE_LOW_HZ
    with rx:
        x = cu8(rx.read(int(12 * fs)).samples)
    env_burst = _tone_amplitude(x, 50e3, fs, 250)
    env_win = _tone_amplitude(x, -50e3, fs, 250)
    level = 10 ** (rx.truth()[0].power_dbfs / 20)
    on_burst = env_burst > level / 2
    on_win = env_win > level / 2
    t = np.arange(x.size) / fs
    expected_burst = ((t >= 1) & (t < 5)) | ((t >= 11) & (t < 15))
    expected_win = ((t >= 2.5) & (t < 3.0)) | ((t >= 7.25) & (t < 8.0))
    # Away from the switching instants (the envelope filter is 1 ms long) they agree.
    edges = np.zeros_like(t, dtype=bool)
    for s in (1, 5, 11, 2.5, 3.0, 7.25, 8.0):
        edges |= np.abs(t - s) < 2e-3
    assert np.array_equal(on_burst[~edges], expected_burst[~edges])
    assert np.array_equal(on_win[~edges], expected_win[~edges])
    # The switch-on happens within a millisecond of 1.000 s.
    first_on = t[np.argmax(on_burst)]
    assert first_on == pytest.approx(1.0, abs=1e-3)
    # The truth says the same.
    truth_at = {s: {e.emitter_id: e.on_air for e in scene.truth(
        "rx", 150e6, fs, scene.start_ns + int(s * 1e9))} for s in (0.5, 1.5, 2.7, 6.0, 7.5)}
    assert [truth_at[s]["burst"] for s in (0.5, 1.5, 2.7, 6.0, 7.5)] == [
        False, True, True, False, False]
    assert [truth_at[s]["windows"] for s in (0.5, 1.5, 2.7, 6.0, 7.5)] == [
        False, False, True, False, True]


def test_device_loss_raises_receiver_lost_and_can_reopen():
    rx = SimulatorReceiver.from_scene(_scene("{fail_after_blocks: 3}"), seed=0)
    rx.open()
    for _ in range(3):
        rx.read(100)
    with pytest.raises(ReceiverLost, match="lost"):
        rx.read(100)
    assert not rx.is_open
    rx.open()  # the agent reopens; this fault happens once
    for _ in range(5):
        rx.read(100)


def test_repeated_and_permanent_device_loss():
    rx = SimulatorReceiver.from_scene(
        _scene("{fail_after_blocks: 1, fail_repeat: true}"), seed=0)
    for _ in range(2):
        rx.open()
        rx.read(10)
        with pytest.raises(ReceiverLost):
            rx.read(10)
    gone = SimulatorReceiver.from_scene(
        _scene("{fail_after_blocks: 0, lost_permanently: true}"), seed=0)
    gone.open()
    with pytest.raises(ReceiverLost):
        gone.read(10)
    with pytest.raises(ReceiverNotFound, match="permanently"):
        gone.open()


def test_faults_can_be_requested_at_run_time():
    rx = SimulatorReceiver.from_scene(_scene(), seed=0)
    with rx:
        rx.read(10)
        rx.set_faults(fail_after_blocks=2)
        rx.read(10)
        rx.read(10)
        with pytest.raises(ReceiverLost):
            rx.read(10)
    with pytest.raises(ValueError):
        rx.set_faults(drop_every_blocks=0)


def test_sample_drops_are_flagged_and_advance_time():
    rx = SimulatorReceiver.from_scene(
        _scene("{drop_every_blocks: 2, drop_samples: 5000}"), seed=0)
    with rx:
        blocks = [rx.read(1000) for _ in range(4)]
    assert [b.dropped_samples for b in blocks] == [0, 5000, 0, 5000]
    assert blocks[1].t_start_ns - blocks[0].t_end_ns == 20_000_000  # 5000 at 250 kS/s
    assert blocks[2].t_start_ns == blocks[1].t_end_ns


def test_same_seed_same_bytes_other_seed_other_bytes():
    def capture(seed):
        rx = SimulatorReceiver.from_scene(_scene(), seed=seed)
        with rx:
            rx.tune(150.01e6)
            return np.concatenate([rx.read(30_000).samples for _ in range(3)])

    a, b, c = capture(1), capture(1), capture(2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_moving_closer_raises_the_power_by_the_free_space_law(cu8):
    scene = _scene()
    rx = SimulatorReceiver.from_scene(scene, seed=0)
    with rx:
        rx.read(int(2 * RATE_LOW_HZ))  # to t = 2 s: "burst" is on
        far = {t.emitter_id: t for t in rx.truth()}["burst"]
        x_far = cu8(rx.read(50_000).samples)
        rx.set_position(GeoPosition(lat_deg=21.895, lon_deg=106.76, alt_m=0.0))  # half-way
        near = {t.emitter_id: t for t in rx.truth()}["burst"]
        x_near = cu8(rx.read(50_000).samples)
    assert near.distance_m == pytest.approx(far.distance_m / 2, rel=1e-3)
    assert near.power_dbm - far.power_dbm == pytest.approx(20 * np.log10(2), abs=0.02)
    amp_far = _tone_amplitude(x_far, 50e3, RATE_LOW_HZ, 5000)[5000:-5000].mean()
    amp_near = _tone_amplitude(x_near, 50e3, RATE_LOW_HZ, 5000)[5000:-5000].mean()
    assert 20 * np.log10(amp_near / amp_far) == pytest.approx(6.02, abs=0.2)


def test_agc_picks_the_highest_gain_below_the_target(cu8):
    from firmware_bridge.simulator.model import AGC_TARGET_DBFS

    scene = _scene()
    rx = SimulatorReceiver.from_scene(scene, seed=0)
    rx.set_gain(None)
    with rx:
        rx.read(int(2 * RATE_LOW_HZ))  # "burst" on from 1 s
        g = rx.effective_gain_db
        block = rx.read(50_000)
    assert block.gain_db is None
    assert g in R820T_GAINS_DB
    x = cu8(block.samples)
    total_dbfs = 10 * np.log10(np.mean(np.abs(x) ** 2))
    assert total_dbfs <= AGC_TARGET_DBFS + 0.5
    # One table step higher would have crossed the target.
    step = R820T_GAINS_DB[R820T_GAINS_DB.index(g) + 1] - g
    assert total_dbfs + step > AGC_TARGET_DBFS - 0.5


def test_from_scene_file_and_factory_spec():
    from firmware_bridge.factory import open_receiver

    rx = SimulatorReceiver.from_scene_file(scene_path("lang_son_demo"), "tan-thanh", seed=3)
    assert rx.receiver_id == "simulator:tan-thanh"
    by_name = SimulatorReceiver.from_scene_file(
        scene_path("lang_son_demo"), "Trạm Chi Ma (illustrative)")
    assert by_name.config.id == "chi-ma"
    with pytest.raises(ReceiverNotFound, match="no receiver"):
        SimulatorReceiver.from_scene_file(scene_path("basic"), "nope")
    spec_rx = open_receiver(f"simulator:{scene_path('lang_son_demo')}#huu-nghi", seed=1)
    assert isinstance(spec_rx, SimulatorReceiver)
    assert spec_rx.config.id == "huu-nghi"
