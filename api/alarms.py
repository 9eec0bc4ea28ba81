"""Alarms: a new case, or a new finding on an open case, pushed to inspectors.

The :class:`AlarmWatcher` polls the relational DB every ``poll_s`` for findings
with an id above the last one it saw (one indexed query), so it sees what every
centre process sharing the DB ingested, and it needs no hook in ingest. Each new
finding on a case in an open status becomes one alarm per case per poll; the event
says whether the case is new (its first finding is among the new ones).
Acknowledgements are per user (``alarm_acks``: up to which finding id).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from api.models import AlarmAck
from compliance.cases import ns_to_iso
from compliance.lifecycle import OPEN_STATUSES
from compliance.models import Case, FindingRow

__all__ = ["AlarmWatcher", "ack", "pending_alarms"]


def _event(case: Case, new_ids: list[int], first_id: int, kinds: list[str]) -> dict:
    return {
        "type": "new_case" if first_id in new_ids else "new_finding",
        "case_id": case.id,
        "status": case.status,
        "class": case.emitter_class,
        "f_hz": case.f_hz,
        "severity": case.severity,
        "finding_kinds": sorted(set(kinds)),
        "last_seen": ns_to_iso(case.last_seen_ns),
        "finding_id": max(new_ids),
    }


def pending_alarms(session: Session, user: str, limit: int = 200) -> list[dict]:
    """Open cases with findings the user has not acknowledged, newest first."""
    acks = dict(session.execute(sa.select(AlarmAck.case_id, AlarmAck.finding_id)
                                .where(AlarmAck.user_name == user)).all())
    rows = session.execute(
        sa.select(Case, sa.func.max(FindingRow.id), sa.func.min(FindingRow.id),
                  sa.func.count(FindingRow.id))
        .join(FindingRow, FindingRow.case_id == Case.id)
        .where(Case.status.in_(OPEN_STATUSES))
        .group_by(Case.id).order_by(sa.func.max(FindingRow.id).desc()).limit(limit)
    ).all()
    out = []
    for case, max_id, min_id, n in rows:
        acked = acks.get(case.id, 0)
        if max_id <= acked:
            continue
        kinds = [k for (k,) in session.execute(
            sa.select(FindingRow.kind).where(FindingRow.case_id == case.id,
                                             FindingRow.id > acked).distinct())]
        out.append({
            "type": "new_case" if acked < min_id else "new_finding",
            "case_id": case.id, "status": case.status, "class": case.emitter_class,
            "f_hz": case.f_hz, "severity": case.severity, "finding_kinds": sorted(kinds),
            "last_seen": ns_to_iso(case.last_seen_ns), "finding_id": max_id,
            "n_findings": n,
        })
    return out


def ack(session: Session, user: str, case_id: str) -> int:
    """Acknowledge every finding of the case so far; return the finding id acked."""
    max_id = session.scalar(sa.select(sa.func.max(FindingRow.id))
                            .where(FindingRow.case_id == case_id)) or 0
    row = session.get(AlarmAck, (user, case_id))
    if row is None:
        session.add(AlarmAck(user_name=user, case_id=case_id, finding_id=max_id,
                             t_ns=time.time_ns()))
    else:
        row.finding_id = max_id
        row.t_ns = time.time_ns()
    return max_id


class AlarmWatcher:
    """Poll for new findings and call ``emit(event)`` on the event loop for each alarm."""

    def __init__(self, sessions: sessionmaker[Session], loop: asyncio.AbstractEventLoop,
                 emit: Callable[[dict], None], *, poll_s: float = 0.5) -> None:
        self._sessions = sessions
        self._loop = loop
        self._emit = emit
        self.poll_s = poll_s
        with sessions() as session:
            self.last_id = session.scalar(sa.select(sa.func.max(FindingRow.id))) or 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alarm-watcher", daemon=True)
        self._thread.start()

    def poll_once(self) -> list[dict]:
        with self._sessions() as session:
            rows = session.execute(
                sa.select(FindingRow.id, FindingRow.case_id, FindingRow.kind)
                .where(FindingRow.id > self.last_id).order_by(FindingRow.id)).all()
            if not rows:
                return []
            self.last_id = rows[-1][0]
            by_case: dict[str, tuple[list[int], list[str]]] = {}
            for fid, cid, kind in rows:
                ids, kinds = by_case.setdefault(cid, ([], []))
                ids.append(fid)
                kinds.append(kind)
            cases = {c.id: c for c in session.scalars(
                sa.select(Case).where(Case.id.in_(list(by_case))))}
            firsts = dict(session.execute(
                sa.select(FindingRow.case_id, sa.func.min(FindingRow.id))
                .where(FindingRow.case_id.in_(list(by_case))).group_by(FindingRow.case_id)).all())
        events = []
        for cid, (ids, kinds) in by_case.items():
            case = cases.get(cid)
            if case is None or case.status not in OPEN_STATUSES:
                continue
            events.append(_event(case, ids, firsts[cid], kinds))
        return events

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            if self._loop.is_closed():  # the app's server has stopped
                return
            try:
                events = self.poll_once()
            except Exception:  # noqa: BLE001 - a DB hiccup must not end the watcher
                continue
            for event in events:
                try:
                    self._loop.call_soon_threadsafe(self._emit, event)
                except RuntimeError:
                    return

    def close(self) -> None:
        self._stop.set()
