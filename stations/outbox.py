"""The durable outbox: an append-only queue of batches in SQLite (WAL).

A station appends each batch in one transaction, so a batch is either wholly there
or not at all, even when the process is killed (SIGKILL, power cut). The uplink
reads pending batches in sequence order and marks each sent once the centre has
acknowledged it; a sent batch keeps its row (id, sequence, times) but loses its
payload. Batch ids never change, so a batch sent twice (killed between upload and
``mark_sent``) is dropped by the centre as a duplicate: exactly once in effect.

Disk-full policy
----------------
The payload bytes of pending batches are kept under ``max_bytes``. When an append
goes over, oldest batches first:

1. spectra are thinned: every second spectrum (in time order) is removed;
2. then all remaining spectra are removed;
3. then channel-power, occupancy and health samples are removed;
4. emissions, evidence and location estimates are **never** removed. If they alone
   exceed the limit the outbox keeps them and reports ``over_limit`` (health shows
   it); measuring goes on.

A thinned batch keeps its id and counts the removed items in ``Batch.thinned``.
The file is created with ``auto_vacuum=INCREMENTAL`` so freed pages go back to disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dsp.errors import StorageError
from stations.batch import NEVER_DROPPED, Batch, Item, new_batch_id

__all__ = ["Outbox", "OutboxStats", "RejectedRecord", "ThinReport"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,
    created_t_ns INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    payload BLOB,
    size_bytes INTEGER NOT NULL,
    thinned INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_t_ns INTEGER,
    error TEXT
);
CREATE INDEX IF NOT EXISTS ix_batches_state_seq ON batches (state, seq);
CREATE TABLE IF NOT EXISTS rejected_items (
    batch_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT,
    reason TEXT NOT NULL,
    item_json BLOB,
    t_ns INTEGER NOT NULL,
    PRIMARY KEY (batch_id, idx)
);
"""

#: Most bytes of one refused item kept in the rejected log.
MAX_REJECTED_ITEM_BYTES = 256 * 1024

#: Stage 3 of the policy: kinds dropped after the spectra.
_SECOND_TIER = frozenset({"channel", "occupancy", "health"})


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    pending_bytes: int
    sent: int
    rejected: int
    over_limit: bool
    #: Items the centre refused out of batches it took (the rejected log).
    rejected_items: int = 0


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """An item the centre refused, kept in the outbox's rejected log with the reason."""

    batch_id: str
    index: int
    kind: str | None
    reason: str
    item_json: str | None
    t_ns: int


@dataclass(frozen=True, slots=True)
class ThinReport:
    spectra_thinned: int = 0
    spectra_dropped: int = 0
    samples_dropped: int = 0
    over_limit: bool = False


