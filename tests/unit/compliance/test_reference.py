"""The packaged reference data: loads, cites sources, marks the uncertain, can be overridden."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from compliance.reference import FINDING_KINDS, load_reference_data
from dsp.errors import ConfigError

DATA = resources.files("compliance") / "data"


def test_packaged_data_loads_and_every_entry_cites_a_source(reference):
    assert {p.id for p in reference.channel_plans} >= {
        "fm_broadcast", "commune_loudspeaker", "dvb_t2_uhf", "land_mobile_vhf", "land_mobile_uhf"}
    for plan in reference.channel_plans:
        assert plan.source.strip()
    for band in reference.exempt.bands:
        assert "08/2021" in band.source or "46/2016" in band.source
    covered = {k for inst in reference.legal.instruments for k in inst.kinds}
    assert covered == set(FINDING_KINDS)
    for inst in reference.legal.instruments:
        assert inst.sources and all(s.strip() for s in inst.sources)
        for kind, basis in inst.kinds.items():
            assert basis.source.strip(), (inst.id, kind)
    nd15 = reference.legal.instrument("nd15_2020")
    assert "15/2020" in nd15.title_vi and "14/2022" in nd15.title_vi


def test_what_domain_marks_unsure_is_marked_unsure(reference):
    fm = next(p for p in reference.channel_plans if p.id == "fm_broadcast")
    assert fm.unsure and fm.raster_hz == 100_000  # DOMAIN §D: raster UNSURE
    assert all(t.unsure for t in reference.tolerances.frequency_tolerances)  # Ap2 not retrieved
    assert all(t.unsure for t in reference.coordination.triggers)  # HCM values not retrieved
    personal = next(b for b in reference.exempt.bands if b.id == "personal_fm")
    assert personal.unsure and personal.max_erp_w == pytest.approx(20e-9)
    for inst_id in ("nd15_2020", "nd174_2026"):
        inst = reference.legal.instrument(inst_id)
        for kind, basis in inst.kinds.items():
            # Every article of a sanctions decree is UNSURE until checked in the gazette.
            assert basis.unsure or not basis.offence, (inst_id, kind)
    assert reference.legal.instrument("nd174_2026").unsure
    [amend] = [a for a in reference.legal.instrument("nd15_2020").amendments
               if a.id.startswith("211/2025")]
    assert amend.unsure


def test_known_facts_are_in_the_data(reference):
    commune = next(p for p in reference.channel_plans if p.id == "commune_loudspeaker")
    assert (commune.f_low_hz, commune.f_high_hz, commune.max_power_w) == (54e6, 68e6, 30)
    assert (commune.preferred_f_low_hz, commune.preferred_f_high_hz) == (60e6, 68e6)
    tv = next(p for p in reference.channel_plans if p.id == "dvb_t2_uhf")
    assert (tv.f_low_hz, tv.f_high_hz) == (470e6, 694e6)
    first, last = tv.nearest_centre_hz(470e6), tv.nearest_centre_hz(694e6)
    assert (tv.channel_number(first), tv.channel_number(last)) == (21, 48)
    assert tv.channel_number(tv.nearest_centre_hz(610e6)) == 38
    [restriction] = tv.restrictions
    assert (restriction.f_low_hz, str(restriction.until)) == (606e6, "2028-12-31")


def test_tolerance_lookup_takes_the_first_match_and_falls_back(reference):
    assert reference.tolerances.tolerance_hz("fm_broadcast", 97e6) == 2000
    lm = reference.tolerances.tolerance_hz("land_mobile", 433e6)
    assert lm == pytest.approx(5e-6 * 433e6)
    assert reference.tolerances.tolerance_hz("other", 1e9) == pytest.approx(20e-6 * 1e9)


def _copy_packaged(tmp_path: Path) -> Path:
    for name in ("channel_plans.yaml", "exempt_bands.yaml", "tolerances.yaml",
                 "coordination.yaml", "legal_basis.yaml"):
        (tmp_path / name).write_text((DATA / name).read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_an_override_folder_replaces_a_file(tmp_path):
    doc = yaml.safe_load((DATA / "tolerances.yaml").read_text(encoding="utf-8"))
    doc["measurement"]["bandwidth_margin_fraction"] = 0.5
    (tmp_path / "tolerances.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    data = load_reference_data(tmp_path)
    assert data.tolerances.measurement.bandwidth_margin_fraction == 0.5
    assert data.channel_plans == load_reference_data().channel_plans  # others packaged


def test_invalid_override_names_the_file_and_field(tmp_path):
    folder = _copy_packaged(tmp_path)
    doc = yaml.safe_load((folder / "exempt_bands.yaml").read_text(encoding="utf-8"))
    doc["bands"][0]["f_high_hz"] = 1.0
    (folder / "exempt_bands.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"exempt_bands.yaml.*bands\.0"):
        load_reference_data(folder)


def test_unknown_service_and_missing_kind_are_refused(tmp_path):
    folder = _copy_packaged(tmp_path)
    doc = yaml.safe_load((folder / "legal_basis.yaml").read_text(encoding="utf-8"))
    for inst in doc["instruments"]:
        inst["kinds"].pop("power_exceeded", None)
    (folder / "legal_basis.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match="legal_basis.yaml.*power_exceeded"):
        load_reference_data(folder)
    folder2 = tmp_path / "two"
    folder2.mkdir()
    doc = yaml.safe_load((DATA / "tolerances.yaml").read_text(encoding="utf-8"))
    doc["frequency_tolerances"][0]["service"] = "radar"
    (folder2 / "tolerances.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match="tolerances.yaml.*radar"):
        load_reference_data(folder2)


def test_bad_yaml_and_missing_folder(tmp_path):
    (tmp_path / "coordination.yaml").write_text("triggers: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="coordination.yaml.*YAML"):
        load_reference_data(tmp_path)
    with pytest.raises(ConfigError, match="no such folder"):
        load_reference_data(tmp_path / "nope")
