"""Each rule fires when it should and keeps quiet when it should not; matching holds up."""

from __future__ import annotations

import datetime as dt
import importlib
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.classify import classify, frequency_uncertainty_hz
from compliance.propagation import free_space_field_dbuv_m, haversine_km
from compliance.registry import Registry, match_window_hz
from compliance.rules import evaluate
from dsp.types import GeoPosition

_conf = importlib.import_module("tests.unit.compliance.conftest")
make_emission, make_licence, make_foreign = (
    _conf.make_emission, _conf.make_licence, _conf.make_foreign)

SITE = GeoPosition(21.97, 106.70)
F_LM = 432.850e6  # on the 12.5 kHz land-mobile UHF raster


def kinds(findings):
    return sorted(f.kind for f in findings)


def run(emission, registry, reference, site=SITE):
    classes, findings = evaluate([emission], registry, reference, site=site)
    return classes[0], findings


# -- unlicensed_emission -----------------------------------------------------------


def test_an_uncalibrated_finding_says_no_power_verdict_was_made(reference):
    _, [f] = run(make_emission(F_LM), Registry(), reference)
    assert f.unit == "dBFS" and "uncalibrated" in f.detail and "chưa hiệu chuẩn" in f.detail
    _, [g] = run(make_emission(F_LM, power_unit="dBm", e_dbuv_m=40.0), Registry(), reference)
    assert g.unit == "dBuV/m" and "uncalibrated" not in g.detail


def test_unlicensed_fires_without_a_licence(reference):
    c, findings = run(make_emission(F_LM), Registry(), reference)
    assert c.emitter_class == "unknown"
    assert kinds(findings) == ["unlicensed_emission"]
    f = findings[0]
    basis = reference.legal.basis(f.kind, dt.date(2026, 3, 2))
    assert f.licence_id is None and f.severity == basis.severity
    assert basis.article in f.legal_basis and "15/2020" in f.legal_basis
    assert f.adjacent_licence is None and f.matter == "sanction"
    assert f.station_id == "site-a" and f.f_hz == F_LM


def test_unlicensed_quiet_when_licensed_foreign_or_exempt(reference):
    reg = Registry(licences=(make_licence("L1", F_LM),), foreign=(make_foreign("F1", 432.75e6),))
    assert run(make_emission(F_LM), reg, reference)[1] == []
    c, findings = run(make_emission(432.75e6), reg, reference)
    assert (c.emitter_class, findings) == ("foreign", [])
    c, findings = run(make_emission(434.1e6), reg, reference)  # 433.05-434.79 MHz SRD band
    assert (c.emitter_class, c.exempt_band.id, findings) == ("exempt", "srd_433", [])


def test_uncalibrated_emission_in_fm_band_is_unknown_not_personal_fm(reference):
    c, findings = run(make_emission(99.3e6, bw_hz=150e3), Registry(), reference)
    assert c.emitter_class == "unknown"
    assert kinds(findings) == ["unlicensed_emission"]


# -- frequency_out_of_tolerance ----------------------------------------------------


def _permitted_offset(reference, f_hz=F_LM, resolution=300.0):
    e = make_emission(f_hz, f_resolution_hz=resolution)
    return reference.tolerances.tolerance_hz("land_mobile", f_hz) + frequency_uncertainty_hz(
        e, reference)


def test_out_of_tolerance_fires_just_beyond_the_limit(reference):
    limit = _permitted_offset(reference)
    reg = Registry(licences=(make_licence("L1", F_LM),))
    e = make_emission(F_LM - limit - 50.0)
    c, findings = run(e, reg, reference)
    assert c.licence_id == "L1"
    assert kinds(findings) == ["frequency_out_of_tolerance"]
    assert findings[0].measured == pytest.approx(limit + 50.0)
    # the receiver's ppm share is taken at the measured frequency
    assert findings[0].permitted == pytest.approx(
        reference.tolerances.tolerance_hz("land_mobile", F_LM)
        + frequency_uncertainty_hz(e, reference))
    assert findings[0].unit == "Hz"


def test_out_of_tolerance_quiet_within_the_limit(reference):
    limit = _permitted_offset(reference)
    reg = Registry(licences=(make_licence("L1", F_LM),))
    assert run(make_emission(F_LM + limit - 50.0), reg, reference)[1] == []


