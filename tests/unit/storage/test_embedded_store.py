"""Embedded-store specifics beyond the shared contract: all-or-nothing writes, the file
on disk, concurrent readers."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from dsp.errors import StorageError
from storage.embedded import EmbeddedTimeSeries
from storage.timeseries import Point

ALL = {"t_start_ns": 0, "t_end_ns": 2**62}


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "ts.sqlite"
    with EmbeddedTimeSeries(path) as store:
        store.write([Point("m", {"s": "old"}, {"v": 1.0}, 1)])
        batch = [
            Point("m", {"s": "new"}, {"v": 2.0, "w": 5}, 2),  # new series and a new field
            Point("m", {"s": "old"}, {"v": "text"}, 3),  # type conflict: the call fails
        ]
        with pytest.raises(StorageError, match="field type conflict"):
            store.write(batch)
        with sqlite3.connect(path) as raw:
            assert raw.execute("SELECT count(*) FROM series").fetchone() == (1,)
            assert raw.execute("SELECT count(*) FROM fields").fetchone() == (1,)
            assert raw.execute("SELECT count(*) FROM points").fetchone() == (1,)
        # The in-memory caches were rolled back too: the new series can be written now.
        store.write(batch[:1])
        rows = store.query("m", "v", **ALL, group_by=["s"])
        assert [(r.tags["s"], r.value) for r in rows] == [("old", 1.0), ("new", 2.0)]
        assert store.query("m", "w", **ALL)[0].value == 5


def test_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ts.sqlite"
    with EmbeddedTimeSeries(path) as store:
        store.write(Point("m", {"s": "a"}, {"v": float(i)}, i) for i in range(100))
    with EmbeddedTimeSeries(path) as store:
        assert store.query("m", "v", **ALL, aggregate="count")[0].value == 100
        # Reopened caches start empty: the same series is found, not duplicated.
        store.write([Point("m", {"s": "a"}, {"v": -1.0}, 0)])
        assert store.query("m", "v", **ALL, aggregate="count")[0].value == 100
        assert store.query("m", "v", **ALL)[0].value == -1.0


def test_wal_reader_in_another_connection_sees_committed_data(tmp_path: Path) -> None:
    path = tmp_path / "ts.sqlite"
    with EmbeddedTimeSeries(path) as writer, EmbeddedTimeSeries(path) as reader:
        writer.write([Point("m", {}, {"v": 1.0}, 1)])
        assert [r.value for r in reader.query("m", "v", **ALL)] == [1.0]
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = EmbeddedTimeSeries(tmp_path / "ts.sqlite")
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            store.write(Point("m", {"s": str(k)}, {"v": float(i)}, i) for i in range(500))
            store.query("m", "v", **ALL, aggregate="mean", group_by=["s"])
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.query("m", "v", **ALL, aggregate="count")[0].value == 2000
    store.close()


def test_bool_fields_keep_their_type_and_refuse_mean(tmp_path: Path) -> None:
    with EmbeddedTimeSeries(tmp_path / "ts.sqlite") as store:
        store.write([Point("h", {}, {"gps_fix": v}, i) for i, v in enumerate([True, False])])
        assert [r.value for r in store.query("h", "gps_fix", **ALL)] == [True, False]
        assert store.query("h", "gps_fix", **ALL, aggregate="last")[0].value is False
        with pytest.raises(StorageError, match="not supported"):
            store.query("h", "gps_fix", **ALL, aggregate="max")


def test_windows_align_to_epoch_multiples_also_before_1970(tmp_path: Path) -> None:
    with EmbeddedTimeSeries(tmp_path / "ts.sqlite") as store:
        store.write([Point("m", {}, {"v": float(t)}, t) for t in (-15, -10, -1, 0, 9, 10, 25)])
        rows = store.query("m", "v", t_start_ns=-100, t_end_ns=100, aggregate="count",
                           window_ns=10)
        assert [(r.t_ns, r.value) for r in rows] == [(-20, 1), (-10, 2), (0, 2), (10, 1),
                                                     (20, 1)]


def test_unopenable_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot open"):
        EmbeddedTimeSeries(blocker / "ts.sqlite")
    (tmp_path / "garbage.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot open"):
        EmbeddedTimeSeries(tmp_path / "garbage.sqlite")


def test_closed_store_errors_are_storage_errors(tmp_path: Path) -> None:
    store = EmbeddedTimeSeries(tmp_path / "ts.sqlite")
    store.write([Point("m", {}, {"v": 1.0}, 1)])
    store.close()
    with pytest.raises(StorageError):
        store.query("m", "v", **ALL)
    with pytest.raises(StorageError):
        store.delete("m")
