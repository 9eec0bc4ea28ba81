"""Items the centre refuses go to the outbox's rejected log; `field sync` says how many
and exits 2. A station cannot even make an item holding NaN or infinity."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.serve import BackgroundServer
from stations.batch import HealthItem
from stations.outbox import Outbox
from stations.uplink import Uplink

T0 = 1_772_413_200_000_000_000
RFWATCH = str(Path(sys.executable).with_name("rfwatch"))


def health(i: int, **over: object) -> HealthItem:
    values = {"receiver_id": "rx0", "state": "open", "overloads": i, "dropped_samples": 0,
              "failures": 0, "reopens": 0, "gap_s": 0.0, "outbox_depth": i, "t_ns": T0 + i}
    values.update(over)
    return HealthItem(**values)


def spoil_second_item(path: Path, batch_id: str) -> None:
    """Make item 1 of a stored batch invalid (as an older or broken station might)."""
    con = sqlite3.connect(path)
    (payload,) = con.execute("SELECT payload FROM batches WHERE batch_id = ?",
                             (batch_id,)).fetchone()
    body = json.loads(payload)
    body["items"][1]["overloads"] = -5
    con.execute("UPDATE batches SET payload = ? WHERE batch_id = ?",
                (json.dumps(body).encode(), batch_id))
    con.commit()
    con.close()


def test_nan_never_enters_an_item() -> None:
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValidationError):
            health(1, gap_s=bad)
    with pytest.raises(ValidationError):
        health(1, t_ns=2**64)


def test_refused_items_are_kept_in_the_rejected_log(tmp_path: Path, centre, app) -> None:  # noqa: ANN001
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    batch = box.append([health(1), health(2), health(3)], created_t_ns=T0)
    spoil_second_item(tmp_path / "o.sqlite", batch.batch_id)
    with BackgroundServer(app) as server:
        up = Uplink(box, url=server.url, token=centre.tokens["ls-hn"])
        result = up.run_once()
    assert result.sent == 1 and up.total_rejected_items == 1
    [rec] = box.rejected_items()
    assert rec.batch_id == batch.batch_id and rec.index == 1 and rec.kind == "health"
    assert "overloads" in rec.reason and json.loads(rec.item_json)["overloads"] == -5
    assert box.stats().rejected_items == 1 and box.depth() == 0
    box.close()


def test_field_sync_reports_refusals_and_exits_2(tmp_path: Path, centre, app) -> None:  # noqa: ANN001
    outbox_path = tmp_path / "kit" / "outbox.sqlite"
    box = Outbox(outbox_path, station_id="ls-hn", station_kind="field_kit")
    batch = box.append([health(1), health(2)], created_t_ns=T0)
    box.append([health(3)], created_t_ns=T0 + 1)
    spoil_second_item(outbox_path, batch.batch_id)
    box.close()
    with BackgroundServer(app) as server:
        site = tmp_path / "kit.yaml"
        site.write_text(
            "station: {id: ls-hn, name: kit, kind: field_kit}\n"
            f"centre: {{url: \"{server.url}\", token: \"{centre.tokens['ls-hn']}\"}}\n"
            "receivers: [{id: rx0, spec: \"simulator:lang_son_demo\"}]\n"
            "tasks: []\n"
            f"outbox: {{path: {outbox_path}}}\n",
            encoding="utf-8",
        )
        r = subprocess.run([RFWATCH, "field", "sync", "-c", str(site)], capture_output=True,
                           text=True, timeout=120, env={"PATH": "/usr/bin:/bin",
                                                        "RFWATCH_HOME": str(tmp_path / "h")})
    assert r.returncode == 2, (r.stdout, r.stderr)
    # One error line (the log may say more, as logs do, on lines of its own).
    errors = [x for x in r.stderr.splitlines() if x.startswith("Lỗi / Error")]
    assert len(errors) == 1 and "1 mục / items" in errors[0], r.stderr
    assert "Traceback" not in r.stderr
    assert "delivered 2" in r.stdout.replace("\n", " ")
