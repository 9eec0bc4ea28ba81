"""What a recording or survey file gives the layers above, whatever its format.

``load_recording`` (in :mod:`firmware_bridge.recordings`) opens SigMF, raw
``.cu8``/``.cs8``/``.cf32`` and rtl_power/hackrf_sweep CSV files and returns one of
these two types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dsp.types import Spectrum

__all__ = ["IQRecording", "IQStream", "SurveyRecording", "Recording", "CHUNK_SAMPLES"]

#: Complex samples per chunk read from a file (2 MiB of cu8, 8 MiB of cf32).
CHUNK_SAMPLES = 1 << 20


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
class IQStream:
    """An IQ recording opened for reading in chunks (nothing is loaded up front).

    ``chunks()`` yields ``uint8`` interleaved I/Q for 8-bit files (``cu8``, and
    ``cs8`` shifted onto the same offset-binary grid) so the spectrum's uint8 path and
    the clipped-sample count apply, and complex64 (full scale 1.0) for the others.
    It may be called again (e.g. for a second, bounded read of the first seconds).
    """

    source: str
    sample_rate_hz: float
    f_center_hz: float
    t_start_ns: int
    n_samples: int
    read_chunks: Callable[[int, int, int], Iterator[np.ndarray]] = field(repr=False)
    receiver_id: str = ""
    gain_db: float | None = None
    overload: bool = False
    annotations: tuple[dict, ...] = field(default=())

    def chunks(self, chunk_samples: int = CHUNK_SAMPLES, *, start: int = 0,
               count: int | None = None) -> Iterator[np.ndarray]:
        """Chunks of at most ``chunk_samples`` complex samples from sample ``start``."""
        left = self.n_samples - start if count is None else min(count, self.n_samples - start)
        return self.read_chunks(start, max(0, left), int(chunk_samples))


@dataclass(frozen=True)
class SurveyRecording:
    """A power survey (rtl_power CSV): one stitched ``Spectrum`` per sweep time."""

    source: str
    spectra: tuple[Spectrum, ...]


Recording = IQRecording | SurveyRecording
