"""Replay a recording as a :class:`Receiver` (``file:PATH`` specs).

The recording loops forever. Tuning within the recording's span (centre ± half the
sample rate) shifts the signal by frequency translation — what a dongle retuned by
``Δf`` would see, minus the band edges it would gain — and tuning outside the span
is refused with a :class:`ReceiverError`, since the recording holds nothing there.
The sample rate is the recording's own; other rates are refused (no resampling).

Block times continue the recording's timeline: block ``k`` starts at
``t_start_ns + (samples delivered so far) / rate``, also across loops, so times stay
monotonic. With ``paced=True`` :meth:`FileReceiver.read` also waits so that samples are
delivered no faster than real time (for demos and the rtl_tcp replay server).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dsp.errors import ReceiverError
from dsp.types import IQBlock
from firmware_bridge.rawiq import complex64_to_cu8
from firmware_bridge.receiver import Receiver, ReceiverCapabilities
from firmware_bridge.recording import IQRecording

__all__ = ["FileReceiver", "frequency_shift"]

#: |I| or |Q| at or above this is a uint8 0 or 255 after the (x - 127.5) / 128 mapping.
_CLIP_LEVEL = np.float32(127.5 / 128 - 1e-6)


def frequency_shift(samples: np.ndarray, shift_hz: float, sample_rate_hz: float,
                    phase0_cycles: float = 0.0) -> tuple[np.ndarray, float]:
    """Multiply by ``exp(-2πj·(phase0 + shift·n/fs))`` for ``n = 0, 1, ...``.

    A component at baseband ``f`` moves to ``f - shift_hz``: the view of a receiver whose
    centre moved up by ``shift_hz``. Returns the shifted complex64 samples and the
    oscillator phase (cycles, in [0, 1)) for the next call, so consecutive blocks stay
    phase-continuous even across a retune.

    >>> x = np.ones(4, dtype=np.complex64)
    >>> y, phase = frequency_shift(x, 0.25, 1.0)
    >>> np.round(y.real, 6).tolist(), np.round(y.imag, 6).tolist(), phase
    ([1.0, 0.0, -1.0, -0.0], [0.0, -1.0, -0.0, 1.0], 0.0)
    """
    n = samples.size
    cycles_per_sample = shift_hz / sample_rate_hz
    next_phase = (phase0_cycles + cycles_per_sample * n) % 1.0
    if shift_hz == 0:
        return samples.astype(np.complex64, copy=False), phase0_cycles % 1.0
    idx = np.arange(n, dtype=np.float64)
    osc = np.exp(-2j * np.pi * (phase0_cycles + cycles_per_sample * idx))
    return (samples * osc).astype(np.complex64), next_phase


class FileReceiver(Receiver):
    """A :class:`Receiver` that replays an :class:`IQRecording`.

    Parameters
    ----------
    recording:
        The recording (complex64, full scale 1.0).
    receiver_id:
        Id put on every block (default ``file:<source>``).
    output:
        ``"complex64"`` (default) or ``"cu8"`` (RTL-SDR interleaved uint8).
    loop:
        Start again at the end (default). When False, reading past the end raises
        :class:`ReceiverError`.
    paced:
        Deliver no faster than real time.
    clock, sleep:
        Monotonic clock (s) and sleep, injectable for pacing tests.
    """

    def __init__(
        self,
        recording: IQRecording,
        *,
        receiver_id: str | None = None,
        output: str = "complex64",
        loop: bool = True,
        paced: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if output not in ("complex64", "cu8"):
            raise ReceiverError(f"output must be 'complex64' or 'cu8', not {output!r}")
        if recording.samples.size == 0:
            raise ReceiverError(f"bản ghi rỗng / empty recording: {recording.source}")
        self.recording = recording
        self.receiver_id = receiver_id or f"file:{recording.source}"
        self.output = output
        self.loop = loop
        self.paced = paced
        self._clock = clock
        self._sleep = sleep
        self._open = False
        self._pos = 0
        self._delivered = 0
        self._f_center_hz = recording.f_center_hz
        self._gain_db: float | None = recording.gain_db
        self._ppm = 0.0
        self._t0_clock: float | None = None
        self._phase_cycles = 0.0

    @classmethod
    def from_path(cls, path: str | Path, *, rate_hz: float | None = None,
                  f_center_hz: float | None = None, fmt: str | None = None,
                  **kwargs: object) -> FileReceiver:
        """Open a recording file (see :func:`firmware_bridge.recordings.load_recording`)."""
        from firmware_bridge.recordings import load_recording

        rec = load_recording(path, rate_hz=rate_hz, f_center_hz=f_center_hz, fmt=fmt)
        if not isinstance(rec, IQRecording):
            raise ReceiverError(
                f"tệp khảo sát không phát lại được / a survey file cannot be replayed as IQ: {path}"
            )
        return cls(rec, **kwargs)  # type: ignore[arg-type]

    # -- Receiver -------------------------------------------------------------------

    @property
    def capabilities(self) -> ReceiverCapabilities:
        rate = self.recording.sample_rate_hz
        fc = self.recording.f_center_hz
        return ReceiverCapabilities(
            f_min_hz=fc - rate / 2,
            f_max_hz=fc + rate / 2,
            gains_db=(),
            sample_rate_ranges_hz=((rate, rate),),
            tuner="file",
        )

    def open(self) -> None:
        self._open = True
        self._t0_clock = None

    def close(self) -> None:
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def span_contains(self, f_hz: float) -> bool:
        """True when ``f_hz`` lies strictly inside the recording's span."""
        half = self.recording.sample_rate_hz / 2
        return abs(f_hz - self.recording.f_center_hz) < half

    def tune(self, f_hz: float) -> None:
        if not self.span_contains(f_hz):
            cap = self.capabilities
            raise ReceiverError(
                f"tần số {f_hz:.0f} Hz ngoài dải của bản ghi / {f_hz:.0f} Hz is outside the "
                f"recording's span {cap.f_min_hz:.0f}–{cap.f_max_hz:.0f} Hz"
            )
        self._f_center_hz = float(f_hz)

    @property
    def f_center_hz(self) -> float:
        return self._f_center_hz

    def set_sample_rate(self, rate_hz: float) -> None:
        rate = self.recording.sample_rate_hz
        if abs(rate_hz - rate) > 1e-6 * rate:
            raise ReceiverError(
                f"bản ghi chỉ có tốc độ {rate:.0f} S/s / the recording only has {rate:.0f} S/s, "
                f"cannot give {rate_hz:.0f} S/s"
            )

    @property
    def sample_rate_hz(self) -> float:
        return self.recording.sample_rate_hz

    def set_gain(self, gain_db: float | None) -> None:
        # A recording's gain is fixed; remember the request so blocks report it.
        self._gain_db = gain_db

    @property
    def gain_db(self) -> float | None:
        return self._gain_db

    def set_ppm(self, ppm: float) -> None:
        self._ppm = float(ppm)

    def read(self, n_samples: int) -> IQBlock:
        if not self._open:
            raise ReceiverError(f"chưa mở / receiver not open: {self.receiver_id}")
        if n_samples <= 0:
            raise ReceiverError(f"n_samples must be > 0, got {n_samples}")
        rec = self.recording
        total = rec.samples.size
        parts = []
        need = n_samples
        pos = self._pos
        while need:
            if pos >= total:
                if not self.loop:
                    raise ReceiverError(f"hết bản ghi / end of recording: {rec.source}")
                pos = 0
            take = min(need, total - pos)
            parts.append(rec.samples[pos : pos + take])
            pos += take
            need -= take
        chunk = parts[0] if len(parts) == 1 else np.concatenate(parts)
        # Flag only the blocks that hold clipped samples (a component at the end of the
        # uint8 range, as the recording was made), not every block of a recording that
        # clipped somewhere.
        overload = rec.overload and bool(
            max(np.abs(chunk.real).max(initial=0.0), np.abs(chunk.imag).max(initial=0.0))
            >= _CLIP_LEVEL
        )
        shift = self._f_center_hz - rec.f_center_hz
        chunk, self._phase_cycles = frequency_shift(
            chunk, shift, rec.sample_rate_hz, self._phase_cycles
        )
        t_start_ns = rec.t_start_ns + int(round(self._delivered * 1e9 / rec.sample_rate_hz))
        if self.paced:
            self._pace(n_samples)
        self._pos = pos
        self._delivered += n_samples
        samples = complex64_to_cu8(chunk) if self.output == "cu8" else chunk
        if self.output == "cu8":
            overload = bool(samples.min() == 0 or samples.max() == 255)
        return IQBlock(
            samples=samples,
            f_center_hz=self._f_center_hz,
            sample_rate_hz=rec.sample_rate_hz,
            gain_db=self._gain_db,
            t_start_ns=t_start_ns,
            receiver_id=self.receiver_id,
            overload=overload,
        )

    def _pace(self, n_samples: int) -> None:
        now = self._clock()
        if self._t0_clock is None:
            self._t0_clock = now - self._delivered / self.recording.sample_rate_hz
        due = self._t0_clock + (self._delivered + n_samples) / self.recording.sample_rate_hz
        if due > now:
            self._sleep(due - now)