def test_measurement_uncertainty_widens_the_tolerance(reference):
    fine = _permitted_offset(reference, resolution=100.0)
    reg = Registry(licences=(make_licence("L1", F_LM),))
    offset = fine + 200.0
    assert kinds(run(make_emission(F_LM + offset, f_resolution_hz=100.0), reg, reference)[1]) == [
        "frequency_out_of_tolerance"]
    # A coarse measurement (bins of 1 kHz) cannot tell that offset from the assignment.
    assert run(make_emission(F_LM + offset, f_resolution_hz=1000.0), reg, reference)[1] == []


@settings(max_examples=100, deadline=None)
@given(offset=st.floats(-15_000, 15_000, allow_nan=False))
def test_out_of_tolerance_iff_offset_beyond_permitted(reference, offset):
    lic = make_licence("L1", F_LM)
    reg = Registry(licences=(lic,))
    e = make_emission(F_LM + offset)
    classes, findings = evaluate([e], reg, reference, site=SITE)
    fired = "frequency_out_of_tolerance" in kinds(findings)
    limit = _permitted_offset(reference)
    window = match_window_hz(lic, reference) + frequency_uncertainty_hz(e, reference)
    if abs(abs(offset) - window) > 1e-3 and abs(offset) > window:
        # Beyond the match window the licensee is not blamed: unlicensed, adjacent L1.
        assert classes[0].emitter_class == "unknown" and not fired
        assert [f.adjacent_licence for f in findings if f.kind == "unlicensed_emission"] == [
            "L1"]
    elif abs(abs(offset) - limit) > 1e-3:
        assert fired == (abs(offset) > limit)


# -- bandwidth_exceeded ------------------------------------------------------------


def _bw_limit(reference, necessary_hz=16_000.0, resolution=300.0):
    margin = reference.tolerances.measurement.bandwidth_margin_fraction
    return necessary_hz * (1 + margin) + 2 * resolution


def test_bandwidth_exceeded_fires_over_the_margin(reference):
    reg = Registry(licences=(make_licence("L1", F_LM, emission="16K0F3E"),))
    limit = _bw_limit(reference)
    c, findings = run(make_emission(F_LM, bw_hz=limit + 100.0), reg, reference)
    assert kinds(findings) == ["bandwidth_exceeded"]
    assert (findings[0].measured, findings[0].permitted) == (limit + 100.0, pytest.approx(limit))


def test_bandwidth_quiet_within_the_margin(reference):
    reg = Registry(licences=(make_licence("L1", F_LM, emission="16K0F3E"),))
    assert run(make_emission(F_LM, bw_hz=_bw_limit(reference) - 100.0), reg, reference)[1] == []


# -- off_channel_raster ------------------------------------------------------------


def test_off_raster_fires_for_an_emission_straddling_two_channels(reference):
    f = F_LM + 6_250.0  # half-way between two 12.5 kHz channels
    c, findings = run(make_emission(f, bw_hz=10_000.0), Registry(), reference)
    assert kinds(findings) == ["off_channel_raster", "unlicensed_emission"]
    off = next(x for x in findings if x.kind == "off_channel_raster")
    assert off.measured == pytest.approx(6_250.0)
    assert "land_mobile_uhf" in off.detail and "straddles" in off.detail


def test_off_raster_fires_in_the_fm_plan(reference):
    c, findings = run(make_emission(100.05e6, bw_hz=150e3), Registry(), reference)
    assert "off_channel_raster" in kinds(findings)
    assert "fm_broadcast" in next(x.detail for x in findings if x.kind == "off_channel_raster")


def test_off_raster_quiet_on_raster_or_outside_any_plan(reference):
    assert kinds(run(make_emission(F_LM), Registry(), reference)[1]) == ["unlicensed_emission"]
    assert kinds(run(make_emission(100.1e6, bw_hz=150e3), Registry(), reference)[1]) == [
        "unlicensed_emission"]
    # 300 MHz is in no plan of the packaged data: nothing to be off.
    assert kinds(run(make_emission(300.0031e6), Registry(), reference)[1]) == [
        "unlicensed_emission"]


def test_off_raster_not_raised_for_plans_without_a_raster(reference):
    commune = next(p for p in reference.channel_plans if p.id == "commune_loudspeaker")
    assert commune.raster_hz is None
    assert kinds(run(make_emission(61.0123e6), Registry(), reference)[1]) == [
        "unlicensed_emission"]


