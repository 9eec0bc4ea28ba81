"""A station that sees overload steps its gain down and re-measures (issue 9).

A real signal at the ADC falls 1 dB per dB of gain; a third-order distortion
product of a clipping signal about 3 dB. On a simulated hop where a steady strong
emitter clips the ADC (so keying cannot tell its products, and they are reported
``overload_suspect``), :func:`stations.tasks.gain_step_verifier` re-measures at a
lower gain: the products fall like products and are dropped by
:func:`stations.tasks.settle_overload`; the strong emitter and a weak real one fall
like signals and are kept, without the flag.
"""

from __future__ import annotations

from dsp.pipeline import analyze_spectrum
from dsp.spectrum import welch_spectrum
from firmware_bridge.simulator import Scene, SimulatorReceiver
from stations.config import load_site_config
from stations.health import ReceiverHealth
from stations.sites import site_path
from stations.tasks import GainStepVerdict, TaskContext, gain_step_verifier, settle_overload

FC_HZ = 100e6
BIG_HZ = FC_HZ - 300e3
WEAK_HZ = FC_HZ + 450e3

SCENE = """
name: gain-step
start_time: 2026-01-05T01:00:00Z
seed: 7
propagation: {model: free_space}
receivers:
  - id: rx
    position: {lat: 21.85, lon: 106.76, alt_m: 270}
    noise_figure_db: 12.0
    dc_offset: {i: 0.01, q: -0.008}
    iq_imbalance: {amplitude_db: 0.5, phase_deg: 3.0}
    gain_db: 29.7
    f_center_hz: 100.0e6
    sample_rate_hz: 2.4e6
emitters:
  # about +4 dBFS at the ADC: it clips; one step of 6.8 dB down it no longer does
  - {id: big, position: {lat: 21.90, lon: 106.76}, f_hz: 99.7e6, modulation: {kind: nbfm},
     erp_dbm: 40}
  - {id: weak, position: {lat: 21.90, lon: 106.76}, f_hz: 100.45e6, modulation: {kind: nbfm},
     erp_dbm: -14}
"""


def test_gain_step_tells_products_from_signals() -> None:
    rx = SimulatorReceiver(Scene.from_text(SCENE), "rx", seed=2)
    cfg = load_site_config(site_path("huu_nghi.yaml")).receivers[0]
    ctx = TaskContext(station_id="s", receiver=cfg, health=ReceiverHealth("rx0"),
                      emit=lambda item: None, position=lambda: None, clock=lambda: rx.t_ns)
    with rx:
        rx.tune(FC_HZ)
        rx.set_gain(29.7)
        block = rx.read(262_144)
        assert block.overload
        hop = welch_spectrum(block.samples, sample_rate_hz=block.sample_rate_hz,
                             f_center_hz=FC_HZ, fft_size=2048, overload=True)
        kept = list(analyze_spectrum(hop, tuned_centres_hz=[FC_HZ]).emissions)
        suspects = [e for e in kept if "overload_suspect" in e.flags]
        assert len(suspects) >= 3
        verify = gain_step_verifier(rx, ctx, fft_size=2048, n_averages=100)
        gain_before = rx.gain_db
        verdicts = verify(kept, FC_HZ)  # every emission, to see the signals fall too
        assert rx.gain_db == gain_before  # the gain is restored
    by_f = {round(v.emission.f_hz): v for v in verdicts}
    big = next(v for v in verdicts if abs(v.emission.f_hz - BIG_HZ) < 3e3)
    weak = next(v for v in verdicts if abs(v.emission.f_hz - WEAK_HZ) < 3e3)
    assert 4.0 <= big.step_db <= 8.0
    # the signals: about 1 dB per dB (the clipped one, and the weak one released from
    # the clipping's compression, a little less)
    assert big.real and weak.real, (big, weak)
    # the strong products (at +-600 and +-900 kHz: orders 2, 3, -2, -3 of -300 kHz)
    # fall like products; (+300 kHz is the big one's IQ image: retuning, not the
    # gain, tells an image)
    products = [v for v in verdicts if round(abs(v.emission.f_hz - FC_HZ) / 1e3) in (600, 900)
                and v.emission.power_db > -50]
    assert len(products) >= 3
    assert products and all(v.product for v in products), [
        (f - FC_HZ, v.drop_db) for f, v in by_f.items()]
    settled = settle_overload(kept, verdicts)
    assert any(abs(e.f_hz - BIG_HZ) < 3e3 for e in settled)
    assert any(abs(e.f_hz - WEAK_HZ) < 3e3 and "overload_suspect" not in e.flags
               for e in settled)
    assert not any(v.emission in settled for v in products)


def test_verdict_thresholds() -> None:
    from dsp.types import Emission

    e = Emission(1e6, 1e3, 1e3, -20.0, -20.0, 30.0, -90.0, "dBFS", 100.0, 0, 0)
    assert GainStepVerdict(e, 6.0, 6.2).real and not GainStepVerdict(e, 6.0, 6.2).product
    assert GainStepVerdict(e, 6.0, 17.0).product
    v = GainStepVerdict(e, 6.0, 10.0)  # in between: stays flagged
    assert not v.real and not v.product
    assert settle_overload([e], [v]) == [e]


def test_a_stitched_sweep_drops_the_products_a_clipped_hop_shows() -> None:
    from stations.tasks import SweepMeasurement, analyze_sweep

    rx = SimulatorReceiver(Scene.from_text(SCENE), "rx", seed=2)
    cfg = load_site_config(site_path("huu_nghi.yaml")).receivers[0]
    ctx = TaskContext(station_id="s", receiver=cfg, health=ReceiverHealth("rx0"),
                      emit=lambda item: None, position=lambda: None, clock=lambda: rx.t_ns)
    with rx:
        rx.tune(FC_HZ)
        rx.set_gain(29.7)
        block = rx.read(262_144)
        hop = welch_spectrum(block.samples, sample_rate_hz=block.sample_rate_hz,
                             f_center_hz=FC_HZ, fft_size=2048, overload=True)
        m = SweepMeasurement(sweep=hop, hops=(hop,), hop_centres_hz=(FC_HZ,),
                             sample_rate_hz=block.sample_rate_hz)

        def strong_products(emissions) -> list:  # noqa: ANN001
            return [e for e in emissions if round(abs(e.f_hz - FC_HZ) / 1e3) in (600, 900)
                    and e.power_db > -50]

        before = analyze_sweep(m, per_hop=False, af_db_m=None)
        after = analyze_sweep(m, per_hop=False, af_db_m=None,
                              verify_overload=gain_step_verifier(rx, ctx, fft_size=2048,
                                                                 n_averages=100))
    assert len(strong_products(before)) >= 3  # there, flagged, before the gain step
    assert strong_products(after) == []
    assert any(abs(e.f_hz - BIG_HZ) < 3e3 for e in after)
    assert any(abs(e.f_hz - WEAK_HZ) < 3e3 for e in after)
