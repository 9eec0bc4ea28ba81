"""The uplink: pending outbox batches to the centre's ingest endpoint, in order.

Each batch is POSTed as it sits in the outbox (its JSON, unchanged) with the
station's bearer token. The centre answers 200 for a new batch and for one it has
already seen (``"status": "duplicate"``); either way the batch is marked sent.
A 4xx other than auth means the centre will never take this batch: it is kept as
``rejected`` (not deleted, not retried) so the queue does not jam. Connection
errors, timeouts, 5xx, 429 and auth failures stop the pass and back off
exponentially (with jitter) up to ``backoff_max_s``; the next pass starts again at
the oldest pending batch, so a restart resumes where the last run stopped.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from stations.outbox import Outbox

__all__ = ["INGEST_PATH", "Uplink", "UplinkPass"]

log = logging.getLogger(__name__)

#: The centre's ingest route (api/routes/ingest.py).
INGEST_PATH = "/api/v1/ingest/batches"


@dataclass(frozen=True, slots=True)
class UplinkPass:
    """What one :meth:`Uplink.run_once` did."""

    sent: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str | None = None
    skipped_backoff: bool = False


class Uplink:
    """Upload the outbox to the centre.

    Parameters
    ----------
    outbox:
        The station's outbox.
    url:
        The centre's base URL (``http://host:port``).
    token:
        The station's bearer token.
    client:
        An ``httpx.Client`` (a fresh one by default).
    clock:
        Monotonic seconds (``time.monotonic`` by default): when to retry.
    wall_clock_ns:
        UTC nanoseconds for the ``sent`` time stamps.
    """

    def __init__(
        self,
        outbox: Outbox,
        *,
        url: str,
        token: str,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock_ns: Callable[[], int] = time.time_ns,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 300.0,
        timeout_s: float = 10.0,
        batches_per_pass: int = 100,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = outbox
        self.url = url.rstrip("/") + INGEST_PATH
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        self._client = client or httpx.Client(timeout=timeout_s)
        self._own_client = client is None
        self._clock = clock
        self._wall_ns = wall_clock_ns
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.batches_per_pass = batches_per_pass
        self._rng = rng or random.Random()
        self.consecutive_failures = 0
        #: The last pass failed because the centre refused the token (401/403).
        self.auth_failed = False
        self.next_attempt_s = 0.0
        self.last_error: str | None = None
        self.total_sent = 0
        self.total_duplicates = 0
        self.total_rejected = 0
        #: Items the centre refused out of batches it took (kept in the rejected log).
        self.total_rejected_items = 0

    def backoff_s(self, failures: int) -> float:
        """Delay after ``failures`` consecutive failures: doubling, capped, 50-100 % jitter."""
        base = min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, failures - 1))
        return base * (0.5 + 0.5 * self._rng.random())

    def run_once(self) -> UplinkPass:
        """Send pending batches, oldest first, until none are left or one fails."""
        if self._clock() < self.next_attempt_s:
            return UplinkPass(skipped_backoff=True)
        sent = dup = rej = 0
        for batch_id, payload in self.outbox.pending_payloads(self.batches_per_pass):
            error = self._send(batch_id, payload)
            if error is None:
                sent += 1
                continue
            if error == "duplicate":
                dup += 1
                continue
            if error.startswith("rejected"):
                rej += 1
                continue
            self._fail(error, batch_id)
            return UplinkPass(sent=sent, duplicates=dup, rejected=rej, error=error)
        self.consecutive_failures = 0
        self.last_error = None
        self.auth_failed = False
        return UplinkPass(sent=sent, duplicates=dup, rejected=rej)

    def drain(self, *, timeout_s: float, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Run passes (sleeping through back-off) until the outbox is empty or time is up."""
        deadline = self._clock() + timeout_s
        while self.outbox.depth() > 0:
            if self._clock() >= deadline:
                return False
            self.run_once()
            wait = self.next_attempt_s - self._clock()
            if wait > 0:
                sleep(min(wait, max(0.0, deadline - self._clock())))
        return True

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    # -- one request ---------------------------------------------------------------

    def _send(self, batch_id: str, payload: bytes) -> str | None:
        try:
            resp = self._client.post(self.url, content=payload, headers=self._headers)
        except httpx.HTTPError as err:
            return f"{type(err).__name__}: {err}"
        if resp.status_code == 200:
            body = _json_body(resp)
            refused = body.get("rejected") or []
            if not isinstance(refused, list):
                refused = []
            refused = [r for r in refused if isinstance(r, dict)]
            self.outbox.mark_sent(batch_id, t_ns=self._wall_ns(), rejected=refused)
            status = body.get("status")
            if refused and status != "duplicate":
                self.total_rejected_items += len(refused)
                log.warning("batch %s: the centre refused %d items (first: %s)", batch_id,
                            len(refused), str(refused[0].get("reason", ""))[:200])
            if status == "duplicate":
                self.total_duplicates += 1
                return "duplicate"
            self.total_sent += 1
            return None
        if resp.status_code in (401, 403):
            return f"HTTP {resp.status_code}: token refused: {resp.text[:200]}"
        if resp.status_code == 429 or resp.status_code >= 500:
            return f"HTTP {resp.status_code}: {resp.text[:200]}"
        # Any other 4xx: this batch will never be accepted as it is. Keep it, skip it.
        self.outbox.mark_rejected(batch_id, f"HTTP {resp.status_code}: {resp.text[:1000]}")
        self.total_rejected += 1
        log.warning("batch %s refused by the centre: HTTP %d: %s", batch_id,
                    resp.status_code, resp.text[:200])
        return f"rejected HTTP {resp.status_code}"

    def _fail(self, error: str, batch_id: str) -> None:
        self.auth_failed = "token refused" in error
        self.consecutive_failures += 1
        self.last_error = error
        self.outbox.note_attempt(batch_id, error)
        self.next_attempt_s = self._clock() + self.backoff_s(self.consecutive_failures)


def _json_body(resp: httpx.Response) -> dict:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
