"""ADC overload products, told from emissions by their structure.

When the 8-bit ADC of a zero-IF receiver clips, I and Q clip separately and every
strong signal at offset ``d`` from the LO makes odd-order products at ``-d``,
``+-3 d``, ``+-5 d``, ... (folded into the sampled band); the DC offset that the ADC
sees before it clips makes the clipping asymmetric and adds even orders ``+-2 d``,
``+-4 d``, ... (seen in the simulator's clipped blocks up to the 11th order). A strong
signal ``d1`` and any other ``d2`` make third-order intermodulation at
``2 d1 - d2``, and the asymmetric clipping second-order ``d1 +- d2`` and the other
third-order combinations (:data:`PAIR_ORDERS`, each also mirrored). How strong a
product is depends on how hard the ADC clips, not on a fixed level below its
parent, so a product is recognised by structure only:

1. **Where it is**: its centre within ``max(3 bins, half its 99 % bandwidth)`` of a
   product frequency of its parents (the centre of a product is the same
   combination of its parents' centres; a clipped parent's skirts widen, so its
   bandwidth gives no tolerance). Parents are the
   emissions within :data:`PARENT_WITHIN_DB` dB of the strongest (only those clip the
   ADC) and more than 3 bins from the LO.
2. **When it is on**: a product exists only while its parent is on (and clipping).
   With time slices and a parent that switches on and off, a candidate on (almost)
   only while its parents are on is a product (``"reject"``); one on while they are
   off is a real emission that happens to sit there (kept).
3. What cannot be decided (a parent that never switches off, or no slices; or an
   emission at no product frequency that is on only while a clipping parent is on)
   is ``"suspect"``: reported with the flag ``overload_suspect`` and no finding. A
   station settles it by stepping its gain down (a real signal drops 1 dB per dB
   of gain, a 3rd-order product about 3 dB).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsp.bursts import Activity

__all__ = [
    "ORDERS",
    "PAIR_ORDERS",
    "PARENT_WITHIN_DB",
    "KEYED_INSIDE",
    "product_offsets_hz",
    "keyed_inside",
    "classify_overload",
]

#: Multiples of a parent's offset where single-signal clipping products fall.
ORDERS = tuple(n for k in range(1, 12) for n in (k, -k) if n != 1)
#: (a, b) of the two-signal products ``a d1 + b d2`` (second and third order; ``d1``
#: a parent, ``d2`` any stronger emission); ``2 d1 - d2`` first.
PAIR_ORDERS = ((2, -1), (-2, 1), (1, 1), (-1, -1), (1, -1), (-1, 1), (2, 1), (-2, -1),
               (1, -2), (-1, 2), (1, 2), (-1, -2))
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
    parents_hz: Sequence[float], others_hz: Sequence[float], span_hz: float
) -> list[tuple[float, tuple[int, ...]]]:
    """Product offsets from the LO, folded into the band, each with its parents' indices.

    ``parents_hz`` are the strong signals' offsets (indices ``0..P-1``), ``others_hz``
    every emission's offset (indices ``P..``): single-signal orders of each parent,
    and ``a d1 + b d2`` (:data:`PAIR_ORDERS`) for a parent ``d1`` and any other ``d2``.

    Examples
    --------
    >>> [round(f) for f, _ in product_offsets_hz([10e3], [], 250e3)][:6]
    [-10000, 20000, -20000, 30000, -30000, 40000]
    >>> product_offsets_hz([10e3], [25e3], 250e3)[len(ORDERS)]  # 2 d1 - d2
    (-5000.0, (0, 1))
    """
    out: list[tuple[float, tuple[int, ...]]] = []
    for i, d in enumerate(parents_hz):
        out.extend((_wrap(n * d, span_hz), (i,)) for n in ORDERS)
    n_par = len(parents_hz)
    for i, d1 in enumerate(parents_hz):
        for j, d2 in enumerate(others_hz):
            if d2 != d1:
                out.extend((_wrap(a * d1 + b * d2, span_hz), (i, n_par + j))
                           for a, b in PAIR_ORDERS)
    return out


def keyed_inside(child: Activity, parents: Sequence[Activity]) -> bool | None:
    """Is ``child`` on only while its ``parents`` are on?

    ``True``: keyed (a product); ``False``: on while a parent is off (not theirs);
    ``None``: cannot tell (no parent switches off, or the child is never on). Only
    the parents that switch on and off are compared (a steady one is always on).
    """
    n_on = int(child.on.sum())
    keyed = [p.on for p in parents if p.varies]
    if n_on == 0 or not keyed:
        return None
    together = np.logical_and.reduce(keyed)
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
    slice_only: Sequence[bool] | None = None,
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
    slice_only:
        Each emission was found in the time slices only (a burst): while a steady
        parent clips, the products' spectra flicker from slice to slice, so such a
        find at no product frequency is ``"suspect"`` too.
    """
    f = np.asarray(f_hz, dtype=np.float64)
    bw = np.asarray(bw_hz, dtype=np.float64)
    p = np.asarray(power_db, dtype=np.float64)
    out: list[str | None] = [None] * f.size
    if f.size < 2:
        return out
    d = f - centre_hz
    # From the strongest down: an emission that is not itself a product becomes a
    # parent of the weaker ones (products of products are products of the parent).
    parents: list[int] = []
    seen: list[int] = []  # not rejected: the d2 of two-signal products
    for i in np.argsort(-p, kind="stable").tolist():
        verdicts = []
        prods = product_offsets_hz([d[m] for m in parents], [d[m] for m in seen], span_hz)
        index = parents + seen
        for off, idx in prods:
            members = [index[k] for k in idx]
            tol = max(3 * step_hz, bw[i] / 2)
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
        elif activities is not None and not verdicts and activities[i].varies:
            # at no product frequency of the orders above, but on only while a
            # clipping parent is on: a higher-order product or a real emission keyed
            # by chance; the structure cannot decide
            if any(keyed_inside(activities[i], [activities[m]]) is True for m in parents):
                out[i] = "suspect"
        if (out[i] is None and not verdicts and slice_only is not None and slice_only[i]
                and activities is not None
                and any(not activities[m].varies for m in parents)):
            out[i] = "suspect"
        if out[i] != "reject":
            seen.append(i)
        if out[i] is None and p[i] >= p.max() - PARENT_WITHIN_DB and abs(d[i]) > 3 * step_hz:
            parents.append(i)
    # A product may be stronger than its weaker ingredient (a weak signal compressed
    # by the clipping): pair each remaining emission with the weaker ones too. Two
    # emissions that are each other's product with a parent are both undecided.
    for i in range(f.size):
        if out[i] is not None or i in parents:
            continue
        verdicts = []
        for m in parents:
            for j in seen:
                if j in (i, m) or p[j] >= p[i]:
                    continue
                for a, b in PAIR_ORDERS:
                    if abs(d[i] - _wrap(a * d[m] + b * d[j], span_hz)) <= max(3 * step_hz,
                                                                              bw[i] / 2):
                        verdicts.append(None if activities is None else keyed_inside(
                            activities[i], [activities[m], activities[j]]))
                        break
        if any(v is True for v in verdicts):
            out[i] = "reject"
        elif any(v is None for v in verdicts):
            out[i] = "suspect"
    return out
