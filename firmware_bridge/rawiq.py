"""Raw IQ files with no header: ``.cu8``, ``.cs8``, ``.cs16``/``.ci16``, ``.cf32`` and friends.

A raw file holds interleaved I, Q samples and nothing else, so the sample rate and
centre frequency must come from the user (``--rate``/``--freq``) or from the file
name (rtl_433 writes ``<name>_<fc>M_<fs>k.cu8``, which :func:`rates_from_filename`
reads).

Scaling to complex64 (full scale 1.0)
-------------------------------------
- ``cu8`` (RTL-SDR, rtl_sdr, rtl_433, dump1090): ``(x - 127.5) / 128``. 127.5 is the
  zero of the RTL2832's offset-binary ADC, so the mapping has no DC bias, and the
  range is [-0.996, +0.996] inside [-1, 1). 0 dBFS is a complex sinusoid of
  amplitude 1 after this mapping (the convention of :mod:`dsp.types`).
  This differs from sigmf-python's autoscale ((x - 128) / 128) by half an LSB of DC;
  rfwatch uses its own mapping everywhere so that IQ from files, sockets and dongles
  agree bit for bit.
- ``cs8``: ``x / 128``. ``cs16``/``ci16``: ``x / 32768``. ``cu16``: ``(x - 32767.5) / 32768``.
- ``cf32``: taken as is. ``cf64`` is narrowed to complex64.

Overload: for integer formats a sample at either end of the range (0 or 255 for cu8)
means the ADC clipped, and the recording is flagged.

Extensions understood (:data:`EXTENSION_FORMATS`): the rtl_433/SDR# names (``.cu8``,
``.cs8``, ``.cs16``, ``.cf32``), GNU Radio's ``.cfile`` (cf32), the Universal Radio
Hacker names (``.complex`` = cf32, ``.complex16u`` = cu8, ``.complex16s`` = cs8,
``.complex32s`` = ci16, ``.complex32u`` = cu16) and ``.bin`` = cu8, the default output
of ``rtl_sdr`` and the format of dump1090's test files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dsp.errors import InputFormatError
from firmware_bridge.recording import IQRecording, IQStream
from firmware_bridge.units import check_rf_centre_hz, check_sample_rate_hz

__all__ = [
    "RAW_FORMATS",
    "EXTENSION_FORMATS",
    "format_from_path",
    "rates_from_filename",
    "raw_to_complex64",
    "complex64_to_cu8",
    "cu8_to_complex64",
    "overload_in_raw",
    "overload_fraction_in_raw",
    "read_raw_iq",
    "open_raw_iq",
    "decode_chunk",
    "iter_components",
    "write_raw_iq",
]

#: Canonical raw formats: numpy dtype of one component.
RAW_FORMATS: dict[str, np.dtype] = {
    "cu8": np.dtype(np.uint8),
    "cs8": np.dtype(np.int8),
    "cs16": np.dtype("<i2"),
    "cu16": np.dtype("<u2"),
    "cf32": np.dtype("<f4"),
    "cf64": np.dtype("<f8"),
}
_ALIASES = {"ci16": "cs16", "ci8": "cs8", "cu16": "cu16", "cs16": "cs16"}

#: File extension (lower case, with the dot) -> canonical raw format.
EXTENSION_FORMATS: dict[str, str] = {
    ".cu8": "cu8",
    ".bin": "cu8",
    ".complex16u": "cu8",
    ".cs8": "cs8",
    ".complex16s": "cs8",
    ".cs16": "cs16",
    ".ci16": "cs16",
    ".complex32s": "cs16",
    ".cu16": "cu16",
    ".complex32u": "cu16",
    ".cf32": "cf32",
    ".cfile": "cf32",
    ".complex": "cf32",
    ".fc32": "cf32",
    ".cf64": "cf64",
}

# rtl_433's "g001_433.92M_250k.cu8": centre then rate, each with an SI suffix.
_RTL433_NAME_RE = re.compile(
    r"_(?P<fc>\d+(?:\.\d+)?)(?P<fcu>[kMG])_(?P<fs>\d+(?:\.\d+)?)(?P<fsu>[kMG])(?:\.|$)"
)
_SI = {"k": 1e3, "M": 1e6, "G": 1e9}


def canonical_format(fmt: str) -> str:
    """``"ci16"`` -> ``"cs16"``, ``"CU8"`` -> ``"cu8"``; InputFormatError if unknown."""
    name = fmt.strip().lower().lstrip(".")
    name = _ALIASES.get(name, name)
    if name not in RAW_FORMATS:
        known = ", ".join(sorted(RAW_FORMATS))
        raise InputFormatError(
            f"định dạng IQ không hỗ trợ / unsupported raw IQ format {fmt!r} (known: {known})",
            field="format",
        )
    return name


def format_from_path(path: str | Path) -> str | None:
    """The raw format implied by a file's extension, or ``None`` if it implies none."""
    return EXTENSION_FORMATS.get(Path(path).suffix.lower())


