"""Survey seams and steady carriers (issue 9, item 6), against simulator truth.

The surveys are made the way ``rtl_power`` makes them: hops that keep every FFT bin
(no crop), tuned a full sample rate apart, so each seam falls where the simulated
RTL-SDR's anti-alias filter rolls off (20 dB down at +-rate/2) and the 8-bit
requantisation floor is added after it. 30 sweeps of 6 hops, 2.4 MS/s, 512 bins.

Truth: each emitter's power at the ADC and 99 % bandwidth from a tuning centred on
it (the simulator's ``EmitterTruth``), the noise density from ``NoiseTruth``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pytest

from dsp.errors import ParameterError
from dsp.hop_response import equalise_hops, estimate_hop_response, hop_extents
from dsp.spectrum import welch_spectrum
from dsp.survey import REASON_HOP_ALIAS, _reject_hop_aliases, analyze_survey
from dsp.sweep import plan_sweep, stitch
from dsp.types import Emission, Spectrum
from firmware_bridge.simulator import Scene, SimulatorReceiver
from firmware_bridge.survey_csv import read_survey_csv
from tests.conftest import REAL_DATA

RATE_HZ = 2.4e6
FFT = 512
N_HOP = 65_536  # samples per hop and sweep (128 FFTs)
N_SWEEPS = 30
F0_HZ = 96e6
PLAN = plan_sweep(F0_HZ, F0_HZ + 6 * RATE_HZ - RATE_HZ / FFT, sample_rate_hz=RATE_HZ,
                  fft_size=FFT, usable_fraction=1.0)  # rtl_power: no crop
SEAMS_HZ = [h.f_center_hz - RATE_HZ / 2 - RATE_HZ / FFT / 2 for h in PLAN[1:]]
STATION_HZ = SEAMS_HZ[2] + 20e3  # straddles the seam between hops 2 and 3
CW_HZ = PLAN[4].f_center_hz + 300e3

SCENE = """
name: seam
start_time: 2026-01-05T01:00:00Z
seed: 7
propagation: {{model: free_space}}
receivers:
  - id: rx
    position: {{lat: 21.85, lon: 106.76, alt_m: 270}}
    noise_figure_db: {nf}
    cable_loss_db: 1.0
    ppm_error: 0
    dc_offset: {{i: 0.0, q: 0.0}}
    iq_imbalance: {{amplitude_db: 0.0, phase_deg: 0.0}}
    gain_db: {gain}
    f_center_hz: 100.0e6
    sample_rate_hz: 2.4e6
