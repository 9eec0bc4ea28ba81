"""Issue 9 on the shared real recordings (../shared/data/real, PROVENANCE.md).

- rtl_433 RadioHead (433.92 MHz, 250 kS/s cu8): the emitter at +6.07 kHz clips the
  ADC; a component at -3.0x its offset (-17.8 kHz), keyed with it, is an overload
  product: rejected (``overload_product``) or flagged ``overload_suspect``, never a
  plain emission. The JSON carries the clipped fraction and the rejected product.
- rtl_433 Skylink: the OOK emitter at -107.4 kHz is intermittent (bursts from about
  0.215 s); nothing plain at its -3x product (+72.2 kHz, folded) nor at the spur.
- URH EnOcean (ASK) and Homematic (FSK) bursts: one transmitter, one emission
  (its components keyed together are merged), seen only in its bursts.
- dump1090 Mode S (1090 MHz): the steady narrowband component stays steady (duty
  cycle 1, not intermittent); the clipped fraction is reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rfwatch.commands.analyze import analysis_json, run_analysis

FC_433 = 433.92e6


def radiohead(real_data: Path, name: str) -> Path:
    return real_data / "rtl_433" / "radiohead_ask_03" / f"{name}_433.92M_250k.cu8"


def skylink(real_data: Path, name: str) -> Path:
    return real_data / "rtl_433" / "skylink_ha-434tl" / f"{name}_433.92M_250k.cu8"


def near(emissions, f_hz: float, tol_hz: float) -> list:
    return [e for e in emissions if abs(e.f_hz - f_hz) <= tol_hz]


@pytest.mark.parametrize("name", ["g001", "g002", "g003", "g004"])
def test_radiohead_overload_product_is_never_plain(real_data: Path, name: str) -> None:
    path = radiohead(real_data, name)
    result = run_analysis(path)
    main = max(result.emissions, key=lambda e: e.power_db)
    offset = main.f_hz - FC_433
    assert abs(offset - 6.07e3) < 2e3
    assert "overload_suspect" not in main.flags
    product_hz = FC_433 - 3.0 * offset
    plain = [e for e in near(result.emissions, product_hz, 3e3)
             if "overload_suspect" not in e.flags]
    assert plain == [], [(e.f_hz - FC_433, e.flags) for e in result.emissions]
    # it was seen, and said why it is not reported (or reported flagged)
    rejected = [e for e, r in result.rejected if r == "overload_product"
                and abs(e.f_hz - product_hz) < 3e3]
    flagged = [e for e in near(result.emissions, product_hz, 3e3)
               if "overload_suspect" in e.flags]
    assert rejected or flagged
    doc = analysis_json(result, source=str(path))
    # about 10 % of the bytes are 0 or 255 (PROVENANCE): a fifth of the IQ pairs
    assert 0.05 < doc["overload"] < 0.5
    if rejected:
        assert any(r["reason"] == "overload_product" and abs(r["f_hz"] - product_hz) < 3e3
                   for r in doc["rejected"])
    # the emitter transmits in bursts from about 0.284 s (PROVENANCE)
    e_doc = next(e for e in doc["emissions"] if abs(e["f_hz"] - main.f_hz) < 1)
    assert "intermittent" in e_doc["flags"]
    assert 0.0 < e_doc["duty_cycle"] < 0.6
    assert e_doc["burst_power"] > e_doc["power"]
    assert abs((main.t_first_ns - result.spectrum.t_start_ns) / 1e9 - 0.284) < 0.01


@pytest.mark.parametrize("name", ["g001", "g002", "g003"])
def test_skylink_bursts_and_no_plain_product(real_data: Path, name: str) -> None:
    result = run_analysis(skylink(real_data, name))
    main = max(result.emissions, key=lambda e: e.power_db)
    offset = main.f_hz - FC_433
    assert abs(offset + 107.4e3) < 3e3
    assert "intermittent" in main.flags and main.duty_cycle < 0.5
    assert abs((main.t_first_ns - result.spectrum.t_start_ns) / 1e9 - 0.215) < 0.01
    assert result.overload_fraction is not None and result.overload_fraction > 0.01
    # -3x the offset, folded into the 250 kHz band: +72.2 kHz
    span = 250e3
    product_hz = FC_433 + ((-3 * offset + span / 2) % span - span / 2)
    for f_hz in (product_hz, FC_433 + 79.8e3):  # the product, the receiver's spur
        assert all("overload_suspect" in e.flags for e in near(result.emissions, f_hz, 3e3))
    assert all(e.snr_db > 0 for e in result.emissions)


@pytest.mark.parametrize(
    ("name", "bursts_s"),
    [("enocean.complex", [(0.0021, 0.0054), (0.0204, 0.0238), (0.0442, 0.0475)]),
     ("homematic.complex32s", [(0.0177, 0.0379), (0.0704, 0.0994)])],
)
def test_urh_transmitter_is_one_emission(real_data: Path, name: str, bursts_s: list) -> None:
    # URH assumes 1 MS/s; the message sample ranges are URH's own (PROVENANCE)
    result = run_analysis(real_data / "urh" / name, rate_hz=1e6, f_center_hz=868.3e6)
    bursty = [e for e in result.emissions if "intermittent" in e.flags]
    assert len(bursty) == 1, [(e.f_hz - 868.3e6, e.bw_99_hz, e.flags) for e in result.emissions]
    tx = bursty[0]
    # the rest (a steady spur in enocean) is steady and narrow, not a fragment of it
    for e in result.emissions:
        if e is not tx:
            assert e.duty_cycle == 1.0 and e.bw_99_hz < 5e3
            assert not (tx.f_low_hz <= e.f_hz <= tx.f_high_hz)
    t0 = result.spectrum.t_start_ns
    first, last = bursts_s[0][0], bursts_s[-1][1]
    assert first - 0.006 <= (tx.t_first_ns - t0) / 1e9 <= first
    assert last <= (tx.t_last_ns - t0) / 1e9 <= last + 0.006
    on_s = sum(b - a for a, b in bursts_s)
    duration_s = (result.spectrum.t_end_ns - t0) / 1e9
    # 5 ms slices: each burst turns on one or two more slices than it fills
    assert on_s / duration_s <= tx.duty_cycle <= (on_s + 0.01 * len(bursts_s)) / duration_s + 0.05


def test_urh_homematic_fsk_components_merged(real_data: Path) -> None:
    # the FSK tones were three emissions on the average alone (issue 9); merged, the
    # 99 % bandwidth spans both tones
    result = run_analysis(real_data / "urh" / "homematic.complex32s", rate_hz=1e6,
                          f_center_hz=868.3e6)
    assert len(result.emissions) == 1
    assert result.emissions[0].bw_99_hz > 40e3


def test_mode_s_steady_component_and_overload(real_data: Path) -> None:
    path = real_data / "dump1090" / "modes1.bin"
    result = run_analysis(path, rate_hz=2e6, f_center_hz=1090e6)
    doc = analysis_json(result, source=str(path))
    assert doc["overload"] is not None and 0 < doc["overload"] < 0.01
    steady = near(result.emissions, 1090e6 - 66e3, 5e3)
    assert len(steady) == 1
    assert steady[0].duty_cycle == 1.0 and "intermittent" not in steady[0].flags
    assert all(e["snr_db"] is None or e["snr_db"] > 0 for e in doc["emissions"])