class Outbox:
    """Durable queue of batches for one station.

    Parameters
    ----------
    path:
        The SQLite file (created with its folder if missing).
    station_id, station_kind:
        Written into every batch.
    max_bytes:
        Bound on the payload bytes of pending batches (the disk-full policy above).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        station_id: str,
        station_kind: str = "fixed",
        max_bytes: int = 500_000_000,
    ) -> None:
        self.path = Path(path)
        self.station_id = station_id
        self.station_kind = station_kind
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self.over_limit = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, one writer at a time.
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed batch survives a power cut, not only a killed process.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as err:
            raise StorageError(f"outbox {self.path}: cannot open: {err}") from err
        except OSError as err:  # its folder cannot be made (a file in the way, no rights)
            raise StorageError(
                f"không mở được hàng đợi / outbox {self.path}: cannot open: "
                f"{err.strerror or err}"
            ) from err

    # -- writing -----------------------------------------------------------------

    def append(self, items: Sequence[Item], *, created_t_ns: int) -> Batch:
        """Append one batch of ``items`` atomically and return it (with its id and seq)."""
        with self._lock, self._tx():
            row = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM batches").fetchone()
            batch = Batch(
                batch_id=new_batch_id(),
                station_id=self.station_id,
                station_kind=self.station_kind,  # type: ignore[arg-type]
                seq=int(row[0]),
                created_t_ns=int(created_t_ns),
                items=list(items),
            )
            payload = batch.model_dump_json().encode("utf-8")
            self._db.execute(
                "INSERT INTO batches (seq, batch_id, created_t_ns, payload, size_bytes)"
                " VALUES (?, ?, ?, ?, ?)",
                (batch.seq, batch.batch_id, batch.created_t_ns, payload, len(payload)),
            )
            self._enforce_limit_locked()
        return batch

    def mark_sent(
        self, batch_id: str, *, t_ns: int, rejected: Sequence[dict] = ()
    ) -> None:
        """The centre acknowledged ``batch_id``: drop its payload, keep its row.

        ``rejected``: the items the centre refused (``{"index", "kind", "reason"}``),
        kept with their JSON in the rejected log, in the same transaction.
        """
        with self._lock, self._tx():
            if rejected:
                self._log_rejected_locked(batch_id, rejected, int(t_ns))
            self._db.execute(
                "UPDATE batches SET state='sent', payload=NULL, size_bytes=0, sent_t_ns=?,"
                " attempts=attempts+1 WHERE batch_id=?",
                (int(t_ns), batch_id),
            )
        self._vacuum()

    def _log_rejected_locked(self, batch_id: str, rejected: Sequence[dict], t_ns: int) -> None:
        row = self._db.execute(
            "SELECT payload FROM batches WHERE batch_id=?", (batch_id,)
        ).fetchone()
        items: list = []
        if row is not None and row[0] is not None:
            try:
                items = json.loads(bytes(row[0])).get("items", [])
            except (ValueError, AttributeError):
                items = []
        for r in rejected:
            try:
                idx = int(r.get("index", -1))
            except (TypeError, ValueError):
                idx = -1
            item_json = None
            if 0 <= idx < len(items):
                item_json = json.dumps(items[idx])[:MAX_REJECTED_ITEM_BYTES]
            self._db.execute(
                "INSERT OR IGNORE INTO rejected_items (batch_id, idx, kind, reason, item_json,"
                " t_ns) VALUES (?, ?, ?, ?, ?, ?)",
                (batch_id, idx, str(r.get("kind") or "")[:32] or None,
                 str(r.get("reason", ""))[:1000], item_json, t_ns),
            )

    def rejected_items(self, limit: int = 1000) -> list[RejectedRecord]:
        """The rejected log: items the centre refused, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT batch_id, idx, kind, reason, item_json, t_ns FROM rejected_items"
                " ORDER BY t_ns, batch_id, idx LIMIT ?",
                (int(limit),),
            ).fetchall()
        return [
            RejectedRecord(b, int(i), k, r, j.decode() if isinstance(j, bytes) else j, int(t))
            for b, i, k, r, j, t in rows
        ]

    def mark_rejected(self, batch_id: str, error: str) -> None:
        """The centre refused ``batch_id`` as invalid: keep it, stop sending it."""
        with self._lock, self._tx():
            self._db.execute(
                "UPDATE batches SET state='rejected', error=?, attempts=attempts+1"
                " WHERE batch_id=?",
                (error[:2000], batch_id),
            )

    def note_attempt(self, batch_id: str, error: str) -> None:
        with self._lock, self._tx():
            self._db.execute(
                "UPDATE batches SET attempts=attempts+1, error=? WHERE batch_id=?",
                (error[:2000], batch_id),
            )

    # -- reading -----------------------------------------------------------------

    def pending_payloads(self, limit: int = 100) -> list[tuple[str, bytes]]:
        """Up to ``limit`` pending (batch_id, JSON payload) pairs, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT batch_id, payload FROM batches WHERE state='pending'"
                " ORDER BY seq LIMIT ?",
                (int(limit),),
            ).fetchall()
        return [(bid, bytes(p)) for bid, p in rows]

    def pending(self, limit: int = 100) -> list[Batch]:
        """Up to ``limit`` pending batches, oldest first."""
        return [Batch.model_validate_json(p) for _, p in self.pending_payloads(limit)]

    def depth(self) -> int:
        """Number of batches waiting to be sent."""
        with self._lock:
            return int(
                self._db.execute("SELECT COUNT(*) FROM batches WHERE state='pending'").fetchone()[0]
            )

    def stats(self) -> OutboxStats:
        with self._lock:
            rows = dict(
                (state, (n, b))
                for state, n, b in self._db.execute(
                    "SELECT state, COUNT(*), COALESCE(SUM(size_bytes), 0) FROM batches"
                    " GROUP BY state"
                )
            )
            n_items = int(self._db.execute("SELECT COUNT(*) FROM rejected_items").fetchone()[0])
        return OutboxStats(
            pending=int(rows.get("pending", (0, 0))[0]),
            pending_bytes=int(rows.get("pending", (0, 0))[1]),
            sent=int(rows.get("sent", (0, 0))[0]),
            rejected=int(rows.get("rejected", (0, 0))[0]),
            over_limit=self.over_limit,
            rejected_items=n_items,
        )

    def batch_ids(self, state: str | None = None) -> list[str]:
        """Ids of every batch ever appended (or in one ``state``), in sequence order."""
        with self._lock:
            if state is None:
                rows = self._db.execute("SELECT batch_id FROM batches ORDER BY seq")
            else:
                rows = self._db.execute(
                    "SELECT batch_id FROM batches WHERE state=? ORDER BY seq", (state,)
                )
            return [r[0] for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the disk-full policy -------------------------------------------------------

    def enforce_limit(self) -> ThinReport:
        """Apply the disk-full policy now (``append`` does it on every call)."""
        with self._lock, self._tx():
            report = self._enforce_limit_locked()
        self._vacuum()
        return report

    def _pending_bytes_locked(self) -> int:
        return int(
            self._db.execute(
                "SELECT COALESCE(SUM(size_bytes), 0) FROM batches WHERE state='pending'"
            ).fetchone()[0]
        )

    def _enforce_limit_locked(self) -> ThinReport:
        total = self._pending_bytes_locked()
        if total <= self.max_bytes:
            self.over_limit = False
            return ThinReport()
        counts = {"thinned": 0, "spectra": 0, "samples": 0}

        def keep_every_other_spectrum(items: list, state: dict) -> list:
            kept = []
            for item in items:
                if item.kind == "spectrum":
                    state["i"] += 1
                    if state["i"] % 2 == 0:
                        counts["thinned"] += 1
                        continue
                kept.append(item)
            return kept

        def drop_spectra(items: list, _state: dict) -> list:
            kept = [i for i in items if i.kind != "spectrum"]
            counts["spectra"] += len(items) - len(kept)
            return kept

        def drop_samples(items: list, _state: dict) -> list:
            kept = [i for i in items if i.kind not in _SECOND_TIER]
            counts["samples"] += len(items) - len(kept)
            return kept

        for stage in (keep_every_other_spectrum, drop_spectra, drop_samples):
            total = self._rewrite_oldest_first(stage, total)
            if total <= self.max_bytes:
                break
        # What is left is never dropped (emissions, evidence, locations); keep it.
        self.over_limit = total > self.max_bytes
        return ThinReport(
            spectra_thinned=counts["thinned"],
            spectra_dropped=counts["spectra"],
            samples_dropped=counts["samples"],
            over_limit=self.over_limit,
        )

    def _rewrite_oldest_first(self, stage, total: int) -> int:  # noqa: ANN001 - local fn
        state = {"i": 0}
        rows = self._db.execute(
            "SELECT seq, payload, size_bytes FROM batches WHERE state='pending' ORDER BY seq"
        ).fetchall()
        for seq, payload, size in rows:
            batch = Batch.model_validate_json(payload)
            kept = stage(list(batch.items), state)
            # The stages never touch these kinds; checked here because it is the policy.
            if sum(i.kind in NEVER_DROPPED for i in kept) != sum(
                i.kind in NEVER_DROPPED for i in batch.items
            ):
                raise StorageError("outbox policy error: a never-dropped item was removed")
            removed = len(batch.items) - len(kept)
            if removed == 0:
                continue
            thin = batch.model_copy(update={"items": kept, "thinned": batch.thinned + removed})
            new_payload = thin.model_dump_json().encode("utf-8")
            self._db.execute(
                "UPDATE batches SET payload=?, size_bytes=?, thinned=? WHERE seq=?",
                (new_payload, len(new_payload), thin.thinned, seq),
            )
            total += len(new_payload) - int(size)
            if total <= self.max_bytes:
                break
        return total

    # -- plumbing ------------------------------------------------------------------

    def _tx(self) -> _Transaction:
        return _Transaction(self._db, self.path)

    def _vacuum(self) -> None:
        with self._lock:
            try:
                # executescript steps the pragma to the end; execute() frees one page.
                self._db.executescript("PRAGMA incremental_vacuum;")
            except sqlite3.Error:  # best effort; the space is reused anyway
                pass


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error), errors as StorageError."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise StorageError(f"outbox {self._path}: {err}") from err

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._db.execute("ROLLBACK")
                raise StorageError(f"outbox {self._path}: {err}") from err
        else:
            self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"outbox {self._path}: {exc}") from exc
