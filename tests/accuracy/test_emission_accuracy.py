"""Detection and measurement accuracy against the RF-scene simulator's ground truth.

Scenes (built here from YAML; the simulator reports each emitter's apparent centre,
99 % bandwidth and power at the ADC, and the noise density):

- ``iq``: one 2.4 MS/s tuning at 100 MHz with WBFM, AM (5 kHz), CW, two NBFM 25 kHz
  apart (close neighbours, 22 dB apart), 4FSK, and two weak emitters (SNR 3 and 6 dB),
  a DC offset, IQ imbalance (0.5 dB, 3 degrees) and a 15 ppm crystal error.
- ``clip``: the same with the WBFM station 33 dB stronger, so the ADC clips.
- ``sweep``: a 540-552 MHz sweep (7 hops) with a DVB-T2-like 7.6 MHz multiplex and an
  AM emitter.

SNR is the true power over the true noise in the emission's own 99 % bandwidth
(at least one RBW). Asserted (issue 5): every emission with SNR >= 10 dB is found,
as its own emission; centre within max(2 kHz, 2 % of the OBW); integrated power
within 1 dB; 99 % bandwidth within 10 % for modulated emissions measured with at
least 20 bins across them (a 5 kHz emission in a 1.2 kHz-bin sweep cannot be, the
IQ scene measures it finely); no DC spike or IQ image reported; no false alarm.
The table is printed in the terminal summary (see conftest.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from dsp.artefacts import verify_by_retuning
from dsp.pipeline import AnalysisResult, analyze_iq, analyze_spectrum
from dsp.spectrum import welch_spectrum
from dsp.sweep import plan_sweep, stitch
from firmware_bridge.simulator import Scene, SimulatorReceiver

RATE_HZ = 2.4e6
N_SAMPLES = 600_000  # 0.25 s of IQ per tuning

_HEADER = """
name: {name}
start_time: 2026-01-05T01:00:00Z
seed: 7
propagation: {{model: free_space}}
receivers:
  - id: rx
    position: {{lat: 21.85, lon: 106.76, alt_m: 270}}
    noise_figure_db: 6.0
    cable_loss_db: 1.0
    ppm_error: {ppm}
    dc_offset: {{i: 0.01, q: -0.008}}
    iq_imbalance: {{amplitude_db: 0.5, phase_deg: 3.0}}
    gain_db: {gain}
    f_center_hz: 100.0e6
    sample_rate_hz: 2.4e6
