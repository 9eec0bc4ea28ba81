"""The durable outbox: atomic appends, order, mark-sent, and the disk-full policy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from dsp.types import Spectrum
from stations.batch import EmissionItem, EvidenceItem, HealthItem, SpectrumItem
from stations.outbox import Outbox

T0 = 1_767_600_000_000_000_000


def spectrum_item(i: int, n_bins: int = 2000) -> SpectrumItem:
    rng = np.random.default_rng(i)
    s = Spectrum(
        f_start_hz=87.5e6,
        f_step_hz=10e3,
        power_db=rng.normal(-80, 3, n_bins).astype(np.float32),
        power_unit="dBFS",
        rbw_hz=15e3,
        t_start_ns=T0 + i,
        t_end_ns=T0 + i + 1000,
        receiver_id="rx0",
    )
    return SpectrumItem.from_spectrum(s, band="fm")


def emission_item(i: int) -> EmissionItem:
    return EmissionItem(
        band="fm", receiver_id="rx0", f_hz=90e6 + i * 1e5, bw_99_hz=150e3, bw_xdb_hz=200e3,
        power_db=-40.0, peak_power_db=-35.0, snr_db=30.0, noise_floor_db=-70.0,
        power_unit="dBFS", f_resolution_hz=10e3, t_first_ns=T0 + i, t_last_ns=T0 + i,
    )


def health_item(i: int) -> HealthItem:
    return HealthItem(
        receiver_id="rx0", state="open", overloads=0, dropped_samples=0, failures=0,
        reopens=0, gap_s=0.0, outbox_depth=i, t_ns=T0 + i,
    )


def test_append_is_ordered_and_round_trips(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    b1 = box.append([emission_item(1)], created_t_ns=T0)
    b2 = box.append([spectrum_item(2), health_item(2)], created_t_ns=T0 + 1)
    assert (b1.seq, b2.seq) == (1, 2) and b1.batch_id != b2.batch_id
    pending = box.pending()
    assert [b.batch_id for b in pending] == [b1.batch_id, b2.batch_id]
    np.testing.assert_array_equal(pending[1].items[0].power_db(), b2.items[0].power_db())
    box.mark_sent(b1.batch_id, t_ns=T0 + 5)
    assert box.depth() == 1
    assert box.batch_ids() == [b1.batch_id, b2.batch_id]
    assert box.batch_ids("sent") == [b1.batch_id]
    box.close()
    # Durable: a new process (here: a new connection) sees the same queue.
    again = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    assert [b.batch_id for b in again.pending()] == [b2.batch_id]
    assert again.append([], created_t_ns=T0).seq == 3  # sequence never goes back


def test_file_is_wal(tmp_path: Path) -> None:
    Outbox(tmp_path / "o.sqlite", station_id="x1").close()
    con = sqlite3.connect(tmp_path / "o.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_disk_full_thins_spectra_first_and_never_drops_emissions(tmp_path: Path) -> None:
    one_spectrum = len(spectrum_item(0).model_dump_json())
    # Room for about 10 batches of (spectrum + emission + health).
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn", max_bytes=10 * one_spectrum)
    appended = []
    for i in range(16):
        appended.append(
            box.append([spectrum_item(i), emission_item(i), health_item(i)], created_t_ns=T0 + i)
        )
    stats = box.stats()
    assert stats.pending_bytes <= box.max_bytes
    assert not stats.over_limit
    batches = box.pending()
    assert [b.batch_id for b in batches] == [b.batch_id for b in appended]  # ids kept
    # Every emission is still there, in order.
    got = [i.f_hz for b in batches for i in b.items if i.kind == "emission"]
    assert got == [emission_item(i).f_hz for i in range(16)]
    # Health samples are all kept (stage 1 was enough): only spectra went.
    assert sum(b.count("health") for b in batches) == 16
    kept_spectra = [b.seq for b in batches if b.count("spectrum")]
    assert len(kept_spectra) < 16
    # Thinned oldest first: the newest batch keeps its spectrum, the first one lost
    # is an old one, and the "thinned" counts add up.
    assert batches[-1].count("spectrum") == 1
    thinned = [b.seq for b in batches if b.thinned]
    assert thinned and min(thinned) < 8
    assert sum(b.thinned for b in batches) == 16 - len(kept_spectra)
    # Stage 1 keeps every other spectrum among the oldest before dropping more.
    assert batches[0].count("spectrum") == 1 and batches[1].count("spectrum") == 0


def test_only_never_dropped_items_left_reports_over_limit(tmp_path: Path) -> None:
    data = b"\x7f" * 3000
    import base64
    import hashlib

    evidence = EvidenceItem(
        f_hz=100e6, f_center_hz=100e6, sample_rate_hz=240e3, t_start_ns=T0,
        sha256=hashlib.sha256(data).hexdigest(), meta_json="{}",
        data_b64=base64.b64encode(data).decode(),
    )
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn", max_bytes=5000)
    for i in range(4):
        box.append([evidence, emission_item(i), health_item(i), spectrum_item(i, 50)],
                   created_t_ns=T0 + i)
    stats = box.stats()
    assert stats.over_limit and box.over_limit
    batches = box.pending()
    assert sum(b.count("evidence") for b in batches) == 4
    assert sum(b.count("emission") for b in batches) == 4
    assert sum(b.count("spectrum") + b.count("health") for b in batches) == 0


def test_sent_batches_free_their_space(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", station_id="ls-hn")
    ids = [box.append([spectrum_item(i, 20000)], created_t_ns=T0).batch_id for i in range(20)]
    size_full = (tmp_path / "o.sqlite").stat().st_size + (tmp_path / "o.sqlite-wal").stat().st_size
    for bid in ids:
        box.mark_sent(bid, t_ns=T0)
    assert box.stats().pending_bytes == 0
    box.enforce_limit()
    con = sqlite3.connect(tmp_path / "o.sqlite")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert (tmp_path / "o.sqlite").stat().st_size < size_full / 4


def test_validation_rejects_bad_spectrum_payload() -> None:
    item = spectrum_item(0, 10)
    with pytest.raises(ValueError, match="holds 10 bins, n_bins says 11"):
        SpectrumItem.model_validate({**item.model_dump(), "n_bins": 11})
    nan = np.full(10, np.nan, dtype="<f4")
    import base64

    with pytest.raises(ValueError, match="NaN"):
        SpectrumItem.model_validate(
            {**item.model_dump(), "power_db_b64": base64.b64encode(nan.tobytes()).decode()}
        )
