"""Pure helpers of a hopped sweep: FFT size for an RBW, hop seams, IQ-image suspects.

They work on spectra and emissions only (no receiver, no station): the station's
sweep tasks (:mod:`stations.tasks`) call them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dsp.types import Emission, Spectrum

__all__ = ["IMAGE_SUSPECT_DB", "fft_size_for_rbw", "image_suspects", "median_floor",
           "merge_hop_emissions"]

#: Hann window's equivalent noise bandwidth, bins.
_HANN_ENBW_BINS = 1.5


def fft_size_for_rbw(rbw_hz: float, sample_rate_hz: float) -> int:
    """The power-of-two FFT size whose Hann RBW is closest to (not above) ``rbw_hz``.

    >>> fft_size_for_rbw(10e3, 2.4e6)
    512
    """
    n = sample_rate_hz * _HANN_ENBW_BINS / rbw_hz
    return int(min(65536, max(64, 2 ** math.ceil(math.log2(n)))))


def merge_hop_emissions(emissions: list[Emission]) -> list[Emission]:
    """Emissions of adjacent hops that overlap (one cut by a seam): keep the stronger."""
    out: list[Emission] = []
    for e in sorted(emissions, key=lambda e: e.f_hz):
        if out and e.f_low_hz <= out[-1].f_high_hz:
            if e.power_db > out[-1].power_db:
                out[-1] = e
            continue
        out.append(e)
    return out


#: An emission this much weaker than one at its mirror frequency may be an IQ image.
IMAGE_SUSPECT_DB = 15.0


def image_suspects(
    emissions: Sequence[Emission], f_center_hz: float, sample_rate_hz: float | None = None
) -> list[Emission]:
    """Emissions of one hop sitting where an artefact of a much stronger one would be.

    That is its mirror about the LO (IQ image) and, with ``sample_rate_hz``, its
    third-order products at ``+-3`` times its offset from the LO folded into the
    sampled band (the 8-bit ADC's distortion of a strong signal, which the pipeline
    rejects only when the block clipped). The pipeline rejects IQ images already;
    these are the ones it kept, to be confirmed by re-measuring with the LO moved
    (:func:`dsp.artefacts.verify_by_retuning`): an artefact moves with the LO.

    >>> from dsp.types import Emission
    >>> def em(f_hz, power_db):
    ...     return Emission(f_hz, 9e3, 9e3, power_db, power_db, 30.0, -90.0, "dBFS",
    ...                     2343.75, 0, 0)
    >>> strong, spur = em(163.45e6, -20.0), em(162.15e6, -68.0)
    >>> [e.f_hz for e in image_suspects([strong, spur], 162.9e6, 2.4e6)]
    [162150000.0]
    >>> image_suspects([strong, spur], 162.9e6)
    []
    """
    out = []
    for e in emissions:
        for o in emissions:
            if o is e or o.power_db - e.power_db < IMAGE_SUSPECT_DB:
                continue
            reach = max(o.bw_99_hz, e.bw_99_hz) / 2 + 2 * e.f_resolution_hz
            d = o.f_hz - f_center_hz
            spots = [f_center_hz - d]
            if sample_rate_hz:
                half = sample_rate_hz / 2
                spots += [
                    f_center_hz + ((k * d + half) % sample_rate_hz - half) for k in (3, -3)
                ]
            if any(abs(e.f_hz - spot) <= reach for spot in spots):
                out.append(e)
                break
    return out


def median_floor(hops: Sequence[Spectrum]) -> float | None:
    """Median power of all hops' bins: a robust noise-floor figure for the record."""
    if not hops:
        return None
    value = float(np.median(np.concatenate([h.power_db for h in hops])))
    return value if math.isfinite(value) else None
