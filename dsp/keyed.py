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

__all__ = ["MAX_CHANNEL_HZ", "MIN_JACCARD", "jaccard", "keyed_groups"]

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
