"""What is not a violation (issue 10 §3): each class fires where it should and the
emission goes back to a finding when its reason is taken away."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from compliance.border import distance_to_line_km
from compliance.classify import classify
from compliance.propagation import free_space_field_dbuv_m
from compliance.reference import (
    BandLicences,
    BorderLine,
    ChannelRaster,
    ExemptBand,
    NotMonitored,
    NotMonitoredBand,
)
from compliance.registry import Registry
from compliance.rules import evaluate
from dsp.geo import distance_m
from dsp.types import GeoPosition

_conf = importlib.import_module("tests.unit.compliance.conftest")
make_emission, make_licence, make_foreign = (
    _conf.make_emission, _conf.make_licence, _conf.make_foreign)

SITE = GeoPosition(21.97, 106.70)  # Hữu Nghị, about 1 km from the border line
FAR_SITE = GeoPosition(21.70, 106.55)  # about 31 km inside


def run(emission, registry, reference, site=SITE, distance=None):
    classes, findings = evaluate([emission], registry, reference, site=site,
                                 distance_m=(lambda _e: distance) if distance else None)
    return classes[0], sorted(f.kind for f in findings), findings


def without(reference, **changes):
    return dataclasses.replace(reference, **changes)


# -- the FM band is 87-108 MHz ---------------------------------------------------------


def test_fm_band_starts_at_87_mhz(reference):
    fm = next(p for p in reference.channel_plans if p.id == "fm_broadcast")
    assert (fm.f_low_hz, fm.f_high_hz) == (87.0e6, 108.0e6)
    assert reference.coordination.trigger_for("fm_broadcast", 87.2e6).id == "fm_broadcast"
    # An unknown emission at 87.25 MHz is off the 100 kHz raster of the FM plan.
    _c, kinds, _ = run(make_emission(87.25e6, bw_hz=150e3), Registry(), reference)
    assert kinds == ["off_channel_raster", "unlicensed_emission"]
    _c, kinds, _ = run(make_emission(87.2e6, bw_hz=150e3), Registry(), reference)
    assert kinds == ["unlicensed_emission"]


# -- PMR446 ----------------------------------------------------------------------------


@pytest.mark.parametrize("f_hz,bw_hz", [
    (446.00625e6, 9e3), (446.01875e6, 9e3), (446.19375e6, 9e3),  # analogue, 12.5 kHz
    (446.003125e6, 5e3), (446.096875e6, 5e3),  # digital, 6.25 kHz
])
def test_pmr446_channels_are_exempt(reference, f_hz, bw_hz):
    c, kinds, _ = run(make_emission(f_hz, bw_hz=bw_hz), Registry(), reference)
    assert (c.emitter_class, c.exempt_band.id, kinds) == ("exempt", "pmr446", [])


def test_pmr446_without_its_entry_is_unlicensed_and_off_raster(reference):
    bands = tuple(b for b in reference.exempt.bands if b.id != "pmr446")
    ref = without(reference, exempt=reference.exempt.model_copy(update={"bands": bands}))
    c, kinds, _ = run(make_emission(446.00625e6, bw_hz=9_000.0), Registry(), ref)
    assert (c.emitter_class, kinds) == ("unknown", ["off_channel_raster", "unlicensed_emission"])


def test_a_device_off_its_channel_raster_is_outside_its_conditions(reference):
    band = ExemptBand(id="t", name="t", f_low_hz=446.0e6, f_high_hz=446.2e6, max_bw_hz=12_500,
                      channels=(ChannelRaster(first_centre_hz=446.00625e6, raster_hz=12_500,
                                              last_centre_hz=446.19375e6),),
                      source="test")
    ref = without(reference, exempt=reference.exempt.model_copy(update={"bands": (band,)}))
    c, kinds, findings = run(make_emission(446.0125e6, bw_hz=9_000.0), Registry(), ref)
    assert (c.emitter_class, kinds) == ("exempt", ["exempt_limit_exceeded"])
    assert findings[0].unit == "Hz" and findings[0].measured == pytest.approx(6_250.0)
    assert run(make_emission(446.00625e6, bw_hz=9_000.0), Registry(), ref)[1] == []


def test_pmr446_too_wide_is_outside_its_conditions(reference):
    _c, kinds, findings = run(make_emission(446.03125e6, bw_hz=25_000.0), Registry(), reference)
    assert kinds == ["exempt_limit_exceeded"]
    assert "uncalibrated" in findings[0].detail  # the power was not checked


# -- wireless microphones and ISM --------------------------------------------------------


@pytest.mark.parametrize("f_hz,bw_hz,band_id", [
    (40.68e6, 20e3, "wireless_mic_40"), (182.5e6, 60e3, "wireless_mic_182"),
    (217.5e6, 60e3, "wireless_mic_217"), (600.2e6, 150e3, "wireless_mic_uhf"),
    (1797.5e6, 150e3, "wireless_mic_1795"), (13.56e6, 5e3, "ism_13_56"),
    (27.12e6, 20e3, "ism_27_12"),
])
def test_wireless_microphones_and_ism_are_exempt(reference, f_hz, bw_hz, band_id):
    c, kinds, _ = run(make_emission(f_hz, bw_hz=bw_hz), Registry(), reference)
    assert (c.emitter_class, c.exempt_band.id, kinds) == ("exempt", band_id, [])


def test_an_unknown_multiplex_is_not_taken_for_a_microphone(reference):
    c, kinds, _ = run(make_emission(602e6, bw_hz=7.6e6), Registry(), reference)
    assert (c.emitter_class, kinds) == ("unknown", ["unlicensed_emission"])


def test_microphone_in_the_fm_band_needs_a_calibrated_weak_field(reference):
    weak_mic = free_space_field_dbuv_m(3e-6, 0.02)  # 3 uW at 20 m
    e = make_emission(95.3e6, bw_hz=150e3, e_dbuv_m=weak_mic, power_unit="dBm")
    c, kinds, _ = run(e, Registry(), reference)
    assert (c.emitter_class, c.exempt_band.id, kinds) == ("exempt", "wireless_mic_fm", [])
    assert c.verify  # above what 3 uW gives at 100 m: its distance decides
    # A broadcaster's field is far beyond any microphone: unlicensed.
    loud = make_emission(95.3e6, bw_hz=150e3, e_dbuv_m=80.0, power_unit="dBm")
    assert run(loud, Registry(), reference)[:2][1] == ["unlicensed_emission"]


# -- not monitored ---------------------------------------------------------------------


@pytest.mark.parametrize("f_hz,bw_hz,band_id", [
    (121.5e6, 6e3, "aeronautical_vhf"), (118.1e6, 6e3, "aeronautical_vhf"),
    (243.0e6, 6e3, "distress_243"), (406.05e6, 3e3, "beacons_406"),
    (156.8e6, 12e3, "maritime_vhf"), (145.5e6, 12e3, "amateur_2m"),
])
def test_aeronautical_distress_maritime_and_amateur_are_not_monitored(reference, f_hz, bw_hz,
                                                                       band_id):
    c, kinds, _ = run(make_emission(f_hz, bw_hz=bw_hz), Registry(), reference)
    assert (c.emitter_class, c.not_monitored_band.id, kinds) == ("not_monitored", band_id, [])


def test_a_licence_still_wins_in_a_band_not_monitored(reference):
    lic = make_licence("AERO-1", 121.5e6, service="aeronautical", emission="6K00A3E")
    c, _kinds, _ = run(make_emission(121.5e6, bw_hz=6e3), Registry(licences=(lic,)), reference)
    assert (c.emitter_class, c.licence_id) == ("licensed", "AERO-1")


def test_not_monitored_is_configurable_and_the_restricted_list_empty_by_default(reference):
    assert reference.not_monitored.restricted == ()
    off = tuple(b.model_copy(update={"enabled": False}) for b in reference.not_monitored.bands)
    ref = without(reference, not_monitored=NotMonitored(bands=off))
    _c, kinds, _ = run(make_emission(121.5e6, bw_hz=6e3), Registry(), ref)
    assert kinds == ["unlicensed_emission"]
    border_guard = NotMonitoredBand(id="bp", name="Biên phòng", category="restricted",
                                    f_low_hz=165.0e6, f_high_hz=166.0e6, source="operator")
    ref = without(reference, not_monitored=NotMonitored(bands=off, restricted=(border_guard,)))
    c, kinds, _ = run(make_emission(165.5e6, bw_hz=12e3), Registry(), ref)
    assert (c.emitter_class, c.not_monitored_band.id, kinds) == ("not_monitored", "bp", [])
    # Outside the restricted band: a land-mobile emission is unlicensed as before.
    assert run(make_emission(167.5e6, bw_hz=12e3), Registry(), ref)[1] == ["unlicensed_emission"]


# -- band licences ---------------------------------------------------------------------


def _block(licence_id="BL-1", low=944e6, high=950e6, **kw):
    return make_licence(licence_id, (low + high) / 2, f_low_hz=low, f_high_hz=high,
                        emission="200KGXW", **kw)


def test_gsm_at_945_2_mhz_is_explained_by_a_band_licence(reference):
    e = make_emission(945.2e6, bw_hz=180e3)
    c, kinds, _ = run(e, Registry(licences=(_block(),)), reference)
    assert (c.emitter_class, c.licence_id, kinds) == ("band_licence", "BL-1", [])
    # The packaged example block (UNSURE) when the registry has none ...
    c, kinds, _ = run(e, Registry(), reference)
    assert (c.emitter_class, c.licence_id, kinds) == ("band_licence", "gsm_900_dl", [])
    # ... and without it: unlicensed, as before issue 10.
    ref = without(reference, band_licences=BandLicences(blocks=()))
    c, kinds, _ = run(e, Registry(), ref)
    assert (c.emitter_class, kinds) == ("unknown", ["unlicensed_emission"])


def test_a_band_licence_is_never_a_point_licence_at_its_centre(reference):
    ref = without(reference, band_licences=BandLicences(blocks=()))
    # 100 kHz from the block's centre: inside the block, not "off frequency".
    c, kinds, _ = run(make_emission(947.1e6, bw_hz=180e3), Registry(licences=(_block(),)), ref)
    assert (c.emitter_class, kinds) == ("band_licence", [])
    # Reaching out of the block, or a block not in force: not explained.
    c, kinds, _ = run(make_emission(950.0e6, bw_hz=180e3), Registry(licences=(_block(),)), ref)
    assert (c.emitter_class, kinds) == ("unknown", ["unlicensed_emission"])
    expired = _block(valid_from="2020-01-01", valid_to="2025-12-31")
    c, _kinds, _ = run(make_emission(945.2e6, bw_hz=180e3), Registry(licences=(expired,)), ref)
    assert c.emitter_class == "unknown"


# -- exempt power needs a distance -------------------------------------------------------


def _srd_fields(reference):
    ex = reference.exempt
    at = {d: free_space_field_dbuv_m(0.025, d / 1e3)
          for d in (ex.min_device_distance_m, ex.limit_reference_distance_m)}
    return at[ex.min_device_distance_m], at[ex.limit_reference_distance_m]


def test_key_fob_near_is_for_verification_far_is_quiet(reference):
    at_min, at_ref = _srd_fields(reference)
    near = make_emission(433.92e6, e_dbuv_m=(at_min + at_ref) / 2, power_unit="dBm")
    c, kinds, _ = run(near, Registry(), reference)
    assert (c.emitter_class, kinds) == ("exempt", []) and "srd_433" in c.verify
    far = make_emission(433.92e6, e_dbuv_m=at_ref - 1.0, power_unit="dBm")
    c, kinds, _ = run(far, Registry(), reference)
    assert (c.emitter_class, kinds, c.verify) == ("exempt", [], None)


def test_too_strong_for_the_device_is_not_that_device(reference):
    at_min, _ = _srd_fields(reference)
    e = make_emission(433.92e6, e_dbuv_m=at_min + 1.0, power_unit="dBm")
    c, kinds, _ = run(e, Registry(), reference)
    assert c.emitter_class == "unknown" and "unlicensed_emission" in kinds


@pytest.mark.parametrize("d_m,fires", [(10.0, False), (100.0, True), (1000.0, True)])
def test_with_a_distance_the_erp_decides(reference, d_m, fires):
    # 25 mW at 10 m: a legal fob 10 m away, an illegal one if it is 100 m or more away.
    e = make_emission(433.92e6, e_dbuv_m=free_space_field_dbuv_m(0.025, 0.010),
                      power_unit="dBm")
    c, kinds, findings = run(e, Registry(), reference, distance=d_m)
    assert c.verify is None
    assert kinds == (["exempt_limit_exceeded"] if fires else [])
    if fires:
        margin = reference.tolerances.measurement.power_margin_db
        assert findings[0].permitted == pytest.approx(
            free_space_field_dbuv_m(0.025, d_m / 1e3) + margin)


# -- cross-border --------------------------------------------------------------------


F_CN = 432.75e6


def _foreign_case(reference, site, *, ours=True, e_dbuv_m=None):
    trigger = reference.coordination.trigger_for("land_mobile", F_CN).trigger_dbuv_m
    # Our licence overlaps the foreign channel half a 12.5 kHz step away (so that, with
    # no site to rank by distance, the foreign station within tolerance is the match).
    licences = (make_licence("VN-1", F_CN + 6_250.0, lat=21.30, lon=106.10),) if ours else ()
    reg = Registry(licences=licences, foreign=(make_foreign("CN-1", F_CN),))
    level = trigger + 6.0 if e_dbuv_m is None else e_dbuv_m
    return run(make_emission(F_CN, e_dbuv_m=level, power_unit="dBm"), reg, reference, site=site)


def test_cross_border_fires_near_the_border_on_our_channel(reference):
    c, kinds, findings = _foreign_case(reference, SITE)
    assert c.site_border_km == pytest.approx(1.0, abs=0.3)
    assert kinds == ["cross_border_over_trigger"] and c.verify is None
    assert "VN-1" in findings[0].detail and "+- 0.5 km" in findings[0].detail


def test_cross_border_quiet_without_our_assignment(reference):
    c, kinds, _ = _foreign_case(reference, SITE, ours=False)
    assert (c.co_channel_licences, kinds, c.verify) == ((), [], None)


def test_cross_border_far_inside_or_without_a_site_is_for_verification(reference):
    c, kinds, _ = _foreign_case(reference, FAR_SITE)
    assert c.site_border_km > reference.coordination.border_zone_km
    assert kinds == [] and "from the border" in c.verify
    c, kinds, _ = _foreign_case(reference, None)
    assert kinds == [] and "position" in c.verify


def test_cross_border_uncalibrated_or_below_the_trigger_is_quiet(reference):
    reg = Registry(licences=(make_licence("VN-1", F_CN, lat=21.3, lon=106.1),),
                   foreign=(make_foreign("CN-1", F_CN),))
    c, kinds, _ = run(make_emission(F_CN, power_db=-3.0), reg, reference)
    assert (c.emitter_class, kinds, c.verify) == ("foreign", [], None)
    trigger = reference.coordination.trigger_for("land_mobile", F_CN).trigger_dbuv_m
    assert _foreign_case(reference, FAR_SITE, e_dbuv_m=trigger - 1.0)[0].verify is None


def test_fm_trigger_is_marked_a_coverage_level(reference):
    fm = reference.coordination.trigger_for("fm_broadcast", 100e6)
    assert fm.unsure and fm.basis == "coverage_level" and fm.trigger_dbuv_m == 54.0
    assert "BS.412" in fm.note
    reg = Registry(licences=(make_licence("VN-FM", 100e6, service="fm_broadcast",
                                          emission="256KF8EHF", lat=21.3, lon=106.1),),
                   foreign=(make_foreign("CN-FM", 100e6, service="fm_broadcast",
                                         emission="256KF8EHF"),))
    e = make_emission(100e6, bw_hz=200e3, e_dbuv_m=70.0, power_unit="dBm")
    _c, kinds, findings = run(e, reg, reference)
    assert kinds == ["cross_border_over_trigger"] and "coverage level" in findings[0].detail


# -- the border line -------------------------------------------------------------------


def test_border_line_has_its_provenance_and_stays_around_lang_son(reference):
    line = reference.border
    assert "Natural Earth" in line.source and "public domain" in line.licence
    assert line.accuracy_m == 500
    lats = [p[0] for p in line.points]
    lons = [p[1] for p in line.points]
    assert 21.4 <= min(lats) and max(lats) <= 22.7 and 105.9 <= min(lons) and max(lons) <= 107.6
    assert len(line.points) > 50
    # Every vertex is 0 km from the line.
    for lat, lon in line.points[::10]:
        assert distance_to_line_km(GeoPosition(lat, lon), line) == pytest.approx(0.0, abs=1e-9)


def test_distance_to_line_is_the_great_circle_distance_to_the_foot_point():
    line = BorderLine(id="t", name="t", points=((22.0, 106.5), (22.0, 107.0)), accuracy_m=1,
                      source="t", licence="t")
    site = GeoPosition(21.8, 106.8)
    # The foot of the perpendicular from a point due south is the point due north.
    expected = distance_m(site, GeoPosition(22.0, 106.8)) / 1e3
    assert distance_to_line_km(site, line) == pytest.approx(expected, rel=2e-3)
    # Beyond the end, the distance to the end point.
    beyond = GeoPosition(22.0, 107.3)
    assert distance_to_line_km(beyond, line) == pytest.approx(
        distance_m(beyond, GeoPosition(22.0, 107.0)) / 1e3, rel=2e-3)


def test_classify_alone_gives_the_same_classes(reference):
    # classify (used by the centre's ingest directly) agrees with evaluate.
    e = make_emission(121.5e6, bw_hz=6e3)
    assert classify(e, Registry(), reference).emitter_class == "not_monitored"


# -- every new fact names its source ----------------------------------------------------


def test_every_new_entry_names_its_source_and_marks_the_unsure(reference):
    for band in reference.exempt.bands:
        assert band.source.strip()
    for band in reference.not_monitored.bands:
        assert band.source.strip()
        if band.category == "amateur":
            assert band.unsure  # the Vietnamese plan was not checked
    for block in reference.band_licences.blocks:
        assert block.source.strip() and block.unsure  # operators' sub-blocks not found
        if block.f_low_hz < 1e9 and block.f_low_hz > 700e6:
            assert "NOT found" in block.source  # 700/850/900 MHz
    srcs = {b.id: b.source for b in reference.band_licences.blocks}
    assert "03/2024" in srcs["imt_1800_dl"] and "18/2020" in srcs["imt_2600"]
    pmr = next(b for b in reference.exempt.bands if b.id == "pmr446")
    assert "Phụ lục 18" in pmr.source and "08/2021" in pmr.source