emitters:
"""
_EMITTER = (
    "  - {{id: {id}, position: {{lat: 21.90, lon: 106.76}}, f_hz: {f}, "
    "modulation: {mod}, erp_dbm: {erp}}}\n"
)

#: (id, f_hz, modulation, ERP dBm) of the 100 MHz scene.
IQ_EMITTERS = [
    ("fm", 99.40e6, "{kind: wbfm}", 10),
    ("am", 99.90e6, "{kind: am}", 0),
    ("cw", 100.15e6, "{kind: cw}", -20),
    ("nbfm-a", 100.30e6, "{kind: nbfm}", -27),
    ("nbfm-b", 100.325e6, "{kind: nbfm}", -5),
    ("dmr", 100.45e6, "{kind: fsk4}", -12),
    ("weak-nbfm", 99.70e6, "{kind: nbfm}", -35),
    ("weak-cw", 100.80e6, "{kind: cw}", -38),
]


def make_scene(name: str, emitters: list[tuple], *, gain_db: float, ppm: float) -> Scene:
    text = _HEADER.format(name=name, gain=gain_db, ppm=ppm)
    for eid, f_hz, mod, erp in emitters:
        text += _EMITTER.format(id=eid, f=f_hz, mod=mod, erp=erp)
    return Scene.from_text(text)


@dataclass
class Truth:
    emitter_id: str
    modulation: str
    f_hz: float
    bw_99_hz: float
    power_dbfs: float
    image_f_hz: float | None


def score(
    scene: str,
    result: AnalysisResult,
    truths: list[Truth],
    n0_dbfs_hz: float,
    tuned_centres_hz: list[float],
    report: tuple[list[dict], list[str]],
) -> list[str]:
    """Record the table rows; return the failures (empty when every assertion holds)."""
    rows, summary = report
    failures: list[str] = []
    ems = list(result.emissions)
    rbw = result.spectrum.rbw_hz
    used: dict[int, str] = {}
    strong = found_strong = 0
    for t in truths:
        snr = t.power_dbfs - n0_dbfs_hz - 10 * math.log10(max(t.bw_99_hz, rbw))
        cover = [
            i for i, e in enumerate(ems)
            if e.f_low_hz - e.f_resolution_hz <= t.f_hz <= e.f_high_hz + e.f_resolution_hz
        ]
        i = min(cover, key=lambda k: abs(ems[k].f_hz - t.f_hz)) if cover else None
        e = ems[i] if i is not None else None
        row = {
            "scene": scene, "emitter": t.emitter_id, "mod": t.modulation, "snr_db": snr,
            "found": e is not None, "df_hz": None, "dp_db": None,
            "bw_true_hz": t.bw_99_hz, "bw_meas_hz": None, "dbw_pct": None,
        }
        if e is not None:
            row.update(df_hz=e.f_hz - t.f_hz, dp_db=e.power_db - t.power_dbfs,
                       bw_meas_hz=e.bw_99_hz)
            if t.bw_99_hz > 0:
                row["dbw_pct"] = 100 * (e.bw_99_hz - t.bw_99_hz) / t.bw_99_hz
        rows.append(row)
        if snr < 10:
            continue
        strong += 1
        if e is None:
            failures.append(f"{scene}/{t.emitter_id} (SNR {snr:.1f} dB) not found")
            continue
        found_strong += 1
        if i in used:
            failures.append(f"{scene}/{t.emitter_id} merged with {used[i]}")
        used[i] = t.emitter_id
        if abs(row["df_hz"]) > max(2e3, 0.02 * t.bw_99_hz):
            failures.append(f"{scene}/{t.emitter_id} centre off by {row['df_hz']:.0f} Hz")
        if abs(row["dp_db"]) > 1.0:
            failures.append(f"{scene}/{t.emitter_id} power off by {row['dp_db']:.2f} dB")
        if (t.modulation != "cw" and t.bw_99_hz >= 20 * e.f_resolution_hz
                and abs(row["dbw_pct"]) > 10.0):
            failures.append(f"{scene}/{t.emitter_id} OBW off by {row['dbw_pct']:.1f} %")

    def explained(e: object) -> bool:
        return any(
            e.f_low_hz - e.f_resolution_hz <= t.f_hz <= e.f_high_hz + e.f_resolution_hz
            for t in truths
        )

    false_alarms = [e for e in ems if not explained(e)]
    for e in false_alarms:
        failures.append(f"{scene}: false alarm at {e.f_hz:.0f} Hz ({e.power_db:.1f} dBFS)")
    for e in ems:
        if explained(e):
            continue
        for t in truths:
            if t.image_f_hz is not None and abs(e.f_hz - t.image_f_hz) <= max(
                2e3, 0.05 * t.bw_99_hz
            ):
                failures.append(f"{scene}: IQ image of {t.emitter_id} reported")
        for fc in tuned_centres_hz:
            if abs(e.f_hz - fc) <= 3 * e.f_resolution_hz:
                failures.append(f"{scene}: DC spike at {fc:.0f} Hz reported")
    summary.append(
        f"{scene}: Pd(SNR>=10 dB) = {found_strong}/{strong}; "
        f"false alarms per sweep = {len(false_alarms)}; "
        f"rejected artefacts = {sum(1 for _, r in result.rejected if r != 'low_snr')}"
    )
    return failures


def read_iq(scene: Scene, f_center_hz: float) -> tuple:
    rx = SimulatorReceiver.from_scene(scene, "rx", seed=1)
    with rx:
        rx.tune(f_center_hz)
        block = rx.read(N_SAMPLES)
        return block, rx.truth(), rx.noise_truth()


def iq_truths(truth: list) -> list[Truth]:
    return [
        Truth(t.emitter_id, t.modulation, t.f_apparent_hz, t.bw_99_hz, t.power_dbfs,
              t.image_f_hz)
        for t in truth if t.on_air and t.fully_in_band
    ]


def test_iq_scene_accuracy(accuracy_report: tuple[list[dict], list[str]]) -> None:
    scene = make_scene("iq", IQ_EMITTERS, gain_db=29.7, ppm=15)
    block, truth, noise = read_iq(scene, 100e6)
    assert not block.overload
    result = analyze_iq(block.samples, sample_rate_hz=block.sample_rate_hz,
                        f_center_hz=block.f_center_hz, t_start_ns=block.t_start_ns,
                        overload=block.overload)
    failures = score("iq", result, iq_truths(truth), noise.total_dbfs_hz, [100e6],
                     accuracy_report)
    assert not failures, failures
    # the IQ images of the strong emitters were seen and rejected, not dropped silently
    assert any(r == "iq_image" for _, r in result.rejected)


def test_clipping_scene_accuracy(accuracy_report: tuple[list[dict], list[str]]) -> None:
    emitters = [
        ("fm", 99.40e6, "{kind: wbfm}", 36),  # about 0 dBFS: the ADC clips
        *[e for e in IQ_EMITTERS if e[0] not in ("fm", "nbfm-a")],
        ("nbfm-a", 100.30e6, "{kind: nbfm}", -23),
    ]
    scene = make_scene("clip", emitters, gain_db=29.7, ppm=15)
    block, truth, noise = read_iq(scene, 100e6)
    assert block.overload
    result = analyze_iq(block.samples, sample_rate_hz=block.sample_rate_hz,
                        f_center_hz=block.f_center_hz, t_start_ns=block.t_start_ns,
                        overload=block.overload)
    assert result.spectrum.overload
    failures = score("clip", result, iq_truths(truth), noise.total_dbfs_hz, [100e6],
                     accuracy_report)
    assert not failures, failures


def test_sweep_scene_accuracy(accuracy_report: tuple[list[dict], list[str]]) -> None:
    emitters = [
        ("tv", 546.0e6, "{kind: ofdm, occupied_bw_hz: 7.61e6}", 30),
        ("am", 541.0e6, "{kind: am}", -10),
    ]
    scene = make_scene("sweep", emitters, gain_db=40.2, ppm=0)
    plan = plan_sweep(540e6, 552e6, sample_rate_hz=RATE_HZ, fft_size=2048)
    rx = SimulatorReceiver.from_scene(scene, "rx", seed=2)
    hops, seen = [], {}
    with rx:
        for hop in plan:
            rx.tune(hop.f_center_hz)
            block = rx.read(131_072)
            hops.append(welch_spectrum(block.samples, sample_rate_hz=RATE_HZ,
                                       f_center_hz=block.f_center_hz, fft_size=2048,
                                       t_start_ns=block.t_start_ns, overload=block.overload))
            for t in rx.truth():
                seen.setdefault(t.emitter_id, []).append(t)
        noise = rx.noise_truth()
        gain_db = rx.effective_gain_db
    sweep = stitch(hops, plan)
    result = analyze_spectrum(sweep)
    # Whole-emission power at the ADC: the connector power through the gain, plus the
    # IQ-imbalance gain that the AM's fully-in-band truth shows.
    am = next(t for t in seen["am"] if t.fully_in_band)
    mu_db = am.power_dbfs - (am.power_dbm + rx.dbm_to_dbfs_offset_db(am.f_hz, gain_db))
    truths = []
    for eid, ts in seen.items():
        t = ts[0]
        p = t.power_dbm + rx.dbm_to_dbfs_offset_db(t.f_hz, gain_db) + mu_db
        truths.append(Truth(eid, t.modulation, t.f_apparent_hz, t.bw_99_hz, p, None))
    failures = score("sweep", result, truths, noise.total_dbfs_hz,
                     [h.f_center_hz for h in plan], accuracy_report)
    assert not failures, failures


def test_retuning_tells_an_image_from_an_emission() -> None:
    scene = make_scene("retune", IQ_EMITTERS, gain_db=29.7, ppm=0)
    rx = SimulatorReceiver.from_scene(scene, "rx", seed=3)

    def remeasure(f_center_hz: float):
        rx.tune(f_center_hz)
        block = rx.read(262_144)
        return welch_spectrum(block.samples, sample_rate_hz=RATE_HZ,
                              f_center_hz=block.f_center_hz, fft_size=2048)

    with rx:
        rx.tune(100e6)
        block = rx.read(N_SAMPLES)
        result = analyze_iq(block.samples, sample_rate_hz=RATE_HZ, f_center_hz=100e6)
        images = [e for e, r in result.rejected if r == "iq_image"]
        fm_image = next(e for e in images if abs(e.f_hz - 100.6e6) < 5e3)
        fm = next(e for e in result.emissions if abs(e.f_hz - 99.4e6) < 5e3)
        verdict_image = verify_by_retuning(fm_image, remeasure, f_center_hz=100e6,
                                           shift_hz=250e3)
        verdict_fm = verify_by_retuning(fm, remeasure, f_center_hz=100e6, shift_hz=250e3)
    assert not verdict_image.real
    assert verdict_fm.real
    assert abs(verdict_fm.power_after - verdict_fm.power_before) < 1.0


@pytest.mark.parametrize("seed", [11, 12])
def test_noise_only_gives_no_emission(seed: int) -> None:
    # a receiver with only its own noise, DC offset and imbalance: nothing to report
    scene = make_scene("quiet", [("far", 150e6, "{kind: cw}", -60)], gain_db=40.2, ppm=0)
    rx = SimulatorReceiver.from_scene(scene, "rx", seed=seed)
    with rx:
        rx.tune(100e6)
        block = rx.read(N_SAMPLES)
    result = analyze_iq(block.samples, sample_rate_hz=RATE_HZ, f_center_hz=100e6)
    assert result.emissions == (), [(e.f_hz, e.snr_db) for e in result.emissions]
    assert np.all(np.isfinite(result.noise_floor_db))
