"""The UHF TV sweep of a border site: a DVB-T2 multiplex (~7.6 MHz) wider than a hop.

The hops are taken at one fixed gain and analysed stitched, so the multiplex is
measured as one emission with its whole 99 % bandwidth; analysed hop by hop under
AGC (as the narrowband sweeps are) it falls apart into per-hop fragments.
"""

from __future__ import annotations

import pytest

from dsp.errors import InputFormatError
from firmware_bridge.simulator import Scene, SimulatorReceiver, scene_path
from stations.batch import EmissionItem, SpectrumItem
from stations.config import SweepTask, load_site_config, parse_site_config
from stations.health import ReceiverHealth
from stations.sites import site_path
from stations.tasks import SweepRunner, TaskContext

TV_HZ = 546.0e6


def _sweep(task: SweepTask) -> tuple[list, SimulatorReceiver]:
    cfg = load_site_config(site_path("huu_nghi.yaml"))
    scene = Scene.from_file(scene_path("lang_son_demo"))
    rx = SimulatorReceiver(scene, "huu-nghi", seed=4)
    rx.open()
    rx.set_sample_rate(cfg.receivers[0].sample_rate_hz)
    rx.set_ppm(scene.receiver("huu-nghi").ppm_error)  # frequency error out of the way here
    items: list = []
    ctx = TaskContext(station_id="huu-nghi", receiver=cfg.receivers[0],
                      health=ReceiverHealth("rx0"), emit=items.append,
                      position=lambda: None, clock=lambda: rx.t_ns)
    SweepRunner(task)(rx, ctx)
    rx.tune(TV_HZ)
    return items, rx


def _tv_task() -> SweepTask:
    cfg = load_site_config(site_path("huu_nghi.yaml"))
    return next(t for t in cfg.tasks if isinstance(t, SweepTask) and t.name == "tv")


def test_the_site_measures_the_multiplex_as_one_emission() -> None:
    task = _tv_task()
    assert task.analysis == "stitched" and isinstance(task.gain_db, float)
    items, rx = _sweep(task)
    truth = next(t for t in rx.truth() if t.emitter_id == "ls-dvbt2-ch30")
    spectra = [i for i in items if isinstance(i, SpectrumItem)]
    assert len(spectra) == 1 and spectra[0].band == "tv"
    emissions = [i for i in items if isinstance(i, EmissionItem)]
    assert len(emissions) == 1, [(e.f_hz, e.bw_99_hz) for e in emissions]
    (e,) = emissions
    assert abs(e.f_hz - truth.f_hz) <= 10e3
    # 99 % bandwidth against the simulator's truth (flat 7.61 MHz block: 7.53 MHz).
    assert e.bw_99_hz == pytest.approx(truth.bw_99_hz, rel=0.03)
    assert 7.3e6 <= e.bw_99_hz <= 7.7e6


def test_per_hop_analysis_under_agc_would_cut_it_into_fragments() -> None:
    task = _tv_task().model_copy(update={"gain_db": "agc", "analysis": "per_hop"})
    items, _ = _sweep(task)
    emissions = [i for i in items if isinstance(i, EmissionItem)]
    # No single emission carries the multiplex's bandwidth: hops see only pieces.
    assert not [e for e in emissions if e.bw_99_hz > 5e6]
    assert emissions  # the pieces are there, each narrower than a hop


def test_stitched_analysis_needs_a_fixed_gain() -> None:
    with pytest.raises(InputFormatError, match="fixed gain_db") as err:
        parse_site_config("""
station: {id: ls-t, name: t, kind: fixed, position: {lat_deg: 21.9, lon_deg: 106.7}}
receivers: [{id: rx0, spec: "simulator:lang_son_demo"}]
tasks:
  - {type: sweep, name: tv, f_start_hz: 538 MHz, f_stop_hz: 554 MHz, every_s: 60,
     gain_db: agc, analysis: stitched}
""")
    assert err.value.field == "tasks.0"
