"""A task whose one item the wire contract refuses drops that item, not the run."""

from __future__ import annotations

import logging

from stations.batch import OccupancyItem
from stations.config import load_site_config
from stations.health import ReceiverHealth
from stations.sites import site_path
from stations.tasks import TaskContext


def test_a_refused_item_is_dropped_counted_and_logged(caplog):
    sent = []
    health = ReceiverHealth("rx0")
    cfg = load_site_config(site_path("huu_nghi.yaml")).receivers[0]
    ctx = TaskContext(station_id="s", receiver=cfg, health=health, emit=sent.append,
                      position=lambda: None, clock=lambda: 0)

    def occupancy(fraction: float) -> OccupancyItem:
        return OccupancyItem(band="vhf", channel="163.4500", f_hz=163.45e6, fraction=fraction,
                             threshold_db=10.0, n_samples=12, t_start_ns=0, t_end_ns=10)

    with caplog.at_level(logging.WARNING, logger="stations.tasks"):
        ctx.emit_item(lambda: occupancy(0.25), "occupancy a")
        ctx.emit_item(lambda: occupancy(float("nan")), "occupancy b")
        ctx.emit_item(lambda: occupancy(0.5), "occupancy c")
    assert [i.fraction for i in sent] == [0.25, 0.5]  # the good ones travel
    assert health.items_refused == 1 and "occupancy b" in health.last_error
    assert any("occupancy b" in r.getMessage() for r in caplog.records)