def rates_from_filename(path: str | Path) -> tuple[float | None, float | None]:
    """``(f_center_hz, sample_rate_hz)`` from an rtl_433-style name, else ``(None, None)``.

    >>> rates_from_filename("g001_433.92M_250k.cu8")
    (433920000.0, 250000.0)
    >>> rates_from_filename("capture.cu8")
    (None, None)
    """
    match = _RTL433_NAME_RE.search(Path(path).name)
    if match is None:
        return None, None
    f_center_hz = float(match["fc"]) * _SI[match["fcu"]]
    rate_hz = float(match["fs"]) * _SI[match["fsu"]]
    return round(f_center_hz, 3), round(rate_hz, 3)


def _scale(fmt: str) -> tuple[float, float]:
    """(offset, scale) so that complex = (component - offset) / scale."""
    return {
        "cu8": (127.5, 128.0),
        "cs8": (0.0, 128.0),
        "cs16": (0.0, 32768.0),
        "cu16": (32767.5, 32768.0),
        "cf32": (0.0, 1.0),
        "cf64": (0.0, 1.0),
    }[fmt]


def raw_to_complex64(components: np.ndarray, fmt: str, *, source: str | None = None,
                     first_sample: int = 0) -> np.ndarray:
    """Interleaved I, Q components of ``fmt`` -> complex64 with full scale 1.0.

    Float formats must hold finite values (a NaN or Inf sample, or a cf64 value beyond
    complex64's range, would poison every spectrum it enters): otherwise
    :class:`InputFormatError` names ``source`` and the sample index (counted from
    ``first_sample``, for callers that convert a file in chunks).

    >>> raw_to_complex64(np.array([255, 0, 127, 128], dtype=np.uint8), "cu8")
    array([ 0.99609375-0.99609375j, -0.00390625+0.00390625j], dtype=complex64)
    """
    fmt = canonical_format(fmt)
    if components.size % 2:
        raise InputFormatError("số thành phần lẻ / odd number of I/Q components")
    offset, scale = _scale(fmt)
    with np.errstate(over="ignore"):  # cf64 beyond float32 becomes Inf, refused below
        x = components.astype(np.float32)
    if offset:
        x -= np.float32(offset)
    if scale != 1.0:
        x *= np.float32(1.0 / scale)
    if fmt in ("cf32", "cf64"):
        _check_finite(x, source, first_sample)
    return x.view(np.complex64) if x.flags.c_contiguous else x.copy().view(np.complex64)


def _check_finite(components: np.ndarray, source: str | None, first_sample: int) -> None:
    """Raise naming the first sample that is NaN or infinite (components interleaved)."""
    finite = np.isfinite(components)
    if not finite.all():
        k = int(np.argmin(finite)) // 2 + first_sample
        raise InputFormatError(
            f"mẫu không hữu hạn (NaN/Inf) tại mẫu {k} / sample {k} is not finite (NaN or Inf)",
            source=source, field="samples",
        )


def cu8_to_complex64(raw: np.ndarray) -> np.ndarray:
    """RTL-SDR interleaved uint8 -> complex64, ``(x - 127.5) / 128``."""
    return raw_to_complex64(np.asarray(raw, dtype=np.uint8), "cu8")


def complex64_to_cu8(samples: np.ndarray) -> np.ndarray:
    """complex (full scale 1.0) -> RTL-SDR interleaved uint8, rounding and clipping.

    The inverse of :func:`cu8_to_complex64` for values on the uint8 grid.

    >>> complex64_to_cu8(np.array([0.99609375 - 0.99609375j], dtype=np.complex64))
    array([255,   0], dtype=uint8)
    """
    c = np.asarray(samples, dtype=np.complex64)
    inter = np.empty(2 * c.size, dtype=np.float32)
    inter[0::2] = c.real
    inter[1::2] = c.imag
    inter = inter * np.float32(128.0) + np.float32(127.5)
    return np.clip(np.rint(inter), 0, 255).astype(np.uint8)


