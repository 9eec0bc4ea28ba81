"""ADC overload products, told from emissions by their structure.

When the 8-bit ADC of a zero-IF receiver clips, I and Q clip separately and every
strong signal at offset ``d`` from the LO makes odd-order products at ``-d``,
``+-3 d``, ``+-5 d``, ``+-7 d`` (folded into the sampled band), and each strong pair
makes third-order intermodulation at ``2 d1 - d2`` and ``2 d2 - d1``. How strong a
product is depends on how hard the ADC clips, not on a fixed level below its
parent, so a product is recognised by structure only:

1. **Where it is**: its centre within ``max(3 bins, half its 99 % bandwidth,
   a quarter of its parent's)`` of a product frequency of a parent. Parents are the
   emissions within :data:`PARENT_WITHIN_DB` dB of the strongest (only those clip the
   ADC) and more than 3 bins from the LO.
2. **When it is on**: a product exists only while its parent is on (and clipping).
   With time slices and a parent that switches on and off, a candidate on (almost)
   only while its parents are on is a product (``"reject"``); one on while they are
   off is a real emission that happens to sit there (kept).
3. What cannot be decided (a parent that never switches off, or no slices) is
   ``"suspect"``: reported with the flag ``overload_suspect`` and no finding. A
   station settles it by stepping its gain down (a real signal drops 1 dB per dB
   of gain, a 3rd-order product about 3 dB).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsp.bursts import Activity

__all__ = [
    "ORDERS",
    "PARENT_WITHIN_DB",
    "KEYED_INSIDE",
    "product_offsets_hz",
    "keyed_inside",
    "classify_overload",
]

#: Multiples of a parent's offset where single-signal clipping products fall.
ORDERS = (-1, 3, -3, 5, -5, 7, -7)
#: Parents are the emissions within this many dB of the strongest.
PARENT_WITHIN_DB = 20.0
#: A candidate on in its parents' slices for at least this fraction of its own
#: on-slices is keyed with them.
KEYED_INSIDE = 0.8
#: Below this fraction it is on while they are off: not their product.
_NOT_KEYED_INSIDE = 0.5


def _wrap(offset_hz: float, span_hz: float) -> float:
    return (offset_hz + span_hz / 2) % span_hz - span_hz / 2


def product_offsets_hz(
    parents_hz: Sequence[float], span_hz: float
) -> list[tuple[float, tuple[int, ...]]]:
    """Product offsets from the LO, folded into the band, each with its parents' indices.

    Examples
    --------
    >>> [round(f) for f, _ in product_offsets_hz([10e3], 250e3)]
    [-10000, 30000, -30000, 50000, -50000, 70000, -70000]
    """
    out: list[tuple[float, tuple[int, ...]]] = []
    for i, d in enumerate(parents_hz):
        out.extend((_wrap(n * d, span_hz), (i,)) for n in ORDERS)
    for i, d1 in enumerate(parents_hz):
        for j, d2 in enumerate(parents_hz):
            if i != j:
                out.append((_wrap(2 * d1 - d2, span_hz), (i, j)))
    return out


def keyed_inside(child: Activity, parents: Sequence[Activity]) -> bool | None:
    """Is ``child`` on only while all ``parents`` are on?

    ``True``: keyed (a product); ``False``: on while a parent is off (not theirs);
    ``None``: cannot tell (a parent never switches off, or the child is never on).
    """
    n_on = int(child.on.sum())
    if n_on == 0 or not all(p.varies for p in parents):
        return None
    together = np.logical_and.reduce([p.on for p in parents])
    inside = float(np.sum(child.on & together)) / n_on
    if inside >= KEYED_INSIDE:
        return True
    if inside < _NOT_KEYED_INSIDE:
        return False
    return None


def classify_overload(
    f_hz: np.ndarray,
    bw_hz: np.ndarray,
    power_db: np.ndarray,
    *,
    centre_hz: float,
    span_hz: float,
    step_hz: float,
    activities: Sequence[Activity] | None = None,
) -> list[str | None]:
    """``"reject"``, ``"suspect"`` or ``None`` for each emission of an overloaded block.

    Parameters
    ----------
    f_hz, bw_hz, power_db:
        Centre, 99 % bandwidth and power of each emission (one tuning).
    centre_hz:
        The LO frequency.
    span_hz:
        The sampled band (the sample rate), where products fold.
    step_hz:
        Bin width.
    activities:
        Each emission's :class:`~dsp.bursts.Activity` in the time slices, if known.
    """
    f = np.asarray(f_hz, dtype=np.float64)
    bw = np.asarray(bw_hz, dtype=np.float64)
    p = np.asarray(power_db, dtype=np.float64)
    out: list[str | None] = [None] * f.size
    if f.size < 2:
        return out
    d = f - centre_hz
    parents = np.flatnonzero((p >= p.max() - PARENT_WITHIN_DB) & (np.abs(d) > 3 * step_hz))
    if parents.size == 0:
        return out
    prods = product_offsets_hz(list(d[parents]), span_hz)
    for i in range(f.size):
        verdicts = []
        for off, idx in prods:
            members = [int(parents[k]) for k in idx]
            if i in members or any(p[m] <= p[i] for m in members):
                continue  # a product is weaker than each of its parents
            tol = max(3 * step_hz, bw[i] / 2, max(bw[m] for m in members) / 4)
            if abs(d[i] - off) > tol:
                continue
            if activities is None:
                verdicts.append(None)
            else:
                verdicts.append(keyed_inside(activities[i], [activities[m] for m in members]))
        if any(v is True for v in verdicts):
            out[i] = "reject"
        elif any(v is None for v in verdicts):
            out[i] = "suspect"
    return out
