"""Key clicks: a weak burst only at a stronger component's switching edges."""

from __future__ import annotations

import numpy as np

from dsp.bursts import Activity
from dsp.keyed import keying_transients


def _act(on: list[bool], burst_db: float | None) -> Activity:
    arr = np.array(on, dtype=bool)
    return Activity(on=arr, signal_lin=arr.astype(float), duty_cycle=float(arr.mean()),
                    burst_power_db=burst_db, t_first_ns=None, t_last_ns=None)


CARRIER = [False] * 5 + [True] * 10 + [False] * 5


def test_clicks_at_the_edges_belong_to_the_carrier():
    clicks = [k in (4, 5, 14, 15) for k in range(20)]
    pairs = keying_transients([100e3, 120e3], [_act(clicks, -70.0), _act(CARRIER, -26.0)])
    assert pairs == [(0, 1)]


def test_a_weak_burst_away_from_the_edges_is_its_own_emission():
    burst = [k in (9, 10) for k in range(20)]
    assert keying_transients([100e3, 120e3], [_act(burst, -70.0), _act(CARRIER, -26.0)]) == []


def test_not_weak_enough_or_too_far_or_steady_parent():
    clicks = [k in (4, 5) for k in range(20)]
    assert keying_transients([100e3, 120e3], [_act(clicks, -40.0), _act(CARRIER, -26.0)]) == []
    assert keying_transients([100e3, 400e3], [_act(clicks, -70.0), _act(CARRIER, -26.0)]) == []
    steady = [True] * 20
    assert keying_transients([100e3, 120e3], [_act(clicks, -70.0), _act(steady, -26.0)]) == []
