"""ORM classes of compliance: licences, foreign stations, cases, their findings,
evidence and append-only history.

The schema is created by the Alembic revision ``0002_compliance``
(``storage/migrations/versions``; ``0004_legal_coordination`` adds the case kind and
the findings' citation columns), which also installs the database-side guards:
CHECK constraints on every enumerated column and triggers that refuse illegal case
transitions and any UPDATE/DELETE of ``case_history``. The same guards are enforced
here in code (``@validates`` and mapper events) so a mistake fails early with a
:class:`~dsp.errors.ComplianceError`.

Times are UTC integer nanoseconds (``*_ns``), as everywhere in rfwatch.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from compliance.lifecycle import (
    CASE_KINDS,
    DISMISS_REASONS,
    EMITTER_CLASSES,
    STATUSES_BY_KIND,
    check_transition,
)
from compliance.reference import FINDING_KINDS
from compliance.services import SERVICES
from dsp.errors import ComplianceError
from storage.db import Base

__all__ = [
    "LicenceRow",
    "ForeignStationRow",
    "Case",
    "CaseHistory",
    "FindingRow",
    "Evidence",
    "EVIDENCE_KINDS",
    "FINDING_MATTERS",
    "HISTORY_ACTIONS",
]

#: What a finding opens (compliance.rules): a violation case, a coordination matter, or
#: nothing on its own.
FINDING_MATTERS = ("sanction", "coordination", "information")
EVIDENCE_KINDS = ("spectrum", "sigmf", "field_measurement", "photo")
HISTORY_ACTIONS = (
    "created",
    "finding_added",
    "assigned",
    "transition",
    "evidence_added",
    "note",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class LicenceRow(Base):
    """A licence in the registry (see :class:`compliance.records.Licence`)."""

    __tablename__ = "licences"
    __table_args__ = (
        CheckConstraint(_in("service", SERVICES), name="service"),
        CheckConstraint(_in("status", ("valid", "suspended", "revoked")), name="status"),
        CheckConstraint("f_hz > 0", name="f_hz"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        CheckConstraint("(f_low_hz IS NULL AND f_high_hz IS NULL) OR (f_low_hz IS NOT NULL "
                        "AND f_high_hz IS NOT NULL AND f_low_hz > 0 AND f_high_hz > f_low_hz)",
                        name="block"),
    )

    licence_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    licensee: Mapped[str] = mapped_column(String(200))
    station_name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(32))
    f_hz: Mapped[float] = mapped_column(Float)
    emission: Mapped[str] = mapped_column(String(16))
    erp_w: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    antenna_height_m: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    # A band licence's block (migration 0005_band_licences); NULL for a point licence.
    f_low_hz: Mapped[float | None] = mapped_column(Float)
    f_high_hz: Mapped[float | None] = mapped_column(Float)


class ForeignStationRow(Base):
    """A neighbouring country's station (see :class:`compliance.records.ForeignStation`)."""

    __tablename__ = "foreign_stations"
    __table_args__ = (
        CheckConstraint(_in("service", SERVICES), name="service"),
        CheckConstraint("f_hz > 0", name="f_hz"),
    )

    licence_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    station_name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(32))
    f_hz: Mapped[float] = mapped_column(Float)
    emission: Mapped[str] = mapped_column(String(16))
    erp_w: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    antenna_height_m: Mapped[float | None] = mapped_column(Float)
    country: Mapped[str] = mapped_column(String(64))


