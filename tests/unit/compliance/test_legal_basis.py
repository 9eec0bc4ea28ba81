"""The legal basis of a finding: the instrument in force at the measurement time (NĐ
15/2020 until 30/06/2026, NĐ 174/2026 from 01/07/2026, Vietnam time), article, clause
and point, and a citation that a later edit of the catalogue never rewrites."""

from __future__ import annotations

import datetime as dt
import importlib
from importlib import resources

import pytest
import yaml

from compliance.reference import load_reference_data
from compliance.registry import Registry
from compliance.rules import VIETNAM_TZ, evaluate, legal_date
from dsp.errors import ConfigError
from dsp.types import GeoPosition

_conf = importlib.import_module("tests.unit.compliance.conftest")
make_emission, make_licence, make_foreign = (
    _conf.make_emission, _conf.make_licence, _conf.make_foreign)

DATA = resources.files("compliance") / "data"
F_LM = 432.850e6
S = 1_000_000_000


def _ns(y: int, m: int, d: int, hh: int = 12, mm: int = 0, tz: dt.tzinfo = VIETNAM_TZ) -> int:
    return int(dt.datetime(y, m, d, hh, mm, tzinfo=tz).timestamp()) * S


def _unlicensed(reference, t_first_ns: int, t_last_ns: int):
    e = make_emission(F_LM, t_first_ns=t_first_ns, t_last_ns=t_last_ns)
    [f] = evaluate([e], Registry(), reference)[1]
    assert f.kind == "unlicensed_emission"
    return f


def test_an_offence_that_ended_before_1_july_2026_stays_under_15_2020(reference):
    f = _unlicensed(reference, _ns(2026, 6, 30, 8), _ns(2026, 6, 30, 23, 59))
    assert f.citation.instrument == "nd15_2020"
    assert (f.citation.article, f.citation.clause, f.citation.point) == (
        "Điều 58", "khoản 3", "điểm a")  # not Art. 57 (licences as documents)
    assert f.legal_basis.startswith("điểm a khoản 3 Điều 58 Nghị định 15/2020/NĐ-CP")
    assert "14/2022" in f.legal_basis and f.legal_basis.endswith("(UNSURE)")


def test_an_offence_from_1_july_2026_falls_under_174_2026(reference):
    f = _unlicensed(reference, _ns(2026, 7, 1, 0, 5), _ns(2026, 7, 1, 0, 30))
    assert f.citation.instrument == "nd174_2026"
    assert (f.citation.article, f.citation.clause) == ("Điều 66", "khoản 5")
    assert "Nghị định 174/2026/NĐ-CP" in f.legal_basis and "15/2020" not in f.legal_basis


def test_an_offence_going_on_across_1_july_2026_falls_under_174_2026(reference):
    f = _unlicensed(reference, _ns(2026, 6, 30, 22), _ns(2026, 7, 1, 2))
    assert f.citation.instrument == "nd174_2026"


def test_the_date_is_vietnam_time_not_utc(reference):
    # 30/06/2026 17:30 UTC is 01/07/2026 00:30 in Vietnam: the new decree applies.
    t = _ns(2026, 6, 30, 17, 30, tz=dt.UTC)
    assert legal_date(make_emission(F_LM, t_first_ns=t, t_last_ns=t)) == dt.date(2026, 7, 1)
    assert _unlicensed(reference, t, t).citation.instrument == "nd174_2026"
    t = _ns(2026, 6, 30, 16, 59, tz=dt.UTC)  # 23:59 in Vietnam
    assert _unlicensed(reference, t, t).citation.instrument == "nd15_2020"


@pytest.mark.parametrize(("kind_changes", "kind", "old", "new"), [
    ({"valid_to": "2025-12-31"}, "licence_not_valid", ("Điều 58", "khoản 3"),
     ("Điều 66", "khoản 5")),
    ({}, "frequency_out_of_tolerance", ("Điều 58", None), ("Điều 66", "khoản 6")),
])
def test_licensee_findings_change_article_with_the_decree(reference, kind_changes, kind, old,
                                                          new):
    reg = Registry(licences=(make_licence("L1", F_LM, **kind_changes),))
    offset = 5_000.0 if kind == "frequency_out_of_tolerance" else 0.0
    for t, want in ((_ns(2026, 6, 15), old), (_ns(2026, 7, 15), new)):
        e = make_emission(F_LM + offset, t_first_ns=t, t_last_ns=t + S)
        [f] = [x for x in evaluate([e], reg, reference)[1] if x.kind == kind]
        assert (f.citation.article, f.citation.clause) == want


