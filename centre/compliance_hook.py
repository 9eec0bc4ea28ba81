"""The centre's compliance step: classify, apply the rules, fold findings into cases.

A thin adapter from :class:`centre.ingest.IngestService` to ``compliance``, in two
halves so that nothing reaches the database before a batch's time series are stored:

- :meth:`CaseComplianceHook.classify` reads only (the registry, cached for
  ``registry_ttl_s``): a class per emission and its findings;
- :meth:`CaseComplianceHook.record` and :meth:`CaseComplianceHook.attach_evidence`
  write in the caller's session, the same transaction as the batch's ledger row, so
  a batch that is not stored leaves no case behind.

Evidence finds its case with one query bounded by time and frequency (never by
loading every case).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from compliance.cases import CaseService
from compliance.classify import classify
from compliance.models import Case, CaseHistory, Evidence
from compliance.reference import ReferenceData, load_reference_data
from compliance.registry import Registry, load_registry
from compliance.rules import Finding, findings_for
from dsp.types import Emission, GeoPosition

__all__ = ["CaseComplianceHook", "Classified", "ComplianceOutcome"]

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ComplianceOutcome:
    """What compliance made of a batch's emissions: a class per emission, cases touched."""

    classes: tuple[str, ...]
    n_findings: int = 0
    case_ids: tuple[str, ...] = ()
    finding_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Classified:
    """A class per emission and the findings by measurement time (nothing written yet)."""

    classes: tuple[str, ...]
    findings_by_t_ns: dict[int, list[Finding]] = field(default_factory=dict)

    @property
    def n_findings(self) -> int:
        return sum(len(f) for f in self.findings_by_t_ns.values())


class CaseComplianceHook:
    """Classify emissions, record findings in cases, attach evidence to cases.

    Parameters
    ----------
    sessions:
        Relational session factory (schema at ``0002_compliance`` or later).
    reference:
        Compliance reference data (the package's by default).
    registry_ttl_s:
        How long a loaded registry is reused before it is read again.
    evidence_window_s:
        Evidence attaches to a case seen within this many seconds of it.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        reference: ReferenceData | None = None,
        registry_ttl_s: float = 30.0,
        evidence_window_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self.reference = reference if reference is not None else load_reference_data()
        self.cases = CaseService(sessions, reference=self.reference)
        self._ttl_s = registry_ttl_s
        self._clock = clock
        self._registry: Registry | None = None
        self._loaded_at = 0.0
        self._registry_lock = threading.Lock()
        self._evidence_window_ns = int(evidence_window_s * NS)

    def registry(self) -> Registry:
        with self._registry_lock:
            now = self._clock()
            if self._registry is None or now - self._loaded_at > self._ttl_s:
                with self._sessions() as session:
                    self._registry = load_registry(session)
                self._loaded_at = now
            return self._registry

    def classify(
        self, emissions: Sequence[Emission], sites: Sequence[GeoPosition | None]
    ) -> Classified:
        """A class and the findings of every emission; reads only."""
        registry = self.registry()
        classes: list[str] = []
        by_time: dict[int, list[Finding]] = {}
        for emission, site in zip(emissions, sites, strict=True):
            c = classify(emission, registry, self.reference, site=site)
            classes.append(c.emitter_class)
            found = findings_for(c, self.reference, site=site)
            if found:
                by_time.setdefault(emission.t_first_ns, []).extend(found)
        return Classified(tuple(classes), by_time)

    def record(
        self, session: Session, *, station_id: str, classified: Classified
    ) -> ComplianceOutcome:
        """Fold the findings into cases in ``session`` (the caller commits)."""
        case_ids: list[str] = []
        kinds: list[str] = []
        for t_ns, findings in sorted(classified.findings_by_t_ns.items()):
            kinds.extend(f.kind for f in findings)
            for case in self.cases.record_findings(findings, station_id, t_ns, session=session):
                if case.id not in case_ids:
                    case_ids.append(case.id)
        return ComplianceOutcome(
            classes=classified.classes,
            n_findings=classified.n_findings,
            case_ids=tuple(case_ids),
            finding_kinds=tuple(sorted(set(kinds))),
        )

    def process(
        self,
        *,
        station_id: str,
        emissions: Sequence[Emission],
        sites: Sequence[GeoPosition | None],
    ) -> ComplianceOutcome:
        """Classify and record in one transaction of its own (callers outside ingest)."""
        classified = self.classify(emissions, sites)
        with self._sessions.begin() as session:
            return self.record(session, station_id=station_id, classified=classified)

    def attach_evidence(
        self,
        session: Session,
        *,
        station_id: str,
        f_hz: float,
        t_ns: int,
        kind: str,
        path: Path,
        sha256: str,
        size_bytes: int,
        description: str,
        now_ns: int,
    ) -> str | None:
        """Attach to the open case nearest ``f_hz`` seen around ``t_ns``; its id or None.

        Written in ``session`` (the caller commits). Evidence already attached to that
        case (same SHA-256: a batch processed again) is not attached twice.
        """
        folding = self.reference.tolerances.cases
        w = self._evidence_window_ns
        offset_hz = func.abs(Case.f_hz - f_hz)
        candidates = session.scalars(
            select(Case).where(
                Case.first_seen_ns - w <= t_ns,
                Case.last_seen_ns + w >= t_ns,
                Case.status.notin_(("closed", "dismissed")),
                or_(offset_hz <= folding.fold_min_hz,
                    offset_hz <= folding.fold_bw_fraction * Case.bw_hz),
            )
        )
        best: tuple[float, str, Case] | None = None
        for case in candidates:
            offset = abs(case.f_hz - f_hz)
            if best is None or (offset, case.id) < best[:2]:
                best = (offset, case.id, case)
        if best is None:
            return None
        case = best[2]
        seen = session.scalar(
            select(Evidence.id).where(Evidence.case_id == case.id, Evidence.sha256 == sha256)
        )
        if seen is not None:
            return case.id  # attached already (a batch processed again)
        actor = f"station:{station_id}"
        where = str(Path(path).resolve())
        session.add(Evidence(case_id=case.id, kind=kind, uri=where, sha256=sha256,
                             size_bytes=size_bytes, added_by=actor, added_ns=now_ns,
                             note=description))
        session.add(CaseHistory(case_id=case.id, t_ns=now_ns, actor=actor,
                                action="evidence_added",
                                detail=f"{kind} {where} sha256={sha256}"))
        # New evidence (a field kit's fit, a bearing) changes where the emitter is:
        # the case's location is recomputed when it is older than this.
        case.updated_ns = max(case.updated_ns, now_ns)
        return case.id
