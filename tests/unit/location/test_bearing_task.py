"""The bearing task end to end: simulator receiver, directional antenna, GS-232 over a pty."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.bearing import estimate_bearing, pattern_db
from dsp.geo import bearing_deg
from dsp.types import GeoPosition
from firmware_bridge.rotator import Gs232Rotator
from firmware_bridge.simulator import Scene, SimulatorReceiver, scene_path
from firmware_bridge.simulator.rotator import SimulatedGs232
from stations.bearing import measure_bearing


def test_bearing_sweep_finds_the_emitter_through_the_pty():
    scene = Scene.from_file(scene_path("rotator_site"))
    rx = SimulatorReceiver(scene, "dx", seed=1)
    sim = SimulatedGs232(azimuth_deg=0.0, speed_deg_s=3600.0, on_azimuth=rx.set_antenna_azimuth)
    path = sim.serve_pty()
    site = GeoPosition(21.90, 106.70)
    truth = bearing_deg(site, GeoPosition(21.93, 106.74))
    try:
        with rx, Gs232Rotator(path, tolerance_deg=1.0) as rot:
            res = measure_bearing(rx, rot, site_position=site, f_hz=163.45e6, bw_hz=12_000,
                                  azimuths_deg=range(0, 360, 15), beamwidth_deg=55,
                                  site_id="dx")
    finally:
        sim.close()
    err = (res.estimate.bearing_deg - truth + 180) % 360 - 180
    assert abs(err) < 5.0, (res.estimate, truth)
    assert abs(err) < 2 * res.observation.sigma_deg
    # the levels follow the pattern: boresight minus the back lobe is the front-to-back
    assert max(res.level_db) - min(res.level_db) == pytest.approx(20.0, abs=3.0)
    assert any(c.startswith("M") for c in sim.commands)


@pytest.mark.parametrize("true_deg", [3.0, 97.5, 181.0, 359.0])
def test_fit_recovers_bearing_across_north_with_noise(true_deg):
    rng = np.random.default_rng(int(true_deg))
    az = np.arange(0.0, 360.0, 15.0)
    lev = -70 + pattern_db(az - true_deg, 60.0, 20.0) + rng.normal(0, 1.0, az.size)
    est = estimate_bearing(az, lev, beamwidth_deg=60.0)
    err = (est.bearing_deg - true_deg + 180) % 360 - 180
    assert abs(err) < 4.0
    assert est.sigma_deg >= 5.0  # never claims more than the systematic floor allows
