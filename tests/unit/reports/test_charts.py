"""Evidence pictures: the survey heatmap's seam removal against known answers, and
the pictures drawn from a real rtl_power survey.

Ground truth: a hopped survey built with the rtl_power writer from a flat noise
floor, every hop at its own AGC level (a step at each boundary) with the same in-hop
roll-off (a filter's edges), and one carrier. After :func:`remove_seams` the floor
must be flat across the hops and inside them, and the carrier must keep its height
above the floor.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dsp.types import Spectrum
from firmware_bridge.survey_csv import read_survey_csv, write_survey_csv
from reports.charts import (
    find_seams,
    flatten_hop_seams,
    heatmap_png,
    remove_seams,
)

S = 1_000_000_000
HOP_BINS = 64
N_HOPS = 6
STEP_HZ = 10e3
F0_HZ = 150e6
TONE_BIN = 2 * HOP_BINS + 20  # in hop 2, away from its edges
TONE_DB = 25.0


def _rolloff() -> np.ndarray:
    x = np.linspace(-1, 1, HOP_BINS)
    return -6.0 * x**8  # 6 dB down at the hop edges, flat in the middle


def _hopped_survey(tmp_path, n_sweeps: int = 12, seed: int = 3):  # noqa: ANN001, ANN202
    rng = np.random.default_rng(seed)
    spectra = []
    for k in range(n_sweeps):
        agc = rng.uniform(-8, 8, N_HOPS)  # every hop at its own gain, every sweep
        power = np.concatenate([-70.0 + agc[h] + _rolloff() for h in range(N_HOPS)])
        power = power + rng.normal(0, 0.5, power.size)
        power[TONE_BIN] += TONE_DB
        hops = tuple((h * HOP_BINS, (1_700_000_000 + 10 * k) * S) for h in range(N_HOPS))
        spectra.append(Spectrum(f_start_hz=F0_HZ, f_step_hz=STEP_HZ,
                                power_db=power.astype(np.float32), power_unit="dBFS",
                                rbw_hz=STEP_HZ, t_start_ns=hops[0][1], t_end_ns=hops[0][1],
                                n_averages=10, hop_t_ns=hops))
    path = write_survey_csv(tmp_path / "hopped.csv", spectra)
    return read_survey_csv(path)  # what the heatmap of a real file would get


def _hop_means(power: np.ndarray) -> np.ndarray:
    """Median floor of each hop in each sweep, [sweep, hop]."""
    return np.stack([np.median(power[:, h * HOP_BINS:(h + 1) * HOP_BINS], axis=1)
                     for h in range(N_HOPS)], axis=1)


def test_seams_removed_on_a_survey_with_known_hops(tmp_path) -> None:
    survey = _hopped_survey(tmp_path)
    power = np.stack([s.power_db for s in survey.spectra]).astype(float)
    starts = [off for off, _ in survey.spectra[0].hop_t_ns]
    assert starts == [h * HOP_BINS for h in range(N_HOPS)]
    before = _hop_means(power)
    assert np.ptp(before, axis=1).mean() > 8  # the AGC steps are there
    flat = remove_seams(power, starts)
    after = _hop_means(flat)
    assert np.ptp(after, axis=1).max() < 1.0  # floors aligned across every hop
    # The in-hop roll-off is gone: edge bins sit on the floor like the middle ones.
    inhop = flat.reshape(flat.shape[0], N_HOPS, HOP_BINS)
    profile = np.median(inhop, axis=(0, 1))
    assert np.ptp(profile) < 1.0
    assert np.ptp(np.median(power.reshape(-1, N_HOPS, HOP_BINS) -
                            np.median(power.reshape(-1, N_HOPS, HOP_BINS), axis=2,
                                      keepdims=True), axis=(0, 1))) > 5
    # The carrier keeps its height over the floor (within the noise).
    rise = flat[:, TONE_BIN] - np.median(flat, axis=1)
    assert rise.mean() == pytest.approx(TONE_DB, abs=1.0)


def test_seams_found_from_the_data_alone(tmp_path) -> None:
    survey = _hopped_survey(tmp_path)
    power = np.stack([s.power_db for s in survey.spectra]).astype(float)
    found = find_seams(power)
    truth = [h * HOP_BINS for h in range(1, N_HOPS)]
    assert len(found) == len(truth)
    assert all(abs(f - t) <= 2 for f, t in zip(found, truth, strict=True))
    flat = remove_seams(power)  # hops unknown (stored spectra): detected segments
    assert np.ptp(_hop_means(flat), axis=1).max() < 2.0


def test_no_seams_in_one_hop_and_none_invented(real_data) -> None:
    survey = read_survey_csv(real_data / "rtl_power-fm-multipath" / "nhkfm3.csv")
    power = np.stack([s.power_db for s in survey.spectra]).astype(float)
    # One hop per sweep (100 kHz inside an FM channel): nothing to flatten, no seam.
    assert np.array_equal(flatten_hop_seams(power, [0]), power)
    assert find_seams(power) == []
    assert np.allclose(remove_seams(power, [0]), power)


def test_heatmap_of_a_real_rtl_power_file_is_drawn_in_utc(real_data) -> None:
    survey = read_survey_csv(real_data / "rtl_power-fm-multipath" / "nhkfm3.csv")
    spectra = survey.spectra
    f_hz = spectra[0].f_start_hz + np.arange(spectra[0].n_bins) * spectra[0].f_step_hz
    t_ns = np.array([s.t_start_ns for s in spectra])
    power = np.stack([s.power_db for s in spectra]).astype(float)
    png = heatmap_png(f_hz, t_ns, power, "vi", unit="dBFS", title="NHK-FM 88.1 MHz",
                      hop_starts=[0])
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG" and img.size[0] > 600
        # A picture with many colours (the survey), not the one-line "no data" box.
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 200
    assert 88.05e6 <= f_hz[0] and f_hz[-1] <= 88.15e6
    assert len(spectra) > 250  # 5 minutes at 1 s


def test_sweep_floors_aligned_and_emissions_kept() -> None:
    from reports.charts import align_sweep_floors

    rng = np.random.default_rng(5)
    offsets = np.array([0.0, -9.0, 4.0, 12.0])  # AGC from sweep to sweep
    power = -70.0 + offsets[:, None] + rng.normal(0, 0.5, (4, 200))
    power[:, 50] += 30.0
    aligned = align_sweep_floors(power)
    floors = np.percentile(aligned, 20, axis=1)
    assert np.ptp(floors) < 0.3
    assert np.allclose(aligned[:, 50] - np.median(aligned, axis=1), 30.0, atol=2.0)


def test_survey_heatmap_command_on_a_real_file(real_data, tmp_path) -> None:
    from typer.testing import CliRunner

    from rfwatch.cli import app

    out = tmp_path / "nhk.png"
    result = CliRunner().invoke(app, ["survey", "heatmap", str(
        real_data / "rtl_power-fm-multipath" / "nhkfm3.csv"), "--out", str(out),
        "--utc-offset", "9"])  # recorded in Japan, local time
    assert result.exit_code == 0, result.output
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size[0] > 600
    assert "299 lượt quét" in " ".join(result.output.split())  # every row is one sweep