emitters:
{emitters}"""
EMITTER = ("  - {{id: {id}, position: {{lat: 21.90, lon: 106.76}}, f_hz: {f}, "
           "modulation: {{kind: {kind}}}, erp_dbm: {erp}}}\n")


@dataclass
class Survey:
    sweeps: list[Spectrum]
    truth: dict  # emitter id -> EmitterTruth from a tuning centred on it
    floor_db: float  # true noise per bin (dBFS)
    white_db: float  # the requantisation floor per bin (dBFS)


def make_survey(emitters: list[tuple[str, float, str, float]], *, gain_db: float,
                nf_db: float, seed: int) -> Survey:
    text = SCENE.format(nf=nf_db, gain=gain_db, emitters="".join(
        EMITTER.format(id=i, f=f, kind=k, erp=p) for i, f, k, p in emitters))
    rx = SimulatorReceiver.from_scene(Scene.from_text(text), "rx", seed=seed)
    truth = {}
    sweeps = []
    with rx:
        for eid, f_hz, _, _ in emitters:
            rx.tune(f_hz)
            rx.read(FFT)
            truth[eid] = next(t for t in rx.truth() if t.emitter_id == eid)
        noise = rx.noise_truth()
        for _ in range(N_SWEEPS):
            hops = []
            for hop in PLAN:
                rx.tune(hop.f_center_hz)
                block = rx.read(N_HOP)
                hops.append(welch_spectrum(block.samples, sample_rate_hz=RATE_HZ,
                                           f_center_hz=block.f_center_hz, fft_size=FFT,
                                           t_start_ns=block.t_start_ns))
            sweeps.append(stitch(hops, PLAN))
    rbw_db = 10 * math.log10(sweeps[0].rbw_hz)
    return Survey(sweeps, truth, noise.total_dbfs_hz + rbw_db,
                  noise.quantisation_dbfs_hz + rbw_db)


@pytest.fixture(scope="module")
def low_gain() -> Survey:
    """Gain 40 dB: the requantisation floor is a quarter of the noise mid-hop."""
    return make_survey([("fm", STATION_HZ, "wbfm", -5), ("cw", CW_HZ, "cw", -33.5)],
                       gain_db=40.2, nf_db=6.0, seed=1)


@pytest.fixture(scope="module")
def noisy_front_end() -> Survey:
    """NF 20 dB at full gain: the noise passes the filters as the signals do."""
    return make_survey([("fm", STATION_HZ, "wbfm", -5)], gain_db=49.6, nf_db=20.0, seed=2)


def _station(result, truth):
    hits = [e for e in result.emissions if e.f_low_hz <= truth.f_apparent_hz <= e.f_high_hz]
    assert len(hits) == 1, [(e.f_hz, e.bw_99_hz) for e in result.emissions]
    return hits[0]


def test_seam_station_with_the_receivers_white_floor(low_gain: Survey) -> None:
    fm = low_gain.truth["fm"]
    raw = _station(analyze_survey(low_gain.sweeps, equalise=False), fm)
    assert raw.power_db - fm.power_dbfs < -3.0  # the problem: the seam hides the station
    e = _station(analyze_survey(low_gain.sweeps, white_floor_db=low_gain.white_db), fm)
    assert abs(e.power_db - fm.power_dbfs) <= 1.5
    assert abs(e.bw_99_hz - fm.bw_99_hz) <= 0.15 * fm.bw_99_hz
    assert abs(e.f_hz - fm.f_apparent_hz) <= e.f_resolution_hz  # within a bin


def test_seam_station_when_the_noise_passes_the_filters(noisy_front_end: Survey) -> None:
    fm = noisy_front_end.truth["fm"]
    raw = _station(analyze_survey(noisy_front_end.sweeps, equalise=False), fm)
    e = _station(analyze_survey(noisy_front_end.sweeps), fm)  # nothing known beforehand
    assert abs(e.power_db - fm.power_dbfs) <= 1.5
    assert abs(e.bw_99_hz - fm.bw_99_hz) <= 0.15 * fm.bw_99_hz
    assert abs(e.power_db - fm.power_dbfs) < abs(raw.power_db - fm.power_dbfs)


@pytest.mark.parametrize("equalise", [False, True])
def test_floor_beside_the_seams(low_gain: Survey, equalise: bool) -> None:
    r = analyze_survey(low_gain.sweeps, equalise=equalise)
    s = r.spectrum
    bias = []
    for seam in SEAMS_HZ:
        if abs(seam - STATION_HZ) < 300e3:
            continue
        for off in (-200e3, -100e3, -50e3, -10e3, 10e3, 50e3, 100e3, 200e3):
            i = int(round((seam + off - s.f_start_hz) / s.f_step_hz))
            bias.append(r.noise_floor_db[i] - low_gain.floor_db)
    bias = np.array(bias)
    if equalise:
        assert np.all(np.abs(bias) <= 0.5), bias  # unbiased within 0.5 dB
    else:
        assert np.all(bias < -3.0), bias  # the seam dips pull the percentile floor down


def test_steady_weak_carrier_is_measured_on_the_average(low_gain: Survey) -> None:
    cw = low_gain.truth["cw"]
    assert cw.power_dbfs - low_gain.floor_db == pytest.approx(8.5, abs=0.5)
    r = analyze_survey(low_gain.sweeps)
    hits = [e for e in r.emissions if e.f_low_hz <= cw.f_apparent_hz <= e.f_high_hz]
    assert len(hits) == 1
    (e,) = hits
    assert "intermittent" not in e.flags
    assert e.bw_99_hz <= 4 * e.f_resolution_hz  # a carrier: a window's width, not a hop's
    assert abs(e.power_db - cw.power_dbfs) <= 1.0
    assert e.snr_db > 0
    assert e.t_first_ns == r.spectrum.t_start_ns
    assert not any(abs(x.f_hz - cw.f_apparent_hz) < 5e3 for x, _ in r.rejected)
    # without equalisation it hides inside a hop-wide bump of the floor
    raw = analyze_survey(low_gain.sweeps, equalise=False)
    assert not any(x.f_low_hz <= cw.f_apparent_hz <= x.f_high_hz and x.bw_99_hz < 50e3
                   for x in raw.emissions)


@pytest.mark.parametrize("white", [False, True])
def test_no_false_emission_at_the_seams(low_gain: Survey, white: bool) -> None:
    # The station's part beyond each hop's edge folds into that hop's other edge one
    # sample rate away (the anti-alias filter is 20 dB down there): rejected as
    # hop_alias, listed, not reported.
    r = analyze_survey(low_gain.sweeps, white_floor_db=low_gain.white_db if white else None)
    truths = [t.f_apparent_hz for t in low_gain.truth.values()]
    for e in r.emissions:
        assert any(e.f_low_hz - e.f_resolution_hz <= f <= e.f_high_hz + e.f_resolution_hz
                   for f in truths), (e.f_hz, e.power_db)
    aliases = [e for e, why in r.rejected if why == "hop_alias"]
    assert any(abs(e.f_hz + RATE_HZ - STATION_HZ) < 30e3 for e in aliases)


def test_alias_rule_needs_a_hop_edge_and_a_stronger_partner() -> None:
    # four hops of 100 bins (100 kHz); one hop width = 100 kHz
    s = Spectrum(100e6, 1e3, np.zeros(400, np.float32), "dBFS", 1e3, 0, 1,
                 hop_t_ns=((0, 0), (100, 0), (200, 0), (300, 0)))

    def em(offset_hz: float, p_db: float) -> Emission:
        return Emission(100e6 + offset_hz, 4e3, 4e3, p_db, p_db, 20.0, -60.0, "dBFS",
                        1e3, 0, 1)

    strong = em(195e3, -20.0)  # hop 1's upper edge
    alias = em(95e3, -40.0)  # hop 0's upper edge, one hop width below: an alias
    weak_partner = em(295e3, -25.0)  # hop 2's upper edge, only 5 dB under hop 1's
    mid = em(350e3, -45.0)  # the middle of hop 3, 155 kHz from anything: kept
    mid_partner = em(250e3, -45.0)  # hop 2's middle, one hop width below mid: kept
    kept, rejected = _reject_hop_aliases([alias, strong, mid_partner, weak_partner, mid], s)
    assert [e for e, _ in rejected] == [alias]
    assert {why for _, why in rejected} == {REASON_HOP_ALIAS}
    assert kept == [strong, mid_partner, weak_partner, mid]
    single = dataclasses.replace(s, hop_t_ns=())
    assert _reject_hop_aliases([alias, strong], single) == ([alias, strong], [])


def test_no_negative_snr_from_a_survey(low_gain: Survey, noisy_front_end: Survey) -> None:
    for survey in (low_gain, noisy_front_end):
        for e in analyze_survey(survey.sweeps).emissions:
            assert math.isnan(e.snr_db) or e.snr_db >= 0


# --- the estimate itself, on synthetic hops with a known response -----------------

def _synthetic(response_db: np.ndarray, n_hops: int, n_sweeps: int, k: int, rng,
               signals: tuple[tuple[int, int, float], ...] = ()) -> list[Spectrum]:
    n = response_db.size * n_hops
    out = []
    for t in range(n_sweeps):
        lin = rng.gamma(k, 1 / k, n) * 1e-6
        for a, b, p in signals:
            lin[a:b] += p
        lin *= np.tile(10 ** (response_db / 10), n_hops)
        out.append(Spectrum(100e6, 1e3, (10 * np.log10(lin)).astype(np.float32), "dBFS",
                            1e3, t * 10**9, t * 10**9 + 10**8, n_averages=k,
                            hop_t_ns=tuple((h * response_db.size, t * 10**9)
                                           for h in range(n_hops))))
    return out


def _ripple(m: int) -> np.ndarray:
    x = np.arange(m) / (m - 1)
    return -8.0 * (np.abs(2 * x - 1) ** 12) + 0.4 * np.sin(2 * np.pi * 5 * x)


def test_estimate_recovers_a_known_response_past_signals() -> None:
    rng = np.random.default_rng(8)
    resp = _ripple(128)
    # strong signals in three of eight hops, at different bin positions
    sig = ((130, 150, 1e-4), (300, 340, 3e-5), (640 + 120, 640 + 128, 1e-4))
    est = estimate_hop_response(_synthetic(resp, 8, 30, 100, rng, sig))
    assert est is not None and est.n_hops == 8 and est.hop_bins == 128
    truth = resp - np.median(resp[32:96])
    big = np.abs(truth) > 0.3
    assert np.max(np.abs(est.response_db[big] - truth[big])) < 0.25
    assert est.depth_db == pytest.approx(-truth.min(), abs=0.25)


def test_flat_survey_is_left_unchanged() -> None:
    rng = np.random.default_rng(9)
    spectra = _synthetic(np.zeros(64), 6, 20, 100, rng)
    est = estimate_hop_response(spectra)
    assert est is not None
    assert np.count_nonzero(est.response_db) <= 2  # 3 standard errors: rare by chance
    eq = equalise_hops(spectra[0], est)
    assert np.max(np.abs(eq.power_db - spectra[0].power_db)) < 0.3


def test_equalised_noise_is_flat_and_a_signal_keeps_its_power() -> None:
    rng = np.random.default_rng(10)
    resp = _ripple(128)
    sig = ((127 - 10, 127 + 10, 2e-5),)  # 20 bins across the seam of hops 0 and 1
    spectra = _synthetic(resp, 6, 30, 200, rng, sig)
    est = estimate_hop_response(spectra)
    eq = [equalise_hops(s, est) for s in spectra]
    mean = np.mean([10 ** (s.power_db / 10) for s in eq], axis=0)
    noise = np.delete(mean, np.s_[100:160])
    assert 10 * np.log10(noise.max() / noise.min()) < 0.6
    power = mean[117:137].sum() - 20 * 1e-6
    assert 10 * np.log10(power / (20 * 2e-5)) == pytest.approx(0.0, abs=0.3)


def test_single_hop_and_bad_arguments() -> None:
    rng = np.random.default_rng(11)
    one = _synthetic(_ripple(64), 1, 5, 10, rng)
    assert estimate_hop_response(one) is None
    assert hop_extents(one[0]) == [(0, 64)]
    with pytest.raises(ParameterError, match="empty"):
        estimate_hop_response([])
    with pytest.raises(ParameterError, match="min_hops"):
        estimate_hop_response(one, min_hops=1)
    with pytest.raises(ParameterError, match="white_floor_db"):
        estimate_hop_response(one, white_floor_db=math.nan)
    with pytest.raises(ParameterError, match="HopResponse"):
        equalise_hops(one[0], "flat")  # type: ignore[arg-type]


# --- the real rtl_power files ----------------------------------------------------

FM = REAL_DATA / "rtl_power-fm-multipath"


@pytest.mark.parametrize("name", ["nhkfm3", "cocolo3", "fm802-3", "fmosaka-3"])
def test_real_rtl_power_surveys(name: str) -> None:
    # One 100 kHz hop inside an FM channel: no seam to equalise (a single hop cannot
    # tell its response from the station filling it), and no negative SNR.
    sweeps = list(read_survey_csv(FM / f"{name}.csv").spectra)
    assert estimate_hop_response(sweeps) is None
    r = analyze_survey(sweeps)
    same = analyze_survey(sweeps, equalise=False)
    assert [e.f_hz for e in r.emissions] == [e.f_hz for e in same.emissions]
    for e in r.emissions:
        assert math.isnan(e.snr_db) or e.snr_db >= 0
        assert "coherent" in e.flags
    # The author's peak hold (max over the sweeps, *-ph.csv) agrees with ours bin by
    # bin: the survey is read on the right grid, the extra 129th value dropped.
    ph = np.loadtxt(FM / f"{name}-ph.csv", delimiter=",")
    ours = np.max([s.power_db for s in sweeps], axis=0)
    f = sweeps[0].f_hz()
    np.testing.assert_allclose(ph[:128, 0], f, atol=0.01)
    assert np.max(np.abs(ph[:128, 1] - ours)) < 0.02