class Case(Base):
    """A violation case: the findings about one emitter and their handling."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_in("kind", CASE_KINDS), name="kind"),
        CheckConstraint(
            " OR ".join(f"(kind = '{k}' AND {_in('status', v)})"
                        for k, v in STATUSES_BY_KIND.items()),
            name="status",
        ),
        CheckConstraint(_in("emitter_class", EMITTER_CLASSES), name="emitter_class"),
        CheckConstraint(
            f"(status = 'dismissed' AND dismiss_reason IS NOT NULL AND "
            f"{_in('dismiss_reason', DISMISS_REASONS)}) OR "
            "(status <> 'dismissed' AND dismiss_reason IS NULL)",
            name="dismiss_reason",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: sanction (a violation case) or coordination (a matter about a foreign station,
    #: reported to the frequency authority); see compliance/lifecycle.py.
    kind: Mapped[str] = mapped_column(String(16), default="sanction",
                                      server_default="sanction")
    status: Mapped[str] = mapped_column(String(24), index=True)
    dismiss_reason: Mapped[str | None] = mapped_column(String(32))
    emitter_class: Mapped[str] = mapped_column(String(16))
    f_hz: Mapped[float] = mapped_column(Float, index=True)
    bw_hz: Mapped[float] = mapped_column(Float)
    licence_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("licences.licence_id", ondelete="SET NULL")
    )
    # The licence or foreign station the emitter was matched to, as the rules named it
    # (licence_id above is the link to the licences table, set only when it is there).
    matched_id: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))
    assignee: Mapped[str | None] = mapped_column(String(200))
    first_seen_ns: Mapped[int] = mapped_column(BigInteger)
    last_seen_ns: Mapped[int] = mapped_column(BigInteger)
    created_ns: Mapped[int] = mapped_column(BigInteger)
    updated_ns: Mapped[int] = mapped_column(BigInteger)
    #: The emitter's estimated location (compliance.location), JSON; NULL: none yet.
    location_json: Mapped[str | None] = mapped_column(Text)
    #: Why there is no location (e.g. "one site only").
    location_note: Mapped[str | None] = mapped_column(Text)
    #: When the location was computed (UTC ns).
    location_ns: Mapped[int | None] = mapped_column(BigInteger)

    # Loaded on demand; CaseService.get/list_cases load them eagerly (selectinload) so
    # the cases they return stay readable after the session closes.
    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="case", order_by="FindingRow.id"
    )
    history: Mapped[list[CaseHistory]] = relationship(
        back_populates="case", order_by="CaseHistory.id"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="case", order_by="Evidence.id"
    )

    @validates("status")
    def _guard_status(self, _key: str, value: str) -> str:
        current = self.status
        if current is None:
            if value != "new":
                raise ComplianceError(f"một vụ việc bắt đầu ở 'new' / a case starts as "
                                      f"'new', not {value!r}")
            return value
        if value != current:
            # The reason is checked by CaseService.transition and the CHECK constraint;
            # here only the order of statuses.
            check_transition(current, value, "known" if value == "dismissed" else None,
                             self.kind or "sanction")
        return value

    @property
    def stations(self) -> list[str]:
        """The stations that reported findings in this case, sorted."""
        return sorted({f.station_id for f in self.findings})

    @property
    def finding_kinds(self) -> list[str]:
        """The distinct finding kinds of this case, sorted."""
        return sorted({f.kind for f in self.findings})


class FindingRow(Base):
    """One finding (rule breach) stored in a case."""

    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint(_in("kind", FINDING_KINDS), name="kind"),
        CheckConstraint(_in("severity", ("low", "medium", "high")), name="severity"),
        CheckConstraint(f"matter IS NULL OR {_in('matter', FINDING_MATTERS)}", name="matter"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    station_id: Mapped[str] = mapped_column(String(64))
    t_ns: Mapped[int] = mapped_column(BigInteger)
    f_hz: Mapped[float] = mapped_column(Float)
    bw_hz: Mapped[float] = mapped_column(Float)
    measured: Mapped[float | None] = mapped_column(Float)
    permitted: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    legal_basis: Mapped[str] = mapped_column(Text)
    licence_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    # The citation as made when the finding was recorded (never recomputed from the
    # catalogue; NULL on findings recorded before 0004_legal_coordination).
    instrument: Mapped[str | None] = mapped_column(String(32))
    article: Mapped[str | None] = mapped_column(String(32))
    clause: Mapped[str | None] = mapped_column(String(32))
    point: Mapped[str | None] = mapped_column(String(32))
    #: sanction | coordination | information (see compliance.rules).
    matter: Mapped[str | None] = mapped_column(String(16))
    #: For an unlicensed emission: the nearest licence, for the inspector.
    adjacent_licence: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="findings")


class CaseHistory(Base):
    """One entry of a case's append-only history: who, when, what, why."""

    __tablename__ = "case_history"
    __table_args__ = (CheckConstraint(_in("action", HISTORY_ACTIONS), name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    t_ns: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="history")


class Evidence(Base):
    """A piece of evidence: spectrum snapshot, SigMF recording, field measurement, photo."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint(_in("kind", EVIDENCE_KINDS), name="kind"),
        CheckConstraint("length(sha256) = 64", name="sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    added_by: Mapped[str] = mapped_column(String(200))
    added_ns: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="evidence")


def _refuse_history_change(_mapper: object, _conn: object, target: CaseHistory) -> None:
    raise ComplianceError(
        f"lịch sử vụ việc chỉ được thêm / case history is append-only (entry {target.id})"
    )


event.listen(CaseHistory, "before_update", _refuse_history_change)
event.listen(CaseHistory, "before_delete", _refuse_history_change)
