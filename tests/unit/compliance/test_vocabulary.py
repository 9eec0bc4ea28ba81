"""Every code a table shows has its Vietnamese name, in the words an inspector writes."""

from __future__ import annotations

from compliance.lifecycle import CASE_KINDS, CASE_STATUSES, DISMISS_REASONS, EMITTER_CLASSES
from compliance.models import FINDING_MATTERS
from compliance.reference import FINDING_KINDS
from compliance.vocabulary import (
    CASE_KIND_VI,
    CLASS_VI,
    DISMISS_REASON_VI,
    FINDING_KIND_VI,
    MATTER_VI,
    STATUS_VI,
    vi,
)


def test_every_code_has_a_vietnamese_name():
    for codes, names in ((EMITTER_CLASSES, CLASS_VI), (CASE_STATUSES, STATUS_VI),
                         (CASE_KINDS, CASE_KIND_VI), (FINDING_KINDS, FINDING_KIND_VI),
                         (DISMISS_REASONS, DISMISS_REASON_VI), (FINDING_MATTERS, MATTER_VI)):
        missing = [c for c in codes if c not in names]
        assert not missing, missing
        assert all(names[c] != c for c in codes)


def test_the_words_an_inspector_writes():
    assert (vi(CLASS_VI, "licensed"), vi(CLASS_VI, "exempt"), vi(CLASS_VI, "unknown")) == (
        "có giấy phép", "miễn giấy phép", "chưa xác định")
    assert "phân kênh tần số" in FINDING_KIND_VI["off_channel_raster"]
    assert FINDING_KIND_VI["frequency_out_of_tolerance"] == (
        "không đúng tần số quy định trong giấy phép")
    assert FINDING_KIND_VI["power_exceeded"] == (
        "phát vượt quá công suất quy định trong giấy phép")
    names = " ".join(n for table in (CLASS_VI, STATUS_VI, FINDING_KIND_VI) for n in
                     table.values())
    for avoided in ("có phép", "không rõ", "mạng kênh", "bằng chứng"):
        assert avoided not in names.replace("có giấy phép", ""), avoided
    assert vi(STATUS_VI, "archived") == "archived" and vi(STATUS_VI, None) == "-"