# -- licence_not_valid -------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"valid_to": "2025-12-31"}, "expired"),
        ({"valid_from": "2026-06-01"}, "not_yet_valid"),
        ({"status": "suspended"}, "suspended"),
        ({"status": "revoked"}, "revoked"),
    ],
)
def test_licence_not_valid_fires(reference, changes, why):
    reg = Registry(licences=(make_licence("L1", F_LM, **changes),))
    c, findings = run(make_emission(F_LM), reg, reference)
    assert c.licence_id == "L1"
    assert kinds(findings) == ["licence_not_valid"]
    assert findings[0].detail.startswith(why)


def test_licence_not_valid_quiet_on_the_last_valid_day(reference):
    reg = Registry(licences=(make_licence("L1", F_LM, valid_to="2026-03-02"),))
    assert run(make_emission(F_LM), reg, reference)[1] == []


# -- power_exceeded ----------------------------------------------------------------


def _predicted(lic, site=SITE):
    return free_space_field_dbuv_m(lic.erp_w, haversine_km(site, lic.position))


def test_power_exceeded_fires_when_calibrated_field_exceeds_the_prediction(reference):
    lic = make_licence("L1", F_LM, erp_w=10.0)
    limit = _predicted(lic) + reference.tolerances.measurement.power_margin_db
    reg = Registry(licences=(lic,))
    c, findings = run(make_emission(F_LM, e_dbuv_m=limit + 1.0, power_unit="dBm"), reg, reference)
    assert kinds(findings) == ["power_exceeded"]
    assert findings[0].permitted == pytest.approx(limit)
    assert findings[0].unit == "dBuV/m"


def test_power_quiet_below_the_prediction_uncalibrated_or_without_a_site(reference):
    lic = make_licence("L1", F_LM, erp_w=10.0)
    limit = _predicted(lic) + reference.tolerances.measurement.power_margin_db
    reg = Registry(licences=(lic,))
    assert run(make_emission(F_LM, e_dbuv_m=limit - 1.0), reg, reference)[1] == []
    # Uncalibrated: however strong in dBFS, no power finding.
    assert run(make_emission(F_LM, power_db=-1.0, peak_power_db=0.0), reg, reference)[1] == []
    # No monitoring site: no distance, no prediction.
    assert run(make_emission(F_LM, e_dbuv_m=limit + 20), reg, reference, site=None)[1] == []


# -- cross_border_over_trigger -----------------------------------------------------


def test_cross_border_fires_above_the_trigger(reference):
    # Issue 10: only with one of our licences on the channel (here far from the site, so
    # the foreign station is the match) and a site near the border (SITE is ~1 km away).
    ours = make_licence("VN-1", 432.75e6, lat=21.30, lon=106.10)
    reg = Registry(licences=(ours,), foreign=(make_foreign("CN-1", 432.75e6),))
    trigger = reference.coordination.trigger_for("land_mobile", 432.75e6).trigger_dbuv_m
    c, findings = run(make_emission(432.75e6, e_dbuv_m=trigger + 3.0), reg, reference)
    assert c.emitter_class == "foreign" and c.licence_id == "CN-1"
    assert kinds(findings) == ["cross_border_over_trigger"]
    assert findings[0].permitted == trigger and findings[0].measured == trigger + 3.0
    assert "CN" in findings[0].detail


def test_cross_border_quiet_below_the_trigger_or_uncalibrated(reference):
    reg = Registry(foreign=(make_foreign("CN-1", 432.75e6),))
    trigger = reference.coordination.trigger_for("land_mobile", 432.75e6).trigger_dbuv_m
    assert run(make_emission(432.75e6, e_dbuv_m=trigger - 0.5), reg, reference)[1] == []
    assert run(make_emission(432.75e6), reg, reference)[1] == []


# -- exempt_limit_exceeded ---------------------------------------------------------


def _exempt_field_limit(reference, band_id):
    band = next(b for b in reference.exempt.bands if b.id == band_id)
    return free_space_field_dbuv_m(band.max_erp_w,
                                   reference.exempt.limit_reference_distance_m / 1000)


