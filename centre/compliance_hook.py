"""The centre's compliance step: classify, apply the rules, fold findings into cases.

A thin adapter from :class:`centre.ingest.IngestService` to ``compliance``: the
registry (licences, foreign stations) is read from the relational DB and cached
for ``registry_ttl_s``; classification and rules are ``compliance.classify`` /
``compliance.rules``; cases are :class:`compliance.cases.CaseService`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from centre.ingest import ComplianceOutcome
from compliance.cases import CaseService
from compliance.classify import classify
from compliance.reference import ReferenceData, load_reference_data
from compliance.registry import Registry, load_registry
from compliance.rules import Finding, findings_for
from dsp.types import Emission, GeoPosition

__all__ = ["CaseComplianceHook"]

NS = 1_000_000_000


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
        self._evidence_window_ns = int(evidence_window_s * NS)

    def registry(self) -> Registry:
        now = self._clock()
        if self._registry is None or now - self._loaded_at > self._ttl_s:
            with self._sessions() as session:
                self._registry = load_registry(session)
            self._loaded_at = now
        return self._registry

    def process(
        self,
        *,
        station_id: str,
        emissions: Sequence[Emission],
        sites: Sequence[GeoPosition | None],
    ) -> ComplianceOutcome:
        registry = self.registry()
        classes: list[str] = []
        by_time: dict[int, list[Finding]] = {}
        for emission, site in zip(emissions, sites, strict=True):
            c = classify(emission, registry, self.reference, site=site)
            classes.append(c.emitter_class)
            found = findings_for(c, self.reference, site=site)
            if found:
                by_time.setdefault(emission.t_first_ns, []).extend(found)
        case_ids: list[str] = []
        kinds: list[str] = []
        n = 0
        for t_ns, findings in sorted(by_time.items()):
            n += len(findings)
            kinds.extend(f.kind for f in findings)
            for case in self.cases.record_findings(findings, station_id, t_ns):
                if case.id not in case_ids:
                    case_ids.append(case.id)
        return ComplianceOutcome(
            classes=tuple(classes),
            n_findings=n,
            case_ids=tuple(case_ids),
            finding_kinds=tuple(sorted(set(kinds))),
        )

    def attach_evidence(
        self,
        *,
        station_id: str,
        f_hz: float,
        t_ns: int,
        kind: str,
        path: Path,
        sha256: str,
        description: str,
    ) -> str | None:
        """Attach to the open case nearest ``f_hz`` seen around ``t_ns``; its id or None."""
        folding = self.reference.tolerances.cases
        best = None
        for case in self.cases.list_cases():
            if case.status in ("closed", "dismissed"):
                continue
            if not (case.first_seen_ns - self._evidence_window_ns <= t_ns
                    <= case.last_seen_ns + self._evidence_window_ns):
                continue
            reach = max(folding.fold_min_hz, folding.fold_bw_fraction * case.bw_hz)
            offset = abs(case.f_hz - f_hz)
            if offset <= reach and (best is None or offset < best[0]):
                best = (offset, case)
        if best is None:
            return None
        case = best[1]
        if any(e.sha256 == sha256 for e in case.evidence):
            return case.id  # attached already (a batch processed again)
        self.cases.add_evidence(
            case.id, kind, path, actor=f"station:{station_id}", sha256=sha256, note=description
        )
        return case.id
