"""Violation cases: findings about one emitter folded into one case, its lifecycle,
assignee, evidence and append-only history.

Folding (``tolerances.yaml`` ``cases:``): the findings of one emission go to an
existing case when the case has the same emitter class (and the same licence or
foreign station), its frequency is within ``max(fold_min_hz, fold_bw_fraction x
bandwidth)`` of the emission, and the sighting falls within ``fold_window_s`` of the
case's first/last sighting; the case must be open, or dismissed as ``known`` or
``foreign_coordinated`` (such a case keeps absorbing the emitter silently instead of
raising a new one). Otherwise a new case opens. So one emitter heard at several
stations, or on and off over days, is one case.

What the findings open (``Finding.matter``, chosen by the legal catalogue): findings of
a foreign station over a coordination trigger open (or fold into) a **coordination
matter** (``Case.kind == "coordination"``), never a sanction case; offences open a
violation case (``"sanction"``); information alone (``off_channel_raster``) opens
nothing, and is stored beside the offence it accompanies. Each stored finding keeps
its citation (instrument, article, clause, point, text) as made at the measurement
time; nothing here recomputes it.

The lifecycles are :mod:`compliance.lifecycle`; the database refuses illegal moves too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from compliance.lifecycle import OPEN_STATUSES, check_transition
from compliance.models import (
    EVIDENCE_KINDS,
    Case,
    CaseHistory,
    Evidence,
    FindingRow,
    LicenceRow,
)
from compliance.reference import ReferenceData, load_reference_data
from compliance.rules import Finding
from dsp.errors import ComplianceError, StorageError

__all__ = ["CaseService", "case_summary", "ns_to_iso", "sha256_file"]

log = logging.getLogger(__name__)

_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
#: Load a case with everything a caller reads after the session has closed.
_FULL = (selectinload(Case.findings), selectinload(Case.history), selectinload(Case.evidence))
#: Dismissed cases with these reasons keep absorbing their emitter.
_ABSORBING_REASONS = ("known", "foreign_coordinated")


def ns_to_iso(t_ns: int) -> str:
    """UTC ISO 8601 with ``Z`` (microsecond precision) of integer nanoseconds."""
    stamp = dt.datetime.fromtimestamp(t_ns // 1_000_000_000, tz=dt.UTC).replace(
        microsecond=(t_ns % 1_000_000_000) // 1000
    )
    return stamp.isoformat().replace("+00:00", "Z")


def sha256_file(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def case_summary(case: Case) -> dict[str, object]:
    """A JSON-ready summary of a case (what ``rfwatch cases list --json`` prints)."""
    return {
        "id": case.id,
        "kind": case.kind,
        "status": case.status,
        "dismiss_reason": case.dismiss_reason,
        "class": case.emitter_class,
        "f_hz": case.f_hz,
        "bw_hz": case.bw_hz,
        # The licence (or foreign station) the rules matched; licence_linked says whether
        # it is also linked to a licence of the database registry.
        "licence_id": case.matched_id if case.emitter_class == "licensed" else None,
        "foreign_id": case.matched_id if case.emitter_class == "foreign" else None,
        "licence_linked": case.licence_id is not None,
        "severity": case.severity,
        "assignee": case.assignee,
        "first_seen": ns_to_iso(case.first_seen_ns),
        "last_seen": ns_to_iso(case.last_seen_ns),
        "finding_kinds": case.finding_kinds,
        "stations": case.stations,
        "n_findings": len(case.findings),
        # The instrument the case as a whole falls under: that of its latest cited
        # finding (an offence still going on when a new decree takes effect falls
        # under the new one); each finding keeps its own citation.
        "instrument": _latest_instrument(case),
        # The emitter's estimated position with its 95 % region and the border verdict
        # (compliance.location.location_json), or None.
        "location": None if case.location_json is None else json.loads(case.location_json),
    }


def _latest_instrument(case: Case) -> str | None:
    cited = [f for f in case.findings if f.instrument is not None and f.matter != "information"]
    return max(cited, key=lambda f: (f.t_ns, f.id or 0)).instrument if cited else None


class CaseService:
    """Cases in the relational database.

    Parameters
    ----------
    session_factory:
        From :func:`storage.db.make_session_factory`; the schema must be at
        ``0002_compliance`` or later (``storage.migrations.upgrade``).
    reference:
        The reference data (folding parameters); loaded from the package by default.
    clock:
        Returns the current UTC time in integer ns (for history and ``updated_ns``).
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        reference: ReferenceData | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._sessions = session_factory
        self._reference = reference if reference is not None else load_reference_data()
        self._clock = clock

    # -- folding ---------------------------------------------------------------

    def record_findings(
        self,
        findings: Sequence[Finding],
        station_id: str,
        t_ns: int,
        *,
        actor: str = "system",
        session: Session | None = None,
    ) -> list[Case]:
        """Fold findings from one station's measurement at ``t_ns`` into cases.

        Findings of the same emission go to the same case (a coordination matter when
        any of them is a coordination finding; no case when all are information).
        Returns the cases that were created or updated (each once, in order of first
        touch). With ``session`` the writes join the caller's transaction (the caller
        commits; the centre stores a batch's findings and its ledger row in one unit
        of work).

        Raises
        ------
        StorageError
            When the database refuses the write (nothing is written then).
        """
        by_emission: dict[int, list[Finding]] = {}
        for finding in findings:
            by_emission.setdefault(id(finding.emission), []).append(finding)
        if not by_emission:
            return []
        touched: list[str] = []

        def fold(session: Session, full: bool = True) -> dict[str, Case]:
            batch = _Batch(self, session, station_id, t_ns, actor)
            for group in by_emission.values():
                case_id = batch.fold(group)
                if case_id is not None and case_id not in touched:
                    touched.append(case_id)
            session.flush()
            if not full:  # the caller's session stays open: nothing to load eagerly
                return {c.id: c for c in session.scalars(
                    select(Case).where(Case.id.in_(touched)))}
            return {c.id: c for c in session.scalars(
                select(Case).where(Case.id.in_(touched)).options(*_FULL)
                .execution_options(populate_existing=True))}

        if session is not None:
            loaded = fold(session, full=False)  # errors go to the caller, who rolls back
            return [loaded[case_id] for case_id in touched]
        try:
            with self._sessions.begin() as own:
                loaded = fold(own)
        except SQLAlchemyError as err:
            raise StorageError(f"không ghi được vụ việc / cannot record cases: {err}") from err
        return [loaded[case_id] for case_id in touched]

    # -- location ----------------------------------------------------------------

    def refresh_locations(self, settings: object | None = None) -> int:
        """Locate every case whose emitter changed since its last location.

        ``settings`` is a :class:`compliance.location.LocationSettings`. Returns how
        many cases were (re)located. Each case is located from its own findings and
        evidence (:mod:`compliance.location`), in one transaction.
        """
        from compliance.location import refresh_locations

        try:
            with self._sessions() as session:
                stale = list(session.scalars(
                    select(Case).where(or_(Case.location_ns.is_(None),
                                           Case.location_ns < Case.updated_ns))
                    .options(*_FULL)))
                n = refresh_locations(session, stale, settings)  # type: ignore[arg-type]
                for case in stale:
                    self._foreign_to_coordination(session, case)
                session.commit()
        except SQLAlchemyError as err:
            raise StorageError(f"không ghi được vị trí / cannot store locations: {err}") from err
        return n

    def _foreign_to_coordination(self, session: Session, case: Case) -> None:
        """An unknown emitter located on the foreign side is a coordination matter.

        A case keeps its kind (the database enforces it), so the new violation case
        is dismissed as ``foreign_coordinated`` (later sightings of the emitter fold
        into it and open nothing) and the matter is opened, or the emitter's open one
        is noted, with the location; each side's history names the other. Only a
        ``new`` case moves: one an inspector has triaged stays the inspector's call.
        """
        if (case.kind != "sanction" or case.status != "new" or case.emitter_class != "unknown"
                or case.location_json is None):
            return
        loc = json.loads(case.location_json)
        if loc.get("verdict") != "foreign":
            return
        now = self._clock()
        folding = self._reference.tolerances.cases
        reach = max(folding.fold_min_hz, folding.fold_bw_fraction * case.bw_hz)
        matter = session.scalars(select(Case).where(
            Case.kind == "coordination", Case.status.in_(OPEN_STATUSES),
            Case.f_hz >= case.f_hz - reach, Case.f_hz <= case.f_hz + reach)).first()
        why = (f"định vị phía nước ngoài / located on the foreign side (P(VN) = "
               f"{loc.get('p_vietnam')}) at {loc['lat_deg']:.5f}, {loc['lon_deg']:.5f}")
        if matter is None:
            stamp = dt.datetime.fromtimestamp(case.first_seen_ns / 1e9, tz=dt.UTC)
            matter = Case(
                id=f"PH{stamp:%Y%m%d}-{uuid.uuid4().hex[:8].upper()}", kind="coordination",
                status="new", emitter_class="unknown", f_hz=case.f_hz, bw_hz=case.bw_hz,
                severity=case.severity, first_seen_ns=case.first_seen_ns,
                last_seen_ns=case.last_seen_ns, created_ns=now, updated_ns=now,
                location_json=case.location_json, location_note=case.location_note,
                location_ns=now)
            session.add(matter)
            session.add(CaseHistory(case_id=matter.id, t_ns=now, actor="system",
                                    action="created", to_status="new",
                                    detail=f"coordination: {why}; from case {case.id}"))
        else:
            matter.last_seen_ns = max(matter.last_seen_ns, case.last_seen_ns)
            session.add(CaseHistory(case_id=matter.id, t_ns=now, actor="system", action="note",
                                    detail=f"{why}; case {case.id} joins this matter"))
        before = case.status
        case.status = "dismissed"
        case.dismiss_reason = "foreign_coordinated"
        case.updated_ns = now
        case.location_ns = now
        session.add(CaseHistory(case_id=case.id, t_ns=now, actor="system", action="transition",
                                from_status=before, to_status="dismissed",
                                detail=f"{why}: chuyển phối hợp / to coordination matter "
                                f"{matter.id} [foreign_coordinated]"))
        log.info("case %s located abroad: dismissed into coordination matter %s", case.id,
                 matter.id)

    # -- reading -----------------------------------------------------------------

    def list_cases(self, status: str | None = None) -> list[Case]:
        """All cases (optionally of one status), newest sighting first."""
        with self._sessions() as session:
            stmt = select(Case).order_by(Case.last_seen_ns.desc(), Case.id).options(*_FULL)
            if status is not None:
                stmt = stmt.where(Case.status == status)
            return list(session.scalars(stmt))

    def get(self, case_id: str) -> Case:
        """One case with its findings, history and evidence.

        Raises
        ------
        ComplianceError
            When there is no such case.
        """
        with self._sessions() as session:
            return self._get(session, case_id)

    @staticmethod
    def _get(session: Session, case_id: str) -> Case:
        case = session.get(Case, case_id, options=_FULL, populate_existing=True)
        if case is None:
            raise ComplianceError(f"không có vụ việc / no case {case_id!r}")
        return case

    # -- changing ------------------------------------------------------------------

    def _change(self, case_id: str, change: Callable[[Session, Case, int], None]) -> Case:
        try:
            with self._sessions.begin() as session:
                case = self._get(session, case_id)
                change(session, case, self._clock())
                session.flush()
                return self._get(session, case_id)
        except IntegrityError as err:
            raise ComplianceError(
                f"CSDL từ chối thay đổi / the database refused the change to {case_id}: "
                f"{str(err.orig).splitlines()[0]}"
            ) from err
        except SQLAlchemyError as err:
            raise StorageError(f"không ghi được vụ việc / cannot update case: {err}") from err

    def assign(self, case_id: str, assignee: str, *, actor: str, reason: str = "") -> Case:
        """Assign a case to ``assignee`` (a user name), recorded in the history."""
        if not assignee.strip():
            raise ComplianceError("cần người được giao / assignee must not be empty")

        def change(session: Session, case: Case, now: int) -> None:
            before = case.assignee
            case.assignee = assignee
            case.updated_ns = now
            session.add(CaseHistory(case_id=case.id, t_ns=now, actor=actor, action="assigned",
                                    detail=f"{before or '-'} -> {assignee}"
                                    + (f": {reason}" if reason else "")))

        return self._change(case_id, change)

    def transition(
        self,
        case_id: str,
        to_status: str,
        *,
        actor: str,
        reason: str,
        dismiss_reason: str | None = None,
    ) -> Case:
        """Move a case along its lifecycle, recording who, when and why.

        Raises
        ------
        ComplianceError
            For an illegal transition, a dismissal without a valid reason, or an
            empty ``reason``; nothing is changed then.
        """
        if not reason.strip():
            raise ComplianceError("cần lý do / a reason (why) is required")

        def change(session: Session, case: Case, now: int) -> None:
            check_transition(case.status, to_status, dismiss_reason, case.kind)
            before = case.status
            case.dismiss_reason = dismiss_reason
            case.status = to_status
            case.updated_ns = now
            log.info("case %s: %s -> %s by %s", case.id, before, to_status, actor)
            session.add(CaseHistory(case_id=case.id, t_ns=now, actor=actor, action="transition",
                                    from_status=before, to_status=to_status,
                                    detail=reason + (f" [{dismiss_reason}]"
                                                     if dismiss_reason else "")))

        return self._change(case_id, change)

    def add_note(self, case_id: str, text: str, *, actor: str) -> Case:
        """Append a free-text note to the history."""

        def change(session: Session, case: Case, now: int) -> None:
            session.add(CaseHistory(case_id=case.id, t_ns=now, actor=actor, action="note",
                                    detail=text))

        return self._change(case_id, change)

    def add_evidence(
        self,
        case_id: str,
        kind: str,
        uri: str | Path,
        *,
        actor: str,
        sha256: str | None = None,
        note: str = "",
    ) -> Evidence:
        """Attach evidence to a case with its SHA-256 checksum.

        A local file is hashed here (and must match ``sha256`` when that is given);
        for anything else (a URL) ``sha256`` is required.

        Raises
        ------
        ComplianceError
            Unknown kind, missing checksum, or a checksum that does not match the file.
        """
        if kind not in EVIDENCE_KINDS:
            raise ComplianceError(f"loại chứng cứ không hợp lệ / evidence kind {kind!r} not one "
                                  f"of {', '.join(EVIDENCE_KINDS)}")
        path = Path(uri)
        size: int | None = None
        if path.is_file():
            digest, size = sha256_file(path)
            if sha256 is not None and sha256.lower() != digest:
                raise ComplianceError(f"tổng kiểm không khớp / checksum mismatch for {path}: "
                                      f"file {digest}, given {sha256}")
            sha256, where = digest, str(path.resolve())
        else:
            if sha256 is None or len(sha256) != 64 or not all(
                c in "0123456789abcdef" for c in sha256.lower()
            ):
                raise ComplianceError(f"không có tệp {uri}; cần sha256 / no local file {uri}: "
                                      "a 64-hex-digit sha256 is required")
            where = str(uri)
        added: list[Evidence] = []

        def change(session: Session, case: Case, now: int) -> None:
            evidence = Evidence(case_id=case.id, kind=kind, uri=where, sha256=sha256.lower(),
                                size_bytes=size, added_by=actor, added_ns=now, note=note)
            session.add(evidence)
            session.add(CaseHistory(case_id=case.id, t_ns=now, actor=actor, action="evidence_added",
                                    detail=f"{kind} {where} sha256={sha256.lower()}"))
            added.append(evidence)

        case = self._change(case_id, change)
        return next(e for e in case.evidence if e.id == added[0].id)

    @staticmethod
    def verify_evidence(evidence: Evidence) -> bool:
        """True when the evidence file is present and still has its recorded checksum."""
        path = Path(evidence.uri)
        return path.is_file() and sha256_file(path)[0] == evidence.sha256


