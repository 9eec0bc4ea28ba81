"""What a recording or survey file gives the layers above, whatever its format.

``load_recording`` (in :mod:`firmware_bridge.recordings`) opens SigMF, raw
``.cu8``/``.cs8``/``.cf32`` and rtl_power/hackrf_sweep CSV files and returns one of
these two types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dsp.types import Spectrum

__all__ = ["IQRecording", "SurveyRecording", "Recording"]


@dataclass(frozen=True)
class IQRecording:
    """Raw IQ: ``samples`` complex64 with full scale 1.0 (uint8 mapped to [-1, 1))."""

    source: str
    samples: np.ndarray
    sample_rate_hz: float
    f_center_hz: float
    t_start_ns: int
    receiver_id: str = ""
    gain_db: float | None = None
    overload: bool = False
    #: Fraction of complex samples with I or Q at an integer ADC rail (0-1); None for
    #: float formats (unknown).
    overload_fraction: float | None = None
    #: SigMF annotations already in the file (dicts of SigMF keys), for reference.
    annotations: tuple[dict, ...] = field(default=())


@dataclass(frozen=True)
class SurveyRecording:
    """A power survey (rtl_power CSV): one stitched ``Spectrum`` per sweep time."""

    source: str
    spectra: tuple[Spectrum, ...]


Recording = IQRecording | SurveyRecording
