"""Uplink against the real centre over HTTP: delivery, refusals, back-off when down."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from api.serve import BackgroundServer
from stations.batch import HealthItem
from stations.outbox import Outbox
from stations.uplink import Uplink

T0 = 1_772_413_200_000_000_000


def health(i: int) -> HealthItem:
    return HealthItem(receiver_id="rx0", state="open", overloads=i, dropped_samples=0,
                      failures=0, reopens=0, gap_s=0.0, outbox_depth=i, t_ns=T0 + i)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_delivers_in_order_once(tmp_path: Path, centre, app) -> None:  # noqa: ANN001
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    ids = [box.append([health(i)], created_t_ns=T0 + i).batch_id for i in range(5)]
    with BackgroundServer(app) as server:
        up = Uplink(box, url=server.url, token=centre.tokens["ls-hn"])
        result = up.run_once()
        assert (result.sent, result.duplicates, result.error) == (5, 0, None)
        assert box.depth() == 0 and box.batch_ids("sent") == ids
        assert centre.services.ingest.accepted == 5


def test_wrong_token_keeps_batches_and_backs_off(tmp_path: Path, centre, app) -> None:  # noqa: ANN001
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    box.append([health(1)], created_t_ns=T0)
    now = [100.0]
    with BackgroundServer(app) as server:
        up = Uplink(box, url=server.url, token="wrong", clock=lambda: now[0],
                    rng=random.Random(1))
        result = up.run_once()
        assert result.error is not None and "403" in result.error
        assert box.depth() == 1 and up.next_attempt_s > now[0]
        assert up.run_once().skipped_backoff


def test_batch_the_centre_refuses_is_kept_aside(tmp_path: Path, centre, app) -> None:  # noqa: ANN001
    # A batch for another station than the token's is refused (403) — but a batch the
    # centre cannot validate (422) must not jam the queue: it is kept as "rejected".
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    bad = box.append([health(1)], created_t_ns=T0)
    good = box.append([health(2)], created_t_ns=T0 + 1)
    import sqlite3

    con = sqlite3.connect(tmp_path / "o.sqlite")
    con.execute("UPDATE batches SET payload = ? WHERE batch_id = ?",
                (b'{"batch_id": "' + bad.batch_id.encode() + b'"}', bad.batch_id))
    con.commit()
    with BackgroundServer(app) as server:
        up = Uplink(box, url=server.url, token=centre.tokens["ls-hn"])
        result = up.run_once()
    assert (result.sent, result.rejected) == (1, 1)
    assert box.batch_ids("rejected") == [bad.batch_id]
    assert box.batch_ids("sent") == [good.batch_id]


def test_centre_down_backs_off_exponentially_with_jitter(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    box.append([health(1)], created_t_ns=T0)
    now = [0.0]
    up = Uplink(box, url=f"http://127.0.0.1:{free_port()}", token="t", clock=lambda: now[0],
                backoff_initial_s=1.0, backoff_max_s=30.0, rng=random.Random(7))
    delays = []
    for _ in range(8):
        result = up.run_once()
        assert result.error is not None and "Connect" in result.error
        delays.append(up.next_attempt_s - now[0])
        now[0] = up.next_attempt_s
    for k, d in enumerate(delays, start=1):
        base = min(30.0, 2.0 ** (k - 1))
        assert base / 2 <= d <= base, (k, d)
    assert box.depth() == 1 and up.consecutive_failures == 8


@pytest.mark.parametrize("failures", [1, 5, 20])
def test_backoff_bounds(tmp_path: Path, failures: int) -> None:
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    up = Uplink(box, url="http://127.0.0.1:9", token="t", backoff_initial_s=2.0,
                backoff_max_s=60.0, rng=random.Random(failures))
    d = up.backoff_s(failures)
    base = min(60.0, 2.0 * 2 ** (failures - 1))
    assert base / 2 <= d <= base
