"""One pass over IQ samples: coarse spectrum, a finer spectrum and time slices together.

:class:`SpectrumStream` takes the samples of one tuning in chunks of any size (a
file read piece by piece, an rtl_tcp socket, or one array: the in-memory case is the
one-chunk case) and keeps only running sums, so its memory does not grow with the
length of the recording. From the same samples it accumulates:

- the *coarse* Welch spectrum (the FFT size of :func:`dsp.iq_analysis.default_fft_size`,
  Hann, 50 % overlap) exactly as :func:`dsp.spectrum.welch_spectrum` computes it on
  the whole block (same frames, same DC removal: the test suite checks bin for bin);
- one *fine* Welch spectrum (a larger FFT size, for re-measuring narrow emissions);
  on long inputs whose length is known, at most :data:`MAX_FINE_FRAMES` frames spread
  evenly over the input are transformed (frames then no longer overlap, and some
  samples between them are skipped): enough averages for a bandwidth, at a bounded
  cost;
- :class:`~dsp.types.TimeSlices`: the coarse frames' power summed per slice of
  consecutive frames, on the coarse grid, DC-corrected like the block spectrum;
- for ``uint8`` input, the fraction of samples whose I or Q sits on an ADC rail
  (:func:`dsp.iq.overload_fraction` over the whole input).

Time slices and memory
----------------------
A slice is :data:`SLICE_S` (5 ms) or a little less: a 10 ms burst fills at least one.
The slices are kept as float32, ``n_slices x n_bins``, and their number is capped at
``MAX_SLICE_CELLS / n_bins`` (2048 slices of 2048 bins, 16 MiB): a longer input gets
longer slices (when its length is known up front, they are chosen so; a stream of
unknown length merges pairs of slices whenever the cap is reached). So at 2.4 MS/s
and FFT 2048 slices are 4.7 ms up to about 9.6 s of input, and for 60 s about 29 ms
(a 10 ms burst then reads up to 4.6 dB under its power while on, in its slice).
A partial last slice is kept when its frames span at least half a slice (its
spectrum the mean of the frames it has; its end is the block's): a burst at the very
end of a short recording is in it, as in :func:`dsp.slices.compute_time_slices`.

Frames that cross chunk boundaries are handled by keeping the last samples of a chunk
until the next one arrives. With FFTW, frames go through in whole batches of its
measured plan (about 512 KiB of frames); the few frames short of a batch wait in
that tail for the next chunk, and :meth:`SpectrumStream.finish` transforms what is
left. The tail is at most a batch of frames (fine frames spread over a long input
make it up to two fine steps: 0.6 M samples for 60 s at 2.4 MS/s).

Measured (``bench/dsp.py``, one core): ``rfwatch analyze`` of a 60 s cu8 file at
2.4 MS/s runs at about 150 MS/s of CPU time beyond start-up with a peak RSS near
100 MB, the same as for a 10 s file; a 5 GB file (18.6 min) was analysed to its
last frame with a peak RSS of 88 MB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsp.errors import ParameterError
from dsp.spectrum import (
    _accumulate,
    _fftw_rows,
    _pyfftw,
    _window_plan,
    dc_corrected,
    dc_estimate,
    spectrum_from_sums,
    transform_frames,
)
from dsp.types import Spectrum, TimeSlices

__all__ = ["SLICE_S", "MAX_SLICE_CELLS", "MAX_FINE_FRAMES", "StreamSummary", "SpectrumStream"]

#: Longest time slice, s (shorter inputs): a 10 ms burst fills at least one slice.
SLICE_S = 0.005
#: Most slice x bin cells kept (float32): 16 MiB, whatever the length of the input.
MAX_SLICE_CELLS = 1 << 22
#: Fewest frames a partial last slice is kept with.
MIN_PARTIAL_FRAMES = 3
#: Most frames of the fine spectrum when the input's length is known up front.
MAX_FINE_FRAMES = 512


@dataclass(frozen=True)
class StreamSummary:
    """What one pass over the samples of one tuning leaves.

    Attributes
    ----------
    spectrum:
        The coarse Welch spectrum of all the samples.
    fine:
        The finer spectrum (``None`` when none was asked or the input was too short).
    slices:
        Time slices on ``spectrum``'s grid (``None`` when not one slice).
    overload_fraction:
        Fraction of samples with I or Q on an ADC rail; ``None`` for non-8-bit input.
    n_samples:
        Complex samples consumed.
    f_center_hz:
        Tuned centre, Hz.
    sample_rate_hz:
        Complex sample rate, Hz.
    """

    spectrum: Spectrum
    fine: Spectrum | None
    slices: TimeSlices | None
    overload_fraction: float | None
    n_samples: int
    f_center_hz: float
    sample_rate_hz: float
    #: The block's DC (window-weighted mean of the samples, full scale 1.0) that the
    #: spectra had removed: the receiver's DC offset, or a carrier exactly at the LO.
    dc: complex = 0j
    #: dB from dBFS to the spectrum's unit (0 for dBFS).
    calibration_offset_db: float = 0.0


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool)


class _Lane:
    """The running sums of one FFT size."""

    def __init__(self, n: int, step: int, scale: float) -> None:
        self.n = n
        self.step = step  # samples between the starts of consecutive frames
        self.plan = _window_plan("hann", n, scale)
        self.pos = 0  # next frame's first sample, relative to the stream's buffer
        self.frames = 0
        self.power = np.zeros(n, dtype=np.float64)
        self.sum_x = np.zeros(self.plan.w_bins.size, dtype=np.complex128)
        self.sum_x2 = np.zeros(self.plan.w_bins.size, dtype=np.float64)

    def available(self, n_buf: int) -> int:
        return 0 if n_buf < self.pos + self.n else 1 + (n_buf - self.pos - self.n) // self.step


class SpectrumStream:
    """Accumulate the coarse and fine spectra and the time slices of a stream of IQ.

    Parameters
    ----------
    sample_rate_hz, f_center_hz:
        Complex sample rate and tuned centre, Hz.
    fft_size:
        Coarse FFT size (even, >= 4).
    fine_fft_size:
        FFT size of the fine spectrum, or ``None`` for none.
    t_start_ns:
        UTC time of the first sample, ns.
    expected_samples:
        Length of the input in complex samples when known (a file): slice length and
        fine-frame spacing are then chosen up front.
    slice_s:
        Longest slice, s (see the module notes).
    calibration_offset_db, station_id, receiver_id:
        As for :func:`dsp.spectrum.welch_spectrum`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = SpectrumStream(sample_rate_hz=1e6, f_center_hz=100e6, fft_size=256)
    >>> for _ in range(4):
    ...     s.feed(rng.integers(0, 256, 2 * 25_000).astype(np.uint8))
    >>> out = s.finish()
    >>> out.n_samples, out.spectrum.n_bins, out.slices.n_slices, out.overload_fraction > 0
    (100000, 256, 20, True)
    """

    def __init__(
        self,
        *,
        sample_rate_hz: float,
        f_center_hz: float,
        fft_size: int,
        fine_fft_size: int | None = None,
        t_start_ns: int = 0,
        expected_samples: int | None = None,
        slice_s: float = SLICE_S,
        calibration_offset_db: float | None = None,
        station_id: str = "",
        receiver_id: str = "",
    ) -> None:
        if not (_is_number(sample_rate_hz) and math.isfinite(sample_rate_hz)
                and sample_rate_hz > 0):
            raise ParameterError(f"sample_rate_hz must be finite and > 0; got {sample_rate_hz!r}")
        if not (_is_number(f_center_hz) and math.isfinite(f_center_hz)):
            raise ParameterError(f"f_center_hz must be finite; got {f_center_hz!r}")
        if calibration_offset_db is not None and not (
                _is_number(calibration_offset_db) and math.isfinite(calibration_offset_db)):
            raise ParameterError(
                f"calibration_offset_db must be finite or None; got {calibration_offset_db!r}")
        for name, size in (("fft_size", fft_size), ("fine_fft_size", fine_fft_size)):
            if size is not None and (not isinstance(size, int | np.integer) or size < 4
                                     or size % 2):
                raise ParameterError(f"{name} must be an even integer >= 4; got {size!r}")
        if not (math.isfinite(slice_s) and slice_s > 0):
            raise ParameterError(f"slice_s must be finite and > 0; got {slice_s!r}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.f_center_hz = float(f_center_hz)
        self.t_start_ns = int(t_start_ns)
        self._n = int(fft_size)
        self._fine_n = None if fine_fft_size is None else int(fine_fft_size)
        self._expected = expected_samples
        self._slice_s = float(slice_s)
        self._cal = calibration_offset_db
        self._ids = (station_id, receiver_id)
        self._kind: str | None = None  # "u8" or "c64", fixed by the first chunk
        self._tail: np.ndarray | None = None
        self._n_samples = 0
        self._clipped = 0

    # -- set-up on the first chunk (the scale depends on the input's type) -------------

    def _start(self, kind: str) -> None:
        self._kind = kind
        scale = 1.0 / 128.0 if kind == "u8" else 1.0
        n = self._n
        self._coarse = _Lane(n, n // 2, scale)
        max_slices = max(2, MAX_SLICE_CELLS // n // 2 * 2)  # even: pairs merge
        frames = max(1, int(self._slice_s * self.sample_rate_hz // self._coarse.step))
        if self._expected is not None:
            total = max(1, 1 + (self._expected - n) // self._coarse.step)
            frames = max(frames, -(-total // max_slices))
        self._slice_frames = frames
        self._slices = np.zeros((max_slices, n), dtype=np.float32)
        self._slice_sx = np.zeros((max_slices, self._coarse.plan.w_bins.size), np.complex128)
        self._slice_sx2 = np.zeros((max_slices, self._coarse.plan.w_bins.size), np.float64)
        self._n_slices = 0
        self._cur = np.zeros(2 * n, dtype=np.float64)  # the slice being filled, interleaved
        self._cur_sx = np.zeros(self._coarse.plan.w_bins.size, np.complex128)
        self._cur_sx2 = np.zeros(self._coarse.plan.w_bins.size, np.float64)
        self._cur_frames = 0
        self._total = np.zeros(2 * n, dtype=np.float64)
        self._fine: _Lane | None = None
        if self._fine_n is not None:
            nf = self._fine_n
            step = nf // 2
            if self._expected is not None:
                avail = 1 + (self._expected - nf) // step if self._expected >= nf else 0
                if avail > MAX_FINE_FRAMES:
                    step = (self._expected - nf) // (MAX_FINE_FRAMES - 1)
            self._fine = _Lane(nf, step, scale)

    # -- feeding --------------------------------------------------------------------------

    def feed(self, chunk: np.ndarray) -> None:
        """Add the next samples: ``uint8`` interleaved I/Q or complex (full scale 1.0).

        Every chunk of one stream must be of the same kind (uint8 or complex).
        """
        if not isinstance(chunk, np.ndarray) or chunk.ndim != 1:
            raise ParameterError("chunk must be a 1-D numpy array")
        if chunk.dtype == np.uint8:
            if chunk.size % 2:
                raise ParameterError(f"uint8 chunks must hold whole I/Q pairs; got {chunk.size}")
            kind, real = "u8", np.ascontiguousarray(chunk)
            count = chunk.size // 2
        elif chunk.dtype in (np.complex64, np.complex128):
            kind = "c64"
            real = np.ascontiguousarray(chunk, dtype=np.complex64).view(np.float32)
            count = chunk.size
        else:
            raise ParameterError(
                f"chunk must be uint8 interleaved I/Q or complex; got {chunk.dtype}")
        if self._kind is None:
            self._start(kind)
        elif kind != self._kind:
            raise ParameterError("every chunk of a stream must be uint8, or every one complex")
        if count == 0:
            return
        if kind == "u8" and (chunk.min() == 0 or chunk.max() == 255):
            # Wrap-around add: 255 -> 0 and 0 -> 1, so one comparison finds both rails.
            at_rail = (chunk + np.uint8(1)) < 2
            self._clipped += int(np.count_nonzero(at_rail.reshape(-1, 2).any(axis=1)))
        self._n_samples += count
        buf = real if self._tail is None else np.concatenate((self._tail, real))
        self._run(buf, final=False)

    def _run(self, buf: np.ndarray, *, final: bool) -> None:
        """Transform the frames ``buf`` holds whole and keep the rest as the tail.

        With FFTW, only whole batches of frames are transformed before the end; the
        last frames wait for the next chunk (or :meth:`finish`) rather than going
        through the slower scipy path one chunk at a time.
        """
        n_buf = buf.size // 2
        lanes = [self._coarse] if self._fine is None else [self._coarse, self._fine]
        fftw = _pyfftw() is not None
        for lane in lanes:
            k = lane.available(n_buf)
            if fftw and not final:
                k -= k % _fftw_rows(lane.n)
            if not k:
                continue
            backend = "fftw" if fftw and k >= _fftw_rows(lane.n) else "scipy"
            if lane is self._coarse:
                transform_frames(buf[2 * lane.pos:], k, lane.n, lane.step, lane.plan,
                                 backend, self._consume)
            else:
                p, sx, sx2 = _accumulate(buf[2 * lane.pos:], k, lane.n, lane.step,
                                         lane.plan, backend)
                lane.power += p
                lane.sum_x += sx
                lane.sum_x2 += sx2
            lane.frames += k
            lane.pos += k * lane.step
        drop = min(n_buf, min(lane.pos for lane in lanes))
        for lane in lanes:
            lane.pos -= drop
        # A copy: the tail must not keep the whole chunk alive.
        self._tail = buf[2 * drop:].copy()

    def _consume(self, x: np.ndarray) -> None:
        """Transformed coarse frames (rows, n) -> the slice being filled and the totals."""
        plan = self._coarse.plan
        rows = x.shape[0]
        xw = x[:, plan.w_bins].astype(np.complex128)
        xw2 = xw.real**2 + xw.imag**2
        f = x.view(np.float32)
        np.multiply(f, f, out=f)
        r = 0
        while r < rows:  # cut where a new slice starts
            m = min(self._slice_frames - self._cur_frames, rows - r)
            np.add(self._cur, np.add.reduce(f[r:r + m], axis=0), out=self._cur)
            self._cur_sx += xw[r:r + m].sum(axis=0)
            self._cur_sx2 += xw2[r:r + m].sum(axis=0)
            self._cur_frames += m
            r += m
            if self._cur_frames == self._slice_frames:
                self._close_slice()

    def _close_slice(self) -> None:
        """The slice being filled is whole: keep it and add it to the total."""
        if self._n_slices == self._slices.shape[0]:
            self._merge_slices()
        if self._cur_frames == self._slice_frames:
            i = self._n_slices
            self._slices[i] = self._cur[0::2] + self._cur[1::2]
            self._slice_sx[i] = self._cur_sx
            self._slice_sx2[i] = self._cur_sx2
            self._n_slices += 1
            self._flush_cur()
        # (after a merge the slice being filled is half of a longer slice: keep filling)

    def _flush_cur(self) -> None:
        np.add(self._total, self._cur, out=self._total)
        self._coarse.sum_x += self._cur_sx
        self._coarse.sum_x2 += self._cur_sx2
        self._cur[:] = 0.0
        self._cur_sx[:] = 0.0
        self._cur_sx2[:] = 0.0
        self._cur_frames = 0

    def _merge_slices(self) -> None:
        """Out of room (a stream of unknown length): pairs of slices become one."""
        m = self._n_slices // 2
        s = self._slices
        s[:m] = s[0:2 * m:2] + s[1:2 * m:2]
        self._slice_sx[:m] = self._slice_sx[0:2 * m:2] + self._slice_sx[1:2 * m:2]
        self._slice_sx2[:m] = self._slice_sx2[0:2 * m:2] + self._slice_sx2[1:2 * m:2]
        self._n_slices = m
        self._slice_frames *= 2

    # -- the result -------------------------------------------------------------------------

    def finish(self, *, overload: bool = False) -> StreamSummary:
        """The spectra, slices and overload of everything fed so far.

        ``overload`` marks the spectrum as taken while the ADC clipped even where the
        input does not show it (e.g. a recording's metadata says so). Call it once:
        the slices are made in the stream's own buffer.

        Raises
        ------
        ParameterError
            If fewer samples than one coarse frame were fed.
        """
        if self._kind is not None and self._tail is not None:
            self._run(self._tail, final=True)  # the frames left waiting for a batch
        if self._kind is None or self._coarse.frames == 0:
            raise ParameterError(
                f"the stream holds {self._n_samples} complex samples, fewer than one frame of "
                f"{self._n}")
        lane = self._coarse
        n_slices = self._n_slices
        last_frames = self._keep_partial_slice()
        if last_frames:
            n_slices += 1
        self._flush_cur()  # frames of a partial last slice count in the block spectrum
        dc = dc_estimate(lane.sum_x, lane.frames, lane.plan)
        fraction = self._clipped / self._n_samples if self._kind == "u8" else None
        clipped = overload or bool(self._clipped)
        station_id, receiver_id = self._ids
        common = dict(sample_rate_hz=self.sample_rate_hz, f_center_hz=self.f_center_hz,
                      t_start_ns=self.t_start_ns, calibration_offset_db=self._cal,
                      station_id=station_id, receiver_id=receiver_id, overload=clipped)
        power = self._total[0::2] + self._total[1::2]
        spectrum = spectrum_from_sums(
            power, lane.sum_x, lane.sum_x2, lane.frames, lane.plan, dc=dc,
            used_samples=lane.n + (lane.frames - 1) * lane.step, **common)
        fine = None
        f = self._fine
        if f is not None and f.frames:
            fine = spectrum_from_sums(
                f.power, f.sum_x, f.sum_x2, f.frames, f.plan,
                dc=dc_estimate(f.sum_x, f.frames, f.plan),
                used_samples=f.n + (f.frames - 1) * f.step, **common)
        slices = self._time_slices(n_slices, dc, last_frames) if n_slices else None
        return StreamSummary(spectrum, fine, slices, fraction, self._n_samples,
                             self.f_center_hz, self.sample_rate_hz,
                             # uint8 sums are of the raw bytes / 128: their zero is 127.5
                             dc=dc - complex(127.5, 127.5) / 128.0 if self._kind == "u8"
                             else dc,
                             calibration_offset_db=float(self._cal or 0.0))

    def _keep_partial_slice(self) -> int:
        """Keep the partial last slice when it is worth one (see :meth:`finish`).

        Kept when its frames span at least half a whole slice's time and hold at
        least :data:`MIN_PARTIAL_FRAMES` frames (as the in-memory reference
        :func:`dsp.slices.compute_time_slices` keeps half a slice): a burst at the very
        end of a short recording is in it. Returns its frame count, 0 when not kept.
        """
        k, whole = self._cur_frames, self._slice_frames
        # a slice of F half-overlapped frames spans F + 1 hops
        if (k >= min(MIN_PARTIAL_FRAMES, whole) and 2 * (k + 1) >= whole + 1
                and k < whole and self._n_slices < self._slices.shape[0]):
            i = self._n_slices
            self._slices[i] = self._cur[0::2] + self._cur[1::2]
            self._slice_sx[i] = self._cur_sx
            self._slice_sx2[i] = self._cur_sx2
            return k
        return 0

    def _time_slices(self, count: int, dc: complex, last_frames: int = 0) -> TimeSlices:
        """The slices in dB on the coarse grid, DC-corrected with the block's DC.

        ``last_frames``: frames of a partial last slice (0: every slice is whole);
        its spectrum is the mean of the frames it has. Converted in place in the
        stream's own slice buffer (no second copy: the stream is done once finished).
        """
        lane = self._coarse
        n, plan, k = lane.n, lane.plan, self._slice_frames
        out = self._slices[:count]
        half = n // 2
        row = np.empty(n, dtype=np.float64)
        for i in range(count):
            frames = last_frames if (last_frames and i == count - 1) else k
            row[:] = out[i]
            dc_corrected(row, self._slice_sx[i], self._slice_sx2[i], frames, plan, dc)
            row *= 1.0 / (frames * plan.sum_w**2)
            out[i, : n - half] = row[half:]
            out[i, n - half:] = row[:half]
        with np.errstate(divide="ignore"):
            np.log10(out, out=out)
        out *= np.float32(10.0)
        np.maximum(out, np.float32(-300.0), out=out)
        if self._cal is not None:
            out += np.float32(self._cal)
        hop_ns = k * lane.step * 1e9 / self.sample_rate_hz
        t = self.t_start_ns + np.round(np.arange(count) * hop_ns).astype(np.int64)
        return TimeSlices(power_db=out, t_start_ns=t, slice_ns=int(round(hop_ns)),
                          n_averages=k)