def test_exempt_limit_fires_on_field_strength(reference):
    # Issue 10: a field strength says nothing about the ERP without a distance estimate.
    limit = _exempt_field_limit(reference, "srd_433")
    margin = reference.tolerances.measurement.power_margin_db
    e = make_emission(434.1e6, e_dbuv_m=limit + margin + 2.0)
    c, findings = run(e, Registry(), reference)
    assert c.emitter_class == "exempt" and findings == [] and c.verify
    classes, findings = evaluate([e], Registry(), reference, site=SITE,
                                 distance_m=lambda _e: 100.0)
    assert kinds(findings) == ["exempt_limit_exceeded"]
    assert findings[0].permitted == pytest.approx(limit + margin)


def test_exempt_limit_fires_on_bandwidth_in_the_personal_fm_band(reference):
    band = next(b for b in reference.exempt.bands if b.id == "personal_fm")
    too_wide = band.max_bw_hz * 1.5
    # Calibrated and very weak: a personal FM transmitter, but too wide.
    weak = _exempt_field_limit(reference, "personal_fm") - 10
    c, findings = run(make_emission(99.3e6, bw_hz=too_wide, e_dbuv_m=weak, power_unit="dBm"),
                      Registry(), reference)
    assert c.emitter_class == "exempt" and c.exempt_band.id == "personal_fm"
    assert kinds(findings) == ["exempt_limit_exceeded"]
    assert findings[0].unit == "Hz"


def test_exempt_quiet_within_its_limits(reference):
    limit = _exempt_field_limit(reference, "srd_433")
    assert run(make_emission(434.1e6, e_dbuv_m=limit - 2.0), Registry(), reference)[1] == []
    assert run(make_emission(434.1e6), Registry(), reference)[1] == []


def test_emission_reaching_outside_the_exempt_band_is_not_exempt(reference):
    # 433.05 MHz is the band edge; a 20 kHz emission centred there sticks out.
    c, _ = run(make_emission(433.05e6, bw_hz=20_000.0), Registry(), reference)
    assert c.emitter_class == "unknown"


# -- matching ----------------------------------------------------------------------


def test_same_frequency_licences_choose_the_nearest_to_the_site(reference):
    near_a = make_licence("NEAR-A", F_LM, lat=21.96, lon=106.69)
    near_b = make_licence("NEAR-B", F_LM, lat=21.30, lon=106.10)
    reg = Registry(licences=(near_b, near_a))
    e = make_emission(F_LM)
    assert classify(e, reg, reference, site=SITE).licence_id == "NEAR-A"
    assert classify(e, reg, reference, site=GeoPosition(21.31, 106.11)).licence_id == "NEAR-B"


def test_a_licence_within_tolerance_beats_a_nearer_neighbour_channel(reference):
    own = make_licence("OWN", F_LM, lat=21.30, lon=106.10)  # far away
    neighbour = make_licence("NEIGHBOUR", F_LM + 12_500.0, lat=21.97, lon=106.70)  # at the site
    reg = Registry(licences=(neighbour, own))
    c, findings = run(make_emission(F_LM), reg, reference)
    assert c.licence_id == "OWN" and findings == []


def test_a_valid_licence_beats_an_expired_one_at_the_same_place(reference):
    old = make_licence("OLD", F_LM, valid_to="2025-12-31")
    new = make_licence("NEW", F_LM)
    reg = Registry(licences=(old, new))
    c, findings = run(make_emission(F_LM), reg, reference)
    assert c.licence_id == "NEW" and findings == []


def test_emission_on_the_channel_between_two_licences_blames_neither(reference):
    a = make_licence("A", F_LM, lat=21.96, lon=106.69)
    b = make_licence("B", F_LM + 25_000.0, lat=21.50, lon=106.20)
    reg = Registry(licences=(a, b))
    # On the 12.5 kHz channel between A's and B's: overlaps both licensed channels
    # (16 kHz wide) but is a whole channel away from each.
    c, findings = run(make_emission(F_LM + 12_500.0, bw_hz=12_000.0), reg, reference)
    assert c.emitter_class == "unknown" and c.licence_id is None
    assert kinds(findings) == ["unlicensed_emission"]
    assert findings[0].adjacent_licence == "A"  # equally near: the first id
    assert "A" in findings[0].detail and "+12500 Hz" in findings[0].detail


