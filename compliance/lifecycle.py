"""The lifecycles of cases: statuses, dismissal reasons and the legal transitions.

Two kinds of case (``CASE_KINDS``):

``sanction`` — a violation case against a domestic subject (administrative sanction)::

    new -> triaged -> field_verification -> enforcement -> closed
      \\________\\___________\\____________-> dismissed (reason)

``coordination`` — a coordination matter about a foreign station over a coordination
trigger: no domestic offence; it ends in a report to the ministry's frequency
authority (Cục Tần số vô tuyến điện, Bộ Khoa học và Công nghệ), which takes it up
with the neighbouring administration (ITU RR Art. 15, Appendix 10 report)::

    new -> triaged -> report_drafted -> reported -> closed
      \\________\\___________\\______-> dismissed (reason)

The same tables are enforced three times: here (:func:`check_transition`, used by the
ORM and :class:`~compliance.cases.CaseService`), and in the database by a trigger
(migrations ``0002_compliance``, made kind-aware by ``0004_legal_coordination``;
SQLite and PostgreSQL), with CHECK constraints on the kind, status and
dismissal-reason columns.
"""

from __future__ import annotations

from dsp.errors import ComplianceError

__all__ = [
    "CASE_KINDS",
    "CASE_STATUSES",
    "STATUSES_BY_KIND",
    "OPEN_STATUSES",
    "DISMISS_REASONS",
    "ALLOWED_TRANSITIONS",
    "TRANSITIONS_BY_KIND",
    "EMITTER_CLASSES",
    "check_transition",
]

CASE_KINDS = ("sanction", "coordination")
STATUSES_BY_KIND: dict[str, tuple[str, ...]] = {
    "sanction": ("new", "triaged", "field_verification", "enforcement", "closed", "dismissed"),
    "coordination": ("new", "triaged", "report_drafted", "reported", "closed", "dismissed"),
}
#: Every status of either kind.
CASE_STATUSES = ("new", "triaged", "field_verification", "enforcement", "closed", "dismissed",
                 "report_drafted", "reported")
#: Statuses in which new findings still fold into the case (a reported coordination
#: matter keeps collecting measurements for the authority).
OPEN_STATUSES = ("new", "triaged", "field_verification", "enforcement", "report_drafted",
                 "reported")
#: foreign_coordinated: a foreign station, coordinated; known: a known, accepted
#: emitter; false_alarm: not a real emission (artefact, mis-measurement).
DISMISS_REASONS = ("foreign_coordinated", "known", "false_alarm")
TRANSITIONS_BY_KIND: dict[str, dict[str, tuple[str, ...]]] = {
    "sanction": {
        "new": ("triaged", "dismissed"),
        "triaged": ("field_verification", "dismissed"),
        "field_verification": ("enforcement", "dismissed"),
        "enforcement": ("closed",),
        "closed": (),
        "dismissed": (),
    },
    "coordination": {
        "new": ("triaged", "dismissed"),
        "triaged": ("report_drafted", "dismissed"),
        "report_drafted": ("reported", "dismissed"),
        "reported": ("closed",),
        "closed": (),
        "dismissed": (),
    },
}
#: The sanction lifecycle (kept under its first name).
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = TRANSITIONS_BY_KIND["sanction"]
#: How an emission was classified against the registry.
EMITTER_CLASSES = ("licensed", "foreign", "exempt", "unknown")


def check_transition(from_status: str, to_status: str, dismiss_reason: str | None = None,
                     kind: str = "sanction") -> None:
    """Refuse an illegal status change of a case of ``kind``.

    Raises
    ------
    ComplianceError
        When ``to_status`` cannot follow ``from_status`` in the lifecycle of ``kind``,
        or a dismissal lacks a reason from :data:`DISMISS_REASONS` (or a
        non-dismissal has one).

    Examples
    --------
    >>> check_transition("new", "triaged")
    >>> check_transition("report_drafted", "reported", kind="coordination")
    >>> check_transition("new", "closed")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dsp.errors.ComplianceError: ...illegal case transition new -> closed...
    """
    if kind not in CASE_KINDS:
        raise ComplianceError(f"loại vụ việc không tồn tại / unknown case kind {kind!r}; one "
                              f"of {', '.join(CASE_KINDS)}")
    if to_status not in CASE_STATUSES:
        raise ComplianceError(
            f"trạng thái không tồn tại / unknown case status {to_status!r}; one of "
            f"{', '.join(CASE_STATUSES)}"
        )
    allowed = TRANSITIONS_BY_KIND[kind].get(from_status, ())
    if to_status not in allowed:
        raise ComplianceError(
            f"chuyển trạng thái không hợp lệ / illegal case transition {from_status} -> "
            f"{to_status} of a {kind} case (allowed: {', '.join(allowed) or 'none'})"
        )
    if to_status == "dismissed" and dismiss_reason not in DISMISS_REASONS:
        raise ComplianceError(
            f"bác bỏ cần lý do / dismissing needs a reason, one of {', '.join(DISMISS_REASONS)}"
            f" (got {dismiss_reason!r})"
        )
    if to_status != "dismissed" and dismiss_reason is not None:
        raise ComplianceError("chỉ khi bác bỏ mới có lý do bác bỏ / a dismiss reason is only "
                              "for dismissed")