class _Batch:
    """One ``record_findings`` call: the candidate cases and recent findings are read
    once (two queries), then every emission is folded in memory and written together.
    """

    def __init__(self, service: CaseService, session: Session, station_id: str, t_ns: int,
                 actor: str) -> None:
        self._reference = service._reference
        self._clock = service._clock
        self._session = session
        self._station_id = station_id
        self._t_ns = t_ns
        self._actor = actor
        folding = self._reference.tolerances.cases
        window_ns = int(folding.fold_window_s * 1e9)
        self._candidates: list[Case] = list(session.scalars(select(Case).where(
            Case.first_seen_ns <= t_ns + window_ns,
            Case.last_seen_ns >= t_ns - window_ns,
            or_(
                Case.status.in_(OPEN_STATUSES),
                and_(Case.status == "dismissed", Case.dismiss_reason.in_(_ABSORBING_REASONS)),
            ),
        )))
        repeat_ns = int(folding.finding_repeat_s * 1e9)
        self._recent: dict[str, set[str]] = {}
        rows = session.execute(select(FindingRow.case_id, FindingRow.kind).where(
            FindingRow.station_id == station_id,
            FindingRow.t_ns > t_ns - repeat_ns,
            FindingRow.t_ns < t_ns + repeat_ns,
        ))
        for case_id, kind in rows:
            self._recent.setdefault(case_id, set()).add(kind)

    def _match(self, first: Finding, kind: str) -> Case | None:
        folding = self._reference.tolerances.cases
        e = first.emission
        best: tuple[float, str, Case] | None = None
        for case in self._candidates:
            if (case.emitter_class != first.emitter_class or case.matched_id != first.licence_id
                    or (case.kind or "sanction") != kind):
                continue
            reach = max(folding.fold_min_hz, folding.fold_bw_fraction * max(case.bw_hz,
                                                                            e.bw_99_hz))
            offset = abs(case.f_hz - e.f_hz)
            if offset <= reach and (best is None or (offset, case.id) < best[:2]):
                best = (offset, case.id, case)
        return best[2] if best else None

    def fold(self, group: list[Finding]) -> str | None:
        """Fold the findings of one emission; the id of the case they went to (``None``
        when they are information only and open nothing)."""
        matters = {f.matter for f in group}
        if "coordination" in matters:
            kind = "coordination"
        elif "sanction" in matters:
            kind = "sanction"
        else:
            return None
        first = next(f for f in group if f.matter == kind)
        e = first.emission
        t_ns, station_id, actor, session = self._t_ns, self._station_id, self._actor, self._session
        now = self._clock()
        severity = max((f.severity for f in group if f.matter == kind),
                       key=lambda s: _SEVERITY_RANK[s])
        case = self._match(first, kind)
        if case is None:
            stamp = dt.datetime.fromtimestamp(t_ns / 1e9, tz=dt.UTC).strftime("%Y%m%d")
            licence_id = first.licence_id if first.emitter_class == "licensed" else None
            if licence_id is not None and session.get(LicenceRow, licence_id) is None:
                licence_id = None  # checked against a file, not the DB registry
            case = Case(
                id=f"{'PH' if kind == 'coordination' else 'C'}{stamp}-"
                   f"{uuid.uuid4().hex[:8].upper()}",
                kind=kind,
                status="new",
                emitter_class=first.emitter_class,
                f_hz=e.f_hz,
                bw_hz=e.bw_99_hz,
                licence_id=licence_id,
                matched_id=first.licence_id,
                severity=severity,
                first_seen_ns=t_ns,
                last_seen_ns=t_ns,
                created_ns=now,
                updated_ns=now,
            )
            session.add(case)
            self._candidates.append(case)
            session.add(CaseHistory(case_id=case.id, t_ns=now, actor=actor, action="created",
                                    to_status="new",
                                    detail=f"{kind}: {first.emitter_class} emission at "
                                    f"{e.f_hz:.0f} Hz seen by {station_id}"))
            log.info("case %s opened (%s): %s emission at %.0f Hz seen by %s", case.id, kind,
                     first.emitter_class, e.f_hz, station_id)
        else:
            case.first_seen_ns = min(case.first_seen_ns, t_ns)
            case.last_seen_ns = max(case.last_seen_ns, t_ns)
            case.bw_hz = max(case.bw_hz, e.bw_99_hz)
            if _SEVERITY_RANK[severity] > _SEVERITY_RANK[case.severity]:
                case.severity = severity
            case.updated_ns = now
        recent = self._recent.setdefault(case.id, set())
        stored = []
        for f in group:
            if f.kind in recent:
                continue
            recent.add(f.kind)
            session.add(FindingRow(
                case_id=case.id, kind=f.kind, station_id=station_id, t_ns=t_ns, f_hz=f.f_hz,
                bw_hz=f.emission.bw_99_hz, measured=f.measured, permitted=f.permitted,
                unit=f.unit, severity=f.severity, legal_basis=f.legal_basis,
                licence_id=f.licence_id, detail=f.detail,
                instrument=f.citation.instrument if f.citation else None,
                article=f.citation.article if f.citation else None,
                clause=f.citation.clause if f.citation else None,
                point=f.citation.point if f.citation else None,
                matter=f.matter, adjacent_licence=f.adjacent_licence,
            ))
            stored.append(f.kind)
        if stored:
            session.add(CaseHistory(case_id=case.id, t_ns=now, actor=actor,
                                    action="finding_added",
                                    detail=f"{', '.join(stored)} from {station_id} at "
                                    f"{ns_to_iso(t_ns)}"))
        return case.id
