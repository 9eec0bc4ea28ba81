"""The one ``Receiver`` interface every source of IQ implements.

RTL-SDR dongles (pyrtlsdr), rtl_tcp servers, recordings and the RF-scene simulator
all look the same to the layers above: open, tune, set rate and gain, read
``IQBlock``s. Choose one by a spec string through :func:`firmware_bridge.factory.open_receiver`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from dsp.types import IQBlock

__all__ = ["Receiver", "ReceiverCapabilities", "R820T_GAINS_DB"]

#: The R820T/R820T2 tuner's own gain table (librtlsdr ``r82xx_gains``), dB, 29 steps.
R820T_GAINS_DB: tuple[float, ...] = tuple(
    g / 10
    for g in (
        0, 9, 14, 27, 37, 77, 87, 125, 144, 157, 166, 197, 207, 229, 254,
        280, 297, 328, 338, 364, 372, 386, 402, 421, 434, 439, 445, 480, 496,
    )
)


@dataclass(frozen=True, slots=True)
class ReceiverCapabilities:
    """What a receiver can do.

    ``sample_rate_ranges_hz`` lists inclusive (low, high) ranges of accepted complex
    sample rates; ``gains_db`` is the tuner's gain table (empty if gain is fixed).
    """

    f_min_hz: float
    f_max_hz: float
    gains_db: tuple[float, ...]
    sample_rate_ranges_hz: tuple[tuple[float, float], ...]
    tuner: str = "unknown"

    def accepts_rate(self, rate_hz: float) -> bool:
        return any(lo <= rate_hz <= hi for lo, hi in self.sample_rate_ranges_hz)

    def nearest_gain_db(self, gain_db: float) -> float:
        """The table entry closest to ``gain_db`` (the tuner only has these)."""
        if not self.gains_db:
            return gain_db
        return min(self.gains_db, key=lambda g: abs(g - gain_db))


class Receiver(ABC):
    """A tunable source of IQ blocks.

    Implementations open hardware or sockets in :meth:`open`, never in ``__init__``.
    Errors are ``dsp.errors.ReceiverError`` subclasses: ``ReceiverNotFound`` when the
    device is not there, ``ReceiverLost`` when it goes away mid-stream.
    """

    receiver_id: str

    @property
    @abstractmethod
    def capabilities(self) -> ReceiverCapabilities: ...

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    @abstractmethod
    def tune(self, f_hz: float) -> None:
        """Tune the centre frequency (Hz)."""

    @property
    @abstractmethod
    def f_center_hz(self) -> float: ...

    @abstractmethod
    def set_sample_rate(self, rate_hz: float) -> None: ...

    @property
    @abstractmethod
    def sample_rate_hz(self) -> float: ...

    @abstractmethod
    def set_gain(self, gain_db: float | None) -> None:
        """Manual gain in dB (snapped to the gain table), or ``None`` for AGC."""

    @property
    @abstractmethod
    def gain_db(self) -> float | None: ...

    @abstractmethod
    def set_ppm(self, ppm: float) -> None:
        """Frequency correction in parts per million."""

    @abstractmethod
    def read(self, n_samples: int) -> IQBlock:
        """Read ``n_samples`` complex samples at the current settings."""

    def stream(self, n_samples: int, n_blocks: int | None = None) -> Iterator[IQBlock]:
        """Continuous capture: yield blocks of ``n_samples`` until ``n_blocks`` or close."""
        count = 0
        while n_blocks is None or count < n_blocks:
            yield self.read(n_samples)
            count += 1

    def __enter__(self) -> Receiver:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
