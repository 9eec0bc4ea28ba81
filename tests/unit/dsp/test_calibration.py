"""Calibration: gain tables, antenna factors, field strength, ppm, FM pilot."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from dsp.calibration import (
    AntennaFactor,
    GainCalibration,
    apply_ppm,
    correct_spectrum_ppm,
    estimate_pilot_offset_hz,
    estimate_ppm,
    estimate_ppm_from_carriers,
    field_strength_dbuv_m,
    fm_demodulate,
)
from dsp.errors import InputFormatError
from dsp.spectrum import welch_spectrum
from dsp.units import dbuv_m_to_dbm

CAL = GainCalibration(
    f_hz=[50e6, 100e6, 400e6],
    gain_db=[0.0, 19.7, 49.6],
    table_db=[[-40.0, -41.0, -45.0], [-60.0, -61.0, -64.0], [-88.0, -90.0, -95.0]],
    receiver_id="rtlsdr:00000001",
    note="signal generator, 2026-11-01",
)


def test_gain_table_interpolates_in_frequency_and_gain() -> None:
    assert CAL.offset_db(100e6, 19.7) == -61.0
    assert CAL.offset_db(75e6, 19.7) == pytest.approx(-60.5)
    assert CAL.offset_db(100e6, 19.7 / 2) == pytest.approx(-51.0)
    # Halfway in both: mean of the four corners around (250 MHz, 34.65 dB).
    assert CAL.offset_db(250e6, 34.65) == pytest.approx((-61 - 64 - 90 - 95) / 4)
    np.testing.assert_allclose(CAL.offset_db(np.array([50e6, 400e6]), 0.0), [-40.0, -45.0])


def test_gain_table_edges() -> None:
    # Frequency outside the table holds the edge value; a gain outside is an error.
    assert CAL.offset_db(24e6, 0.0) == -40.0
    assert CAL.offset_db(1700e6, 49.6) == -95.0
    assert CAL.offset_db(100e6, 49.62) == -90.0  # within the 0.05 dB tolerance
    with pytest.raises(ValueError, match=r"gain_db=49.7 is outside the calibrated gains"):
        CAL.offset_db(100e6, 49.7)
    with pytest.raises(ValueError, match="AGC"):
        CAL.offset_db(100e6, None)
    one = GainCalibration([100e6], [20.7], [[-62.0]])
    assert one.offset_db(433e6, 20.7) == -62.0
    with pytest.raises(ValueError, match="outside the calibrated gains"):
        one.offset_db(100e6, 29.7)


def test_gain_table_round_trips_through_yaml() -> None:
    text = yaml.safe_dump(CAL.to_dict(), allow_unicode=True)
    back = GainCalibration.from_dict(yaml.safe_load(text), source="cal.yaml")
    assert back == CAL
    assert back.offset_db(250e6, 30.0) == CAL.offset_db(250e6, 30.0)


def test_calibrated_spectrum_reads_dbm() -> None:
    """A -50 dBm generator tone that the receiver shows at -11 dBFS (offset -39 dB)."""
    cal = GainCalibration([400e6, 500e6], [29.7], [[-39.0, -39.0]])
    t = np.arange(1024 * 8)
    amp = 10 ** (-11 / 20)
    x = (amp * np.exp(2j * np.pi * 100 * t / 1024)).astype(np.complex64)
    s = welch_spectrum(
        x,
        sample_rate_hz=2.048e6,
        f_center_hz=433.92e6,
        calibration_offset_db=cal.offset_db(433.92e6, 29.7),
    )
    assert s.power_unit == "dBm"
    assert float(s.power_db.max()) == pytest.approx(-50.0, abs=1e-3)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"gain_db": [1.0], "offset_db": [[1.0]]}, "f_hz"),
        ({"f_hz": [2.0, 1.0], "gain_db": [1.0], "offset_db": [[1.0, 1.0]]}, "f_hz"),
        ({"f_hz": [1.0, 2.0], "gain_db": [1.0], "offset_db": [[1.0]]}, "offset_db"),
        ({"f_hz": [1.0], "gain_db": ["x"], "offset_db": [[1.0]]}, "gain_db"),
        ({"f_hz": [1.0], "gain_db": [1.0], "offset_db": [[float("nan")]]}, "offset_db"),
        ({"f_hz": [], "gain_db": [1.0], "offset_db": [[]]}, "f_hz"),
    ],
)
def test_bad_gain_table_names_file_and_field(data: dict, field: str) -> None:
    with pytest.raises(InputFormatError, match=f"cal.yaml, field '{field}'") as info:
        GainCalibration.from_dict(data, source="cal.yaml")
    assert info.value.field == field and info.value.source == "cal.yaml"


def test_antenna_factor_interpolates_in_log_frequency() -> None:
    af = AntennaFactor([30e6, 300e6, 3000e6], [5.0, 15.0, 35.0], name="biconical")
    assert af.at(math.sqrt(30e6 * 300e6)) == pytest.approx(10.0)
    assert af.at(300e6) == 15.0
    np.testing.assert_allclose(af.at(np.array([30e6, 3000e6])), [5.0, 35.0])
    assert af.covers(30e6) and not af.covers(29e6)
    with pytest.raises(ValueError, match="outside the antenna factor table"):
        af.at(3.1e9)
    assert AntennaFactor.from_dict(af.to_dict()) == af
    with pytest.raises(InputFormatError, match="field 'af_db_m'"):
        AntennaFactor.from_dict({"f_hz": [1e6, 2e6], "af_db_m": [1.0]}, source="af.yaml")


@pytest.mark.parametrize(("f_mhz", "g_dbi"), [(100.0, 2.15), (433.92, 0.0), (1500.0, 6.0)])
def test_antenna_factor_from_gain_matches_the_textbook_formula(f_mhz: float, g_dbi: float) -> None:
    # AF = 20 log10(f / MHz) - G(dBi) - 29.79 for a matched 50-ohm antenna; the
    # textbook constant rounds c and 9.73 (exact: 29.77), hence 0.03 dB.
    af = AntennaFactor.from_gain_dbi([f_mhz * 1e6], [g_dbi])
    assert float(af.af_db_m[0]) == pytest.approx(20 * math.log10(f_mhz) - g_dbi - 29.79, abs=0.03)


def test_field_strength() -> None:
    assert field_strength_dbuv_m(-60.0, 12.0) == pytest.approx(-60 + 107 + 12, abs=0.011)
    assert field_strength_dbuv_m(-60.0, 12.0, 1.5) == pytest.approx(60.49, abs=0.005)
    e = field_strength_dbuv_m(np.array([-80.0, -40.0]), 20.0, 2.0)
    np.testing.assert_allclose(dbuv_m_to_dbm(e, 20.0, 2.0), [-80.0, -40.0])
    # 75-ohm receivers read 1.76 dB more voltage for the same power.
    assert field_strength_dbuv_m(-60.0, 0.0, impedance_ohm=75.0) - field_strength_dbuv_m(
        -60.0, 0.0
    ) == pytest.approx(10 * math.log10(1.5))


def test_ppm_round_trip() -> None:
    ppm = estimate_ppm(433_920_000 * (1 + 37.5e-6), 433_920_000)
    assert ppm == pytest.approx(37.5, abs=1e-6)
    assert apply_ppm(433_920_000 * (1 + 37.5e-6), ppm) == pytest.approx(433_920_000, abs=1e-4)
    np.testing.assert_allclose(apply_ppm(np.array([1e8, 2e8]) * (1 - 2e-6), -2.0), [1e8, 2e8])
    with pytest.raises(ValueError, match="true_f_hz must be positive"):
        estimate_ppm(1e6, 0.0)


RATE = 2.4e6
FC = 100.0e6


def _receiver_view(carriers: list[tuple[float, float]], ppm: float, seed: int) -> np.ndarray:
    """IQ at FC from a receiver whose frequencies read ``ppm`` high."""
    rng = np.random.default_rng(seed)
    n = 1 << 18
    t = np.arange(n) / RATE
    x = 0.001 * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    for f_true, amp in carriers:
        x += amp * np.exp(2j * np.pi * (f_true * (1 + ppm * 1e-6) - FC) * t)
    return x.astype(np.complex64)


def test_ppm_from_carriers_recovers_the_error() -> None:
    refs = [99.2e6, 99.7731e6, 100.4512e6, 100.9e6]
    x = _receiver_view([(f, 0.1) for f in refs[:3]], ppm=12.3, seed=1)  # 4th is absent
    s = welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=1 << 15)
    est = estimate_ppm_from_carriers(s, refs, search_hz=5e3)
    assert est.n_refs == 3
    # Bins are 73 Hz = 0.73 ppm; Gaussian interpolation gets a few % of that.
    assert est.ppm == pytest.approx(12.3, abs=0.05)
    assert est.residual_ppm < 0.05 and est.residual == est.residual_ppm
    corrected = correct_spectrum_ppm(s, est.ppm)
    k = int(np.argmax(corrected.power_db))
    assert abs(corrected.f_hz()[k] - min(refs[:3], key=lambda f: abs(f - corrected.f_hz()[k]))) < (
        corrected.f_step_hz
    )
    with pytest.raises(ValueError, match="no reference carrier found"):
        estimate_ppm_from_carriers(s, [100.9e6], search_hz=5e3)


def test_ppm_from_fm_carrier_by_centroid() -> None:
    n = 1 << 18
    t = np.arange(n) / RATE
    ppm = -8.0
    f_seen = 100.3e6 * (1 + ppm * 1e-6) - FC
    # FM carrier: 75 kHz deviation by a 3.1 kHz tone; its spectrum is symmetric.
    phase = 2 * np.pi * f_seen * t + (75e3 / 3.1e3) * np.sin(2 * np.pi * 3.1e3 * t)
    rng = np.random.default_rng(2)
    x = (0.3 * np.exp(1j * phase) + 0.001 * rng.standard_normal(n)).astype(np.complex64)
    s = welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=1 << 14)
    est = estimate_ppm_from_carriers(s, [100.3e6], search_hz=150e3, method="centroid")
    assert est.ppm == pytest.approx(ppm, abs=0.3)
    peak = estimate_ppm_from_carriers(s, [100.3e6], search_hz=150e3, method="peak")
    assert abs(peak.ppm - ppm) > abs(est.ppm - ppm)  # the peak is a sideband


def test_fm_demodulate_is_exact_for_a_tone() -> None:
    t = np.arange(1000)
    f = fm_demodulate(np.exp(2j * np.pi * -0.3 * t), 1e6)
    np.testing.assert_allclose(f, -300e3, rtol=1e-9)
    with pytest.raises(ValueError, match="at least 2 samples"):
        fm_demodulate(np.ones(1, np.complex64), 1e6)


def _fm_station(
    rate: float, seconds: float, pilot_hz: float | None, offset_hz: float
) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    # MPX: mono audio (1 kHz, 45 kHz deviation) + optional pilot (7.5 kHz deviation).
    inst = offset_hz + 45e3 * np.cos(2 * np.pi * 1e3 * t)
    if pilot_hz is not None:
        inst = inst + 7.5e3 * np.cos(2 * np.pi * pilot_hz * t)
    phase = 2 * np.pi * np.cumsum(inst) / rate
    rng = np.random.default_rng(3)
    noise = 0.01 * (rng.standard_normal(t.size) + 1j * rng.standard_normal(t.size))
    return (np.exp(1j * phase) + noise).astype(np.complex64)


def test_pilot_found_precisely_and_carrier_offset_measured() -> None:
    x = _fm_station(240e3, 0.5, 19_000.6, 3_200.0)
    est = estimate_pilot_offset_hz(x, sample_rate_hz=240e3)
    assert est.is_stereo_fm
    assert est.pilot_offset_hz == pytest.approx(0.6, abs=0.05)
    assert est.pilot_snr_db > 40
    assert est.carrier_offset_hz == pytest.approx(3_200.0, abs=20.0)


def test_pilot_after_decimation_of_a_wideband_capture() -> None:
    x = _fm_station(2.4e6, 0.25, 18_998.9, -1_500.0)
    est = estimate_pilot_offset_hz(x, sample_rate_hz=2.4e6)
    assert est.is_stereo_fm
    assert est.pilot_offset_hz == pytest.approx(-1.1, abs=0.1)
    assert est.carrier_offset_hz == pytest.approx(-1_500.0, abs=40.0)


def test_mono_station_is_not_stereo_fm() -> None:
    est = estimate_pilot_offset_hz(_fm_station(240e3, 0.5, None, 0.0), sample_rate_hz=240e3)
    assert not est.is_stereo_fm and math.isnan(est.pilot_f_hz)
    far = estimate_pilot_offset_hz(_fm_station(240e3, 0.5, 19_020.0, 0.0), sample_rate_hz=240e3)
    assert not far.is_stereo_fm  # a 19.02 kHz tone is not a BS.450 pilot
    with pytest.raises(ValueError, match="at least 0.1 s"):
        estimate_pilot_offset_hz(np.ones(1000, np.complex64), sample_rate_hz=240e3)
    with pytest.raises(ValueError, match="too low"):
        estimate_pilot_offset_hz(np.ones(1000, np.complex64), sample_rate_hz=48e3)
