"""The case lifecycle: statuses, dismissal reasons and the legal transitions.

::

    new -> triaged -> field_verification -> enforcement -> closed
      \\________\\___________\\____________-> dismissed (reason)

The same table is enforced three times: here (:func:`check_transition`, used by the
ORM and :class:`~compliance.cases.CaseService`), and in the database by a trigger
created in migration ``0002_compliance`` (SQLite and PostgreSQL), with CHECK
constraints on the status and dismissal-reason columns.
"""

from __future__ import annotations

from dsp.errors import ComplianceError

__all__ = [
    "CASE_STATUSES",
    "OPEN_STATUSES",
    "DISMISS_REASONS",
    "ALLOWED_TRANSITIONS",
    "EMITTER_CLASSES",
    "check_transition",
]

CASE_STATUSES = ("new", "triaged", "field_verification", "enforcement", "closed", "dismissed")
#: Statuses in which new findings still fold into the case.
OPEN_STATUSES = ("new", "triaged", "field_verification", "enforcement")
#: foreign_coordinated: a foreign station, coordinated; known: a known, accepted
#: emitter; false_alarm: not a real emission (artefact, mis-measurement).
DISMISS_REASONS = ("foreign_coordinated", "known", "false_alarm")
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("triaged", "dismissed"),
    "triaged": ("field_verification", "dismissed"),
    "field_verification": ("enforcement", "dismissed"),
    "enforcement": ("closed",),
    "closed": (),
    "dismissed": (),
}
#: How an emission was classified against the registry.
EMITTER_CLASSES = ("licensed", "foreign", "exempt", "unknown")


def check_transition(from_status: str, to_status: str, dismiss_reason: str | None = None) -> None:
    """Refuse an illegal status change.

    Raises
    ------
    ComplianceError
        When ``to_status`` cannot follow ``from_status``, or a dismissal lacks a
        reason from :data:`DISMISS_REASONS` (or a non-dismissal has one).

    Examples
    --------
    >>> check_transition("new", "triaged")
    >>> check_transition("new", "closed")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dsp.errors.ComplianceError: ...illegal case transition new -> closed...
    """
    if to_status not in CASE_STATUSES:
        raise ComplianceError(
            f"trạng thái không tồn tại / unknown case status {to_status!r}; one of "
            f"{', '.join(CASE_STATUSES)}"
        )
    allowed = ALLOWED_TRANSITIONS.get(from_status, ())
    if to_status not in allowed:
        raise ComplianceError(
            f"chuyển trạng thái không hợp lệ / illegal case transition {from_status} -> "
            f"{to_status} (allowed: {', '.join(allowed) or 'none'})"
        )
    if to_status == "dismissed" and dismiss_reason not in DISMISS_REASONS:
        raise ComplianceError(
            f"bác bỏ cần lý do / dismissing needs a reason, one of {', '.join(DISMISS_REASONS)}"
            f" (got {dismiss_reason!r})"
        )
    if to_status != "dismissed" and dismiss_reason is not None:
        raise ComplianceError("chỉ khi bác bỏ mới có lý do bác bỏ / a dismiss reason is only "
                              "for dismissed")