def test_straddling_emission_is_unlicensed_and_off_raster_is_information(reference):
    a = make_licence("A", F_LM - 12_500.0)
    c, findings = run(make_emission(F_LM + 6_250.0, bw_hz=10_000.0), Registry(licences=(a,)),
                      reference)
    assert c.emitter_class == "unknown"
    assert kinds(findings) == ["off_channel_raster", "unlicensed_emission"]
    off = next(f for f in findings if f.kind == "off_channel_raster")
    assert off.matter == "information" and off.citation.article is None
    assert "straddles" in off.detail and "không phải vi phạm" in off.legal_basis
    unlicensed = next(f for f in findings if f.kind == "unlicensed_emission")
    assert unlicensed.matter == "sanction" and unlicensed.adjacent_licence == "A"


def test_emission_far_from_any_licence_is_not_attributed(reference):
    reg = Registry(licences=(make_licence("L1", F_LM),))
    e = make_emission(F_LM + 40_000.0)  # beyond 1 x the 16 kHz necessary bandwidth
    assert classify(e, reg, reference, site=SITE).emitter_class == "unknown"


def test_intermittent_sightings_match_the_same_licence(reference):
    reg = Registry(licences=(make_licence("L1", F_LM),))
    hour = 3_600 * 1_000_000_000
    bursts = [
        make_emission(F_LM + d, t_first_ns=_conf.T0_NS + k * hour,
                      t_last_ns=_conf.T0_NS + k * hour + 2_000_000_000)
        for k, d in enumerate((0.0, 400.0, -300.0))
    ]
    classes, findings = evaluate(bursts, reg, reference, site=SITE)
    assert [c.licence_id for c in classes] == ["L1"] * 3 and findings == []


def test_licence_validity_is_judged_on_the_emission_date(reference):
    lic = make_licence("L1", F_LM, valid_to="2026-03-01")
    day_before = int(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC).timestamp() * 1e9)
    reg = Registry(licences=(lic,))
    e_ok = make_emission(F_LM, t_first_ns=day_before, t_last_ns=day_before + 10)
    assert evaluate([e_ok], reg, reference)[1] == []
    assert kinds(evaluate([make_emission(F_LM)], reg, reference)[1]) == ["licence_not_valid"]


def test_findings_are_finite_and_carry_the_emission(reference):
    reg = Registry(licences=(make_licence("L1", F_LM, status="revoked"),))
    e = make_emission(F_LM + 5_000.0, bw_hz=30_000.0)
    _, findings = evaluate([e], reg, reference, site=SITE)
    assert kinds(findings) == ["bandwidth_exceeded", "frequency_out_of_tolerance",
                               "licence_not_valid"]
    for f in findings:
        assert f.emission is e and f.emitter_class == "licensed"
        assert f.measured is None or math.isfinite(f.measured)


def test_co_channel_licence_and_foreign_station_go_by_distance(reference):
    domestic = make_licence("VN-1", F_LM, lat=21.50, lon=106.30)
    foreign = make_foreign("CN-1", F_LM, lat=22.02, lon=106.74)
    reg = Registry(licences=(domestic,), foreign=(foreign,))
    e = make_emission(F_LM)
    border_site = GeoPosition(22.00, 106.72)
    inland_site = GeoPosition(21.52, 106.32)
    assert classify(e, reg, reference, site=border_site).licence_id == "CN-1"
    assert classify(e, reg, reference, site=inland_site).licence_id == "VN-1"
    # Without a site, our own licence is assumed.
    assert classify(e, reg, reference).emitter_class == "licensed"


def test_commune_station_far_off_its_frequency_is_still_its_licensee(reference):
    window = reference.tolerances.measurement.match_window_min_hz["commune_loudspeaker"]
    commune = make_licence("TTKD-1", 64.0e6, service="commune_loudspeaker", erp_w=30.0)
    reg = Registry(licences=(commune,))
    c, findings = run(make_emission(64.3e6, bw_hz=12e3), reg, reference)
    assert 300e3 < window
    assert c.licence_id == "TTKD-1"
    assert kinds(findings) == ["frequency_out_of_tolerance"]
    assert findings[0].measured == pytest.approx(300e3)
    # Beyond the service's window it is an unknown transmitter.
    c, findings = run(make_emission(64.0e6 + window + 20e3, bw_hz=12e3), reg, reference)
    assert c.emitter_class == "unknown" and "unlicensed_emission" in kinds(findings)
    # The wide window is the commune service's only: a land-mobile licence keeps 1 x 16 kHz.
    lm = Registry(licences=(make_licence("LM", F_LM),))
    assert classify(make_emission(F_LM - 300e3), lm, reference).emitter_class == "unknown"
