"""The case lifecycle in code: every pair of statuses, dismissal reasons."""

from __future__ import annotations

import doctest
import importlib
import itertools

import pytest

from compliance.lifecycle import CASE_STATUSES, DISMISS_REASONS, check_transition
from dsp.errors import ComplianceError

LEGAL = {
    ("new", "triaged"),
    ("triaged", "field_verification"),
    ("field_verification", "enforcement"),
    ("enforcement", "closed"),
    ("new", "dismissed"),
    ("triaged", "dismissed"),
    ("field_verification", "dismissed"),
}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(CASE_STATUSES, repeat=2)))
def test_only_the_lifecycle_moves_are_allowed(a, b):
    reason = "known" if b == "dismissed" else None
    if (a, b) in LEGAL:
        check_transition(a, b, reason)
    else:
        with pytest.raises(ComplianceError, match="illegal case transition"):
            check_transition(a, b, reason)


@pytest.mark.parametrize("reason", DISMISS_REASONS)
def test_dismissal_reasons(reason):
    check_transition("triaged", "dismissed", reason)


def test_dismissal_needs_a_known_reason_and_only_dismissal_has_one():
    with pytest.raises(ComplianceError, match="needs a reason"):
        check_transition("new", "dismissed", None)
    with pytest.raises(ComplianceError, match="needs a reason"):
        check_transition("new", "dismissed", "bored")
    with pytest.raises(ComplianceError, match="only for dismissed"):
        check_transition("new", "triaged", "known")
    with pytest.raises(ComplianceError, match="unknown case status"):
        check_transition("new", "archived")


@pytest.mark.parametrize(
    "module",
    ["compliance.designator", "compliance.lifecycle", "compliance.services",
     "compliance.propagation", "compliance.vocabulary"],
)
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


COORDINATION_LEGAL = {
    ("new", "triaged"),
    ("triaged", "report_drafted"),
    ("report_drafted", "reported"),
    ("reported", "closed"),
    ("new", "dismissed"),
    ("triaged", "dismissed"),
    ("report_drafted", "dismissed"),
}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(CASE_STATUSES, repeat=2)))
def test_the_coordination_lifecycle_ends_in_a_report(a, b):
    reason = "foreign_coordinated" if b == "dismissed" else None
    if (a, b) in COORDINATION_LEGAL:
        check_transition(a, b, reason, kind="coordination")
    else:
        with pytest.raises(ComplianceError, match="illegal case transition"):
            check_transition(a, b, reason, kind="coordination")


def test_each_kind_has_its_own_statuses_and_unknown_kinds_are_refused():
    from compliance.lifecycle import STATUSES_BY_KIND

    assert "enforcement" not in STATUSES_BY_KIND["coordination"]
    assert "reported" not in STATUSES_BY_KIND["sanction"]
    with pytest.raises(ComplianceError, match="unknown case kind"):
        check_transition("new", "triaged", kind="treaty")
