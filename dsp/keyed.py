"""One transmitter, one emission: components keyed together are merged.

A 2-FSK transmitter shows two tones, an AM carrier its sidebands, an OOK
transmitter a carrier with spectral lines: detected on the average, each is a
separate run of bins. They belong to one transmitter when they switch on and off
together (in the time slices) and sit within one plausible channel
(:data:`MAX_CHANNEL_HZ`). :func:`keyed_groups` chains neighbours in frequency whose
on/off patterns agree (Jaccard index of the on-slices at least
:data:`MIN_JACCARD`) while the group stays within the channel. Components that
never switch off cannot be told apart from neighbours that happen to be steady,
so they are never merged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsp.bursts import Activity

__all__ = ["MAX_CHANNEL_HZ", "MIN_JACCARD", "REASON_KEYING_TRANSIENT", "jaccard",
           "keyed_groups", "keying_transients"]

#: Reason given for a weak component on only at a stronger one's switching edges.
REASON_KEYING_TRANSIENT = "keying_transient"
#: How much weaker (dB, while on) such a component is than the transmitter it belongs to.
TRANSIENT_BELOW_DB = 20.0

#: The widest channel one keyed transmitter is merged over, Hz (a wide FSK or FM
#: channel).
MAX_CHANNEL_HZ = 200e3
#: Least Jaccard index of two components' on-slices for them to be keyed together.
MIN_JACCARD = 0.7


def jaccard(a: Activity, b: Activity) -> float:
    """|on_a & on_b| / |on_a | on_b| (0 when neither is ever on)."""
    union = int(np.sum(a.on | b.on))
    return float(np.sum(a.on & b.on)) / union if union else 0.0


def keyed_groups(
    f_low_hz: Sequence[float],
    f_high_hz: Sequence[float],
    activities: Sequence[Activity | None],
    *,
    max_channel_hz: float = MAX_CHANNEL_HZ,
    min_jaccard: float = MIN_JACCARD,
) -> list[list[int]]:
    """Groups of indices (sorted by frequency) that are one keyed transmitter.

    Parameters
    ----------
    f_low_hz, f_high_hz:
        Each component's 99 % band edges.
    activities:
        Each component's activity (``None``: unknown, never merged).
    max_channel_hz:
        The merged group spans at most this much.
    min_jaccard:
        Least agreement of on-slices between a component and the group's first.

    Returns
    -------
    list of list of int
        Every index appears in exactly one group; singletons for unmerged components.
    """
    lo = np.asarray(f_low_hz, dtype=np.float64)
    hi = np.asarray(f_high_hz, dtype=np.float64)
    order = np.argsort((lo + hi) / 2)
    groups: list[list[int]] = []
    for i in order.tolist():
        act = activities[i]
        if groups:
            g = groups[-1]
            head = activities[g[0]]
            span = max(hi[g].max(), hi[i]) - min(lo[g].min(), lo[i])
            if (act is not None and head is not None and act.varies and head.varies
                    and span <= max_channel_hz and jaccard(head, act) >= min_jaccard):
                g.append(i)
                continue
        groups.append([i])
    return groups


def _edges(on: np.ndarray) -> np.ndarray:
    """Slices next to a switch on or off (the slice before and the slice after it)."""
    change = np.flatnonzero(on[1:] != on[:-1])
    near = np.zeros(on.size, dtype=bool)
    for k in change:
        near[max(0, k - 1):k + 3] = True  # the two slices either side of the edge
    return near


def keying_transients(
    f_hz: Sequence[float],
    activities: Sequence[Activity | None],
    *,
    max_channel_hz: float = MAX_CHANNEL_HZ,
    below_db: float = TRANSIENT_BELOW_DB,
) -> list[tuple[int, int]]:
    """(component, parent) pairs where a component is its parent's switching splatter.

    A transmitter keyed hard on and off spreads a short burst of energy around its
    frequency at each edge (key clicks). Seen in the slices, that is a weak "burst"
    beside the carrier, on only in the slices at the carrier's edges. Such a component
    is one transmitter's doing, not another emission: it is on only next to a
    stronger component's switching edges, within half a channel of it, and at least
    ``below_db`` weaker while on.
    """
    out = []
    for i, a in enumerate(activities):
        if a is None or not a.on.any() or a.burst_power_db is None:
            continue
        for j, p in enumerate(activities):
            if (j == i or p is None or not p.varies or p.burst_power_db is None
                    or abs(f_hz[j] - f_hz[i]) > max_channel_hz / 2
                    or p.burst_power_db - a.burst_power_db < below_db):
                continue
            if np.all(_edges(p.on)[a.on]):
                out.append((i, j))
                break
    return out
