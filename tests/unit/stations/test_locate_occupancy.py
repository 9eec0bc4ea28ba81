"""Emitter position from drive-test powers; occupancy and channel watch on the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.geo import destination, distance_m
from dsp.types import GeoPosition
from firmware_bridge.simulator import SimulatorReceiver, scene_path
from stations.batch import ChannelPowerItem, OccupancyItem
from stations.config import ChannelWatchTask, OccupancyTask, ReceiverConfig
from stations.health import ReceiverHealth
from stations.locate import estimate_emitter
from stations.tasks import ChannelWatchRunner, OccupancyRunner, TaskContext

TX = GeoPosition(21.930, 106.640)


def drive(n: int, rng: np.random.Generator, exponent: float, shadow_db: float):  # noqa: ANN201
    pts = [destination(TX, b, d) for b, d in zip(rng.uniform(0, 360, n),
                                                 rng.uniform(200, 3000, n), strict=True)]
    d = np.array([distance_m(TX, p) for p in pts])
    return pts, -10 - 10 * exponent * np.log10(d) + rng.normal(0, shadow_db, n)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), exponent=st.floats(2.0, 4.5))
def test_estimate_is_near_and_its_radius_covers_the_truth(seed: int, exponent: float) -> None:
    pts, p = drive(40, np.random.default_rng(seed), exponent, shadow_db=1.0)
    est = estimate_emitter(pts, p)
    assert distance_m(est.position, TX) <= est.radius_m
    assert est.radius_m < 1500
    assert est.path_loss_exponent == pytest.approx(exponent, abs=0.6)


def test_more_shadowing_means_a_larger_radius() -> None:
    radii = []
    for shadow in (0.5, 6.0):
        pts, p = drive(30, np.random.default_rng(5), 3.0, shadow_db=shadow)
        radii.append(estimate_emitter(pts, p).radius_m)
    assert radii[1] > radii[0]


def test_bad_input_is_refused() -> None:
    pts, p = drive(10, np.random.default_rng(1), 3.0, 1.0)
    with pytest.raises(ValueError, match="at least 4 points"):
        estimate_emitter(pts[:3], p[:3])
    with pytest.raises(ValueError, match="differ in length"):
        estimate_emitter(pts, p[:5])
    with pytest.raises(ValueError, match="NaN"):
        estimate_emitter(pts, np.where(np.arange(10) == 3, np.nan, p))


def _ctx(items: list) -> TaskContext:
    return TaskContext("LS-T", ReceiverConfig(id="rx0", spec="simulator:x", gain_db=20.7),
                       ReceiverHealth("rx0"), items.append, lambda: None, lambda: 0)


def test_occupancy_marks_busy_and_idle_channels() -> None:
    rx = SimulatorReceiver.from_scene_file(scene_path("basic"), "rx1", seed=2)
    rx.open()
    rx.set_gain(20.7)
    task = OccupancyTask(type="occupancy", name="occ", f_start_hz=100.0e6, f_stop_hz=100.4e6,
                         channel_bw_hz=25e3, interval_s=3, every_s=1)
    runner = OccupancyRunner(task)
    items: list = []
    for _ in range(3):
        runner(rx, _ctx(items))
    occ = {int(i.f_hz // 1e3): i.fraction for i in items if isinstance(i, OccupancyItem)}
    assert len(occ) == 16 and {i.n_samples for i in items} == {3}
    # The carrier at 100.15 MHz sits on the edge of two 25 kHz channels and the NBFM
    # voice at 100.3 MHz on the edge of two more: busy all the time. The rest is idle.
    busy = {100_137, 100_162, 100_287, 100_312}
    assert {f for f, frac in occ.items() if frac == 1.0} == busy
    assert all(frac == 0.0 for f, frac in occ.items() if f not in busy)


def test_channel_watch_measures_the_carrier_well_above_an_empty_channel() -> None:
    rx = SimulatorReceiver.from_scene_file(scene_path("basic"), "rx1", seed=2)
    rx.open()
    rx.set_gain(20.7)
    task = ChannelWatchTask(type="channel_watch", name="w", every_s=1, dwell_s=0.02, channels=[
        {"name": "cw", "f_hz": 100.15e6, "bw_hz": 12.5e3},
        {"name": "empty", "f_hz": 100.40e6, "bw_hz": 12.5e3},
    ])
    items: list = []
    ChannelWatchRunner(task)(rx, _ctx(items))
    by = {i.channel: i for i in items if isinstance(i, ChannelPowerItem)}
    truth = {t.emitter_id: t for t in rx.truth()}
    assert by["cw"].power_db > by["empty"].power_db + 20
    # Channel power of the carrier agrees with the simulator's truth (a few dB: the
    # truth is at the last tuning, the DC offset and IQ image move a little power).
    assert by["cw"].power_db == pytest.approx(truth["cw-100-15"].power_dbfs, abs=3.0)
    assert by["cw"].e_dbuv_m is None  # uncalibrated: no field strength


def test_image_suspects_are_mirrors_of_much_stronger_emissions() -> None:
    from dsp.types import Emission
    from stations.tasks import image_suspects

    def em(f_hz: float, power_db: float) -> Emission:
        return Emission(f_hz=f_hz, bw_99_hz=16e3, bw_xdb_hz=20e3, power_db=power_db,
                        peak_power_db=power_db + 3, snr_db=power_db + 80, noise_floor_db=-80,
                        power_unit="dBFS", f_resolution_hz=2.3e3, t_first_ns=0, t_last_ns=0)

    strong, image, weak_elsewhere, close_neighbour = (
        em(64.3e6, -20), em(63.5e6, -54), em(63.2e6, -55), em(63.5e6 + 100e3, -25)
    )
    found = image_suspects([strong, image, weak_elsewhere, close_neighbour], 63.9e6)
    assert found == [image]
    # An emission at the mirror but of similar power is a real neighbour, not an image.
    assert image_suspects([strong, em(63.5e6, -28)], 63.9e6) == []