def overload_in_raw(components: np.ndarray, fmt: str) -> bool:
    """True when an integer-format component sits at either end of its range."""
    fmt = canonical_format(fmt)
    if fmt in ("cf32", "cf64") or components.size == 0:
        return False
    info = np.iinfo(RAW_FORMATS[fmt])
    return bool(components.min() <= info.min or components.max() >= info.max)


def overload_fraction_in_raw(components: np.ndarray, fmt: str) -> float | None:
    """Fraction of complex samples whose I or Q sits at either end of an integer
    format's range (``None`` for float formats)."""
    fmt = canonical_format(fmt)
    if fmt in ("cf32", "cf64"):
        return None
    if components.size < 2:
        return 0.0
    info = np.iinfo(RAW_FORMATS[fmt])
    rail = (components <= info.min) | (components >= info.max)
    return float(np.count_nonzero(rail[: rail.size // 2 * 2].reshape(-1, 2).any(axis=1))
                 / (rail.size // 2))


def read_raw_iq(
    path: str | Path,
    *,
    sample_rate_hz: float | None = None,
    f_center_hz: float | None = None,
    fmt: str | None = None,
    t_start_ns: int | None = None,
    max_samples: int | None = None,
    receiver_id: str = "",
) -> IQRecording:
    """Read a headerless IQ file into an :class:`IQRecording`.

    Parameters
    ----------
    path:
        The file. Its extension picks the format unless ``fmt`` is given.
    sample_rate_hz, f_center_hz:
        Complex sample rate and RF centre (Hz). When ``None`` they are taken from an
        rtl_433-style file name (``..._433.92M_250k.cu8``); if that fails too, an
        ``InputFormatError`` asks for ``--rate``/``--freq``.
    fmt:
        ``cu8``, ``cs8``, ``cs16``/``ci16``, ``cu16``, ``cf32`` or ``cf64``.
    t_start_ns:
        UTC start (ns). Raw files carry no time, so by default the file's modification
        time is used (the end of a capture, to within its duration).
    max_samples:
        Read at most this many complex samples from the start.

    Raises
    ------
    InputFormatError
        Unknown format, missing rate/frequency, empty file, or a size that is not a
        whole number of complex samples.
    """
    path = Path(path)
    source = str(path)
    name = fmt if fmt is not None else format_from_path(path)
    if name is None:
        raise InputFormatError(
            "không biết định dạng IQ từ đuôi tệp / cannot tell the IQ format from the "
            f"extension {path.suffix!r}: give --format (cu8, cs8, cs16, cf32)",
            source=source,
        )
    fmt = canonical_format(name)
    name_fc, name_fs = rates_from_filename(path)
    sample_rate_hz = sample_rate_hz if sample_rate_hz is not None else name_fs
    f_center_hz = f_center_hz if f_center_hz is not None else name_fc
    if sample_rate_hz is None:
        raise InputFormatError(
            "tệp IQ thô không ghi tốc độ lấy mẫu / a raw IQ file has no sample rate: "
            "give --rate (e.g. --rate 2.4M)",
            source=source,
            field="rate",
        )
    if f_center_hz is None:
        raise InputFormatError(
            "tệp IQ thô không ghi tần số trung tâm / a raw IQ file has no centre "
            "frequency: give --freq (e.g. --freq 433.92M)",
            source=source,
            field="freq",
        )
    sample_rate_hz = check_sample_rate_hz(sample_rate_hz, source=source, field="rate")
    f_center_hz = check_rf_centre_hz(f_center_hz, sample_rate_hz, source=source, field="freq")
    dtype = RAW_FORMATS[fmt]
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InputFormatError(
            f"không đọc được tệp / cannot read file: {err}", source=source
        ) from err
    sample_bytes = 2 * dtype.itemsize
    if size == 0:
        raise InputFormatError("tệp rỗng / empty file", source=source)
    if size % sample_bytes:
        raise InputFormatError(
            f"kích thước {size} B không chia hết cho {sample_bytes} B/mẫu / size is not a "
            f"whole number of {fmt} samples ({sample_bytes} B each): wrong --format?",
            source=source,
        )
    count = -1 if max_samples is None else 2 * int(max_samples)
    components = np.fromfile(path, dtype=dtype, count=count)
    if t_start_ns is None:
        t_start_ns = path.stat().st_mtime_ns
    return IQRecording(
        source=source,
        samples=raw_to_complex64(components, fmt, source=source),
        sample_rate_hz=float(sample_rate_hz),
        f_center_hz=float(f_center_hz),
        t_start_ns=int(t_start_ns),
        receiver_id=receiver_id,
        overload=overload_in_raw(components, fmt),
        overload_fraction=overload_fraction_in_raw(components, fmt),
    )


def write_raw_iq(path: str | Path, samples: np.ndarray, fmt: str = "cu8") -> None:
    """Write complex samples (full scale 1.0) as a headerless ``cu8`` or ``cf32`` file."""
    fmt = canonical_format(fmt)
    if fmt == "cu8":
        complex64_to_cu8(samples).tofile(path)
    elif fmt == "cf32":
        np.asarray(samples, dtype=np.complex64).tofile(path)
    else:
        raise InputFormatError(f"chỉ ghi cu8 hoặc cf32 / can only write cu8 or cf32, not {fmt}")


def decode_chunk(components: np.ndarray, fmt: str, *, source: str = "") -> np.ndarray:
    """One chunk of raw components -> what :class:`dsp.stream.SpectrumStream` takes.

    ``cu8`` (and ``"raw"``: left as read) stays as it is; ``cs8`` becomes uint8 on
    the same offset-binary grid (``x ^ 0x80``: -128..127 -> 0..255, a half-LSB DC
    shift that the spectrum's DC removal takes out, and the rails stay the rails); the
    others become complex64 with full
    scale 1.0 (floats must be finite).

    >>> decode_chunk(np.array([-128, 127], dtype=np.int8), "cs8")
    array([  0, 255], dtype=uint8)
    """
    if fmt in ("cu8", "raw"):
        return components
    if fmt == "cs8":
        return components.view(np.uint8) ^ np.uint8(0x80)
    if fmt in ("cf32", "cf64") and not np.isfinite(components).all():
        bad = int(np.flatnonzero(~np.isfinite(components))[0]) // 2
        raise InputFormatError(
            f"mẫu không hữu hạn (NaN/Inf) / a sample is not finite (NaN or Inf) near sample "
            f"{bad} of this chunk", source=source or None, field="samples")
    return raw_to_complex64(components, fmt)


def iter_components(
    path: Path, dtype: np.dtype, *, offset_bytes: int, start: int, count: int,
    chunk_samples: int, fmt: str, channels: int = 1, channel: int = 0,
) -> Iterator[np.ndarray]:
    """Read ``count`` complex samples from ``start`` in chunks, decoded (:func:`decode_chunk`).

    ``offset_bytes`` is where sample 0 begins; ``channels`` interleaved channels of
    which ``channel`` is kept.
    """
    sample_bytes = 2 * dtype.itemsize * channels
    with open(path, "rb") as fh:
        fh.seek(offset_bytes + start * sample_bytes)
        left = count
        while left > 0:
            k = min(chunk_samples, left)
            comps = np.fromfile(fh, dtype=dtype, count=2 * k * channels)
            if comps.size < 2 * k * channels:
                k = comps.size // (2 * channels)
                comps = comps[: 2 * k * channels]
                left = k  # the file is shorter than its header said: stop after this
            if k == 0:
                return
            if channels > 1:
                comps = np.ascontiguousarray(comps.reshape(k, channels, 2)[:, channel].ravel())
            left -= k
            yield decode_chunk(comps, fmt, source=str(path))


def open_raw_iq(
    path: str | Path,
    *,
    sample_rate_hz: float | None = None,
    f_center_hz: float | None = None,
    fmt: str | None = None,
    t_start_ns: int | None = None,
    max_samples: int | None = None,
    receiver_id: str = "",
) -> IQStream:
    """Open a headerless IQ file for reading in chunks (:class:`IQStream`); loads nothing.

    The same checks and metadata as :func:`read_raw_iq` (which reads the first
    samples to make them); arguments as there.
    """
    path = Path(path)
    head = read_raw_iq(path, sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz,
                       fmt=fmt, t_start_ns=t_start_ns, max_samples=64, receiver_id=receiver_id)
    name = canonical_format(fmt if fmt is not None else (format_from_path(path) or ""))
    dtype = RAW_FORMATS[name]
    n_samples = path.stat().st_size // (2 * dtype.itemsize)
    if max_samples is not None:
        n_samples = min(n_samples, int(max_samples))

    def read_chunks(start: int, count: int, chunk_samples: int) -> Iterator[np.ndarray]:
        return iter_components(path, dtype, offset_bytes=0, start=start, count=count,
                               chunk_samples=chunk_samples, fmt=name)

    return IQStream(
        source=head.source, sample_rate_hz=head.sample_rate_hz, f_center_hz=head.f_center_hz,
        t_start_ns=head.t_start_ns, n_samples=n_samples, read_chunks=read_chunks,
        receiver_id=head.receiver_id, gain_db=head.gain_db, overload=False,
    )