def test_exempt_and_bandwidth_kinds_under_174_2026(reference):
    cat = reference.legal
    on = dt.date(2026, 8, 1)
    assert (cat.citation("exempt_limit_exceeded", on).article,
            cat.citation("exempt_limit_exceeded", on).clause) == ("Điều 72", "khoản 1")
    bw = cat.citation("bandwidth_exceeded", on)
    assert (bw.article, bw.clause, bw.point, bw.unsure) == ("Điều 66", "khoản 2", "điểm d", True)
    assert "Điều 76" in bw.note  # the alternative stays visible to the inspector


def test_off_raster_is_information_and_foreign_is_a_coordination_matter(reference):
    for on in (dt.date(2026, 3, 1), dt.date(2026, 9, 1)):
        off = reference.legal.citation("off_channel_raster", on)
        assert off.matter == "information" and off.article is None
        xb = reference.legal.citation("cross_border_over_trigger", on)
        assert xb.matter == "coordination" and xb.instrument == "itu_rr_art15"
        assert "15/2020" not in xb.text and "174/2026" not in xb.text
    # a site 1 km from the border line and a licence of ours on the same channel: the
    # conditions of a coordination matter (compliance.rules, cross_border_over_trigger)
    reg = Registry(foreign=(make_foreign("CN-1", F_LM),),
                   licences=(make_licence("LM-1", F_LM),))
    trigger = reference.coordination.trigger_for("land_mobile", F_LM).trigger_dbuv_m
    [f] = evaluate([make_emission(F_LM, e_dbuv_m=trigger + 5, power_unit="dBm")], reg,
                   reference, site=GeoPosition(21.97, 106.70))[1]
    assert (f.kind, f.matter) == ("cross_border_over_trigger", "coordination")


def test_a_date_before_every_instrument_is_cited_as_unsure(reference):
    c = reference.legal.citation("unlicensed_emission", dt.date(2015, 1, 1))
    assert c.instrument == "nd15_2020" and c.unsure and c.outside_dates
    assert "outside the instrument's effective dates" in c.text


def _edited_catalogue(tmp_path, edit):
    doc = yaml.safe_load((DATA / "legal_basis.yaml").read_text(encoding="utf-8"))
    edit(doc)
    (tmp_path / "legal_basis.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                               encoding="utf-8")
    return load_reference_data(tmp_path)


def test_a_later_edit_of_the_catalogue_does_not_rewrite_a_finding(reference, tmp_path):
    f = _unlicensed(reference, _ns(2026, 3, 2), _ns(2026, 3, 2, 13))
    before = (f.legal_basis, f.citation)

    def renumber(doc):
        doc["instruments"][0]["kinds"]["unlicensed_emission"]["article"] = "Điều 99"

    edited = _edited_catalogue(tmp_path, renumber)
    assert (f.legal_basis, f.citation) == before and "Điều 58" in f.legal_basis
    again = _unlicensed(edited, _ns(2026, 3, 2), _ns(2026, 3, 2, 13))
    assert again.citation.article == "Điều 99"  # new findings follow the edited data


def test_overlapping_instruments_and_an_offence_without_article_are_refused(tmp_path):
    def overlap(doc):
        doc["instruments"][0]["effective_to"] = dt.date(2026, 7, 31)

    with pytest.raises(ConfigError, match="legal_basis.yaml.*overlap"):
        _edited_catalogue(tmp_path, overlap)

    def no_article(doc):
        doc["instruments"][1]["kinds"]["power_exceeded"]["article"] = None

    with pytest.raises(ConfigError, match="legal_basis.yaml.*article"):
        _edited_catalogue(tmp_path, no_article)
