"""SigMF recordings: read any complex SigMF file, write ours as evidence.

Reading and writing go through the ``sigmf`` package (schema validation, the
sha512 of the dataset, datatype parsing); only the scaling of fixed-point samples is
ours, so that ``cu8`` maps to complex exactly as RTL-SDR blocks do everywhere else
in rfwatch (``(x - 127.5) / 128``, see :mod:`firmware_bridge.rawiq`).

What we write
-------------
- ``global``: ``core:datatype`` (``cf32_le`` or ``cu8``), ``core:sample_rate``,
  ``core:version``, ``core:num_channels`` 1, ``core:sha512``, ``core:recorder``,
  ``core:description``, ``core:hw``, ``core:author``, ``core:geolocation`` (GeoJSON
  point, when known) and ``core:extensions`` declaring the ``rfwatch`` namespace
  (optional, so other tools may ignore it), plus ``rfwatch:receiver_id``,
  ``rfwatch:station_id``, ``rfwatch:gain_db`` and ``rfwatch:overload``.
- ``captures``: one, at sample 0, with ``core:frequency`` (Hz) and ``core:datetime``
  (RFC 3339, UTC ``Z``, nanosecond digits).
- ``annotations``: one per :class:`dsp.types.Emission`, sorted by ``core:sample_start``,
  with ``core:freq_lower_edge``/``core:freq_upper_edge`` (absolute RF Hz, the 99 %
  bandwidth), ``core:label`` (at most 20 characters) and the measured values under
  ``rfwatch:`` keys (:data:`EMISSION_KEYS`).

Every file written here passes ``sigmf.validate`` with the extension declared, so
sigmf raises no "undeclared extension" warning either.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

import numpy as np

from dsp.errors import InputFormatError
from dsp.types import Emission, GeoPosition
from firmware_bridge.rawiq import complex64_to_cu8, cu8_to_complex64, iter_components
from firmware_bridge.recording import IQRecording, IQStream
from firmware_bridge.units import check_rf_centre_hz, check_sample_rate_hz

__all__ = [
    "RFWATCH_NS",
    "RFWATCH_EXTENSION_VERSION",
    "EMISSION_KEYS",
    "read_sigmf",
    "open_sigmf",
    "write_sigmf",
    "SigMFWriter",
    "sigmf_paths",
    "ns_to_sigmf_datetime",
    "sigmf_datetime_to_ns",
    "emission_from_annotation",
]

#: Our SigMF extension namespace and its version (declared in ``core:extensions``).
RFWATCH_NS = "rfwatch"
RFWATCH_EXTENSION_VERSION = "0.1.0"

#: Emission attribute -> SigMF annotation key of our namespace.
EMISSION_KEYS: dict[str, str] = {
    "f_hz": "rfwatch:f_hz",
    "bw_99_hz": "rfwatch:bw_99_hz",
    "bw_xdb_hz": "rfwatch:bw_xdb_hz",
    "x_db": "rfwatch:x_db",
    "power_db": "rfwatch:power_db",
    "peak_power_db": "rfwatch:peak_power_db",
    "snr_db": "rfwatch:snr_db",
    "noise_floor_db": "rfwatch:noise_floor_db",
    "power_unit": "rfwatch:power_unit",
    "f_resolution_hz": "rfwatch:f_resolution_hz",
    "t_first_ns": "rfwatch:t_first_ns",
    "t_last_ns": "rfwatch:t_last_ns",
    "f_xdb_mid_hz": "rfwatch:f_xdb_mid_hz",
    "e_dbuv_m": "rfwatch:e_dbuv_m",
    "station_id": "rfwatch:station_id",
    "receiver_id": "rfwatch:receiver_id",
    "flags": "rfwatch:flags",
}

_KEY_RECEIVER_ID = "rfwatch:receiver_id"
_KEY_STATION_ID = "rfwatch:station_id"
_KEY_GAIN_DB = "rfwatch:gain_db"
_KEY_OVERLOAD = "rfwatch:overload"

_DATETIME_RE = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](?P<frac>\d+))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)

WriteDatatype = Literal["cf32_le", "cu8"]


def sigmf_paths(path: str | Path) -> tuple[Path, Path]:
    """``(meta, data)`` paths of a recording given either file or the bare stem."""
    path = Path(path)
    name = path.name
    for ext in (".sigmf-meta", ".sigmf-data"):
        if name.endswith(ext):
            stem = path.with_name(name[: -len(ext)])
            break
    else:
        stem = path
    return stem.with_name(stem.name + ".sigmf-meta"), stem.with_name(stem.name + ".sigmf-data")


def ns_to_sigmf_datetime(t_ns: int) -> str:
    """UTC ns since the epoch -> ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ``.

    >>> ns_to_sigmf_datetime(1_700_000_000_123_456_789)
    '2023-11-14T22:13:20.123456789Z'
    """
    seconds, frac_ns = divmod(int(t_ns), 1_000_000_000)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac_ns:09d}Z"


def sigmf_datetime_to_ns(text: str, *, source: str | None = None) -> int:
    """RFC 3339 datetime (as SigMF writes it) -> UTC ns, keeping every fractional digit
    down to the nanosecond.

    >>> sigmf_datetime_to_ns("2021-06-18T23:17:51.163959Z")
    1624058271163959000
    """
    match = _DATETIME_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InputFormatError(
            f"core:datetime không đúng RFC 3339 / not an RFC 3339 datetime: {text!r}",
            source=source,
            field="core:datetime",
        )
    tz = match["tz"] or "Z"
    iso = match["base"] + ("+00:00" if tz == "Z" else tz)
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError as err:
        raise InputFormatError(
            f"core:datetime không hợp lệ / invalid datetime {text!r}: {err}",
            source=source,
            field="core:datetime",
        ) from err
    frac = (match["frac"] or "")[:9].ljust(9, "0")
    return int(dt.timestamp()) * 1_000_000_000 + int(frac)


def _fixed_point_scale(info: dict) -> tuple[float, float]:
    """(offset, scale) of a SigMF fixed-point datatype, our convention (rawiq)."""
    bits = 8 * info["component_size"]
    half = float(2 ** (bits - 1))
    return (half - 0.5 if info["is_unsigned"] else 0.0), half


def read_sigmf(
    path: str | Path,
    *,
    f_center_hz: float | None = None,
    channel: int = 0,
    max_samples: int | None = None,
    skip_checksum: bool = False,
) -> IQRecording:
    """Read a SigMF recording (``.sigmf-meta``, ``.sigmf-data`` or ``.sigmf`` archive).

    Parameters
    ----------
    path:
        Either file of the pair, or an archive.
    f_center_hz:
        Centre frequency (Hz) to use when the captures carry no ``core:frequency``.
    channel:
        Which channel of a multi-channel recording to return.
    max_samples:
        Return at most this many samples from the start.
    skip_checksum:
        Do not recompute the dataset's sha512 (faster for large files).

    Returns
    -------
    IQRecording
        complex64 samples with full scale 1.0; ``t_start_ns`` from the first capture's
        ``core:datetime`` (0 if absent); the file's annotations as dicts. When the
        captures are at different frequencies only the first capture is returned.

    Raises
    ------
    InputFormatError
        Missing or unreadable files, schema violations (naming the field), a sha512
        mismatch, a real-valued datatype (rfwatch needs complex IQ), or no frequency.
    """
    source = str(path)
    try:
        return _read_sigmf(path, f_center_hz=f_center_hz, channel=channel,
                           max_samples=max_samples, skip_checksum=skip_checksum)
    except InputFormatError:
        raise
    except _METADATA_ERRORS as err:
        # Metadata that passes the schema can still be unusable (e.g. captures past
        # the end of the data); sigmf-python then fails with a plain Python error.
        raise InputFormatError(
            f"siêu dữ liệu SigMF không dùng được / unusable SigMF metadata: "
            f"{type(err).__name__}: {err}",
            source=source,
        ) from err


#: What sigmf-python may raise on metadata it cannot use.
_METADATA_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError,
                    ZeroDivisionError, OverflowError, OSError, RecursionError)


def _schema_error(err: Exception, meta_path: Path) -> InputFormatError:
    where = "/".join(str(p) for p in getattr(err, "absolute_path", ())) or None
    return InputFormatError(
        f"siêu dữ liệu SigMF sai lược đồ / metadata fails the SigMF schema: "
        f"{getattr(err, 'message', err)}",
        source=str(meta_path),
        field=where,
    )


def _prevalidate(meta_path: Path) -> None:
    """Parse and schema-check the metadata before sigmf-python builds objects from it."""
    import jsonschema
    from sigmf import validate as sigmf_validate

    try:
        text = meta_path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise InputFormatError("thiếu tệp .sigmf-meta / the metadata file is missing",
                               source=str(meta_path)) from err
    except (OSError, UnicodeDecodeError) as err:
        raise InputFormatError(f"không đọc được / cannot read: {err}",
                               source=str(meta_path)) from err
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputFormatError(
            f"siêu dữ liệu không phải JSON / metadata is not JSON: {err.msg}",
            source=str(meta_path),
            line=err.lineno,
        ) from err
    except RecursionError as err:  # nesting deeper than the interpreter's stack
        raise InputFormatError(
            f"JSON lồng quá sâu / JSON nested deeper than {MAX_JSON_DEPTH} levels",
            source=str(meta_path),
        ) from err
    if not isinstance(doc, dict):
        raise InputFormatError("siêu dữ liệu phải là một đối tượng JSON / metadata must be a "
                               "JSON object", source=str(meta_path))
    # Checked before the schema: jsonschema and sigmf-python recurse into the document.
    _check_depth(doc, meta_path)
    try:
        with warnings.catch_warnings():
            # Other tools' undeclared extensions are their business, not an error.
            warnings.simplefilter("ignore", DeprecationWarning)
            sigmf_validate.validate(doc)
    except jsonschema.exceptions.ValidationError as err:
        raise _schema_error(err, meta_path) from err
    except KeyError as err:  # a section the schema does not require but sigmf reads
        raise InputFormatError(f"thiếu mục / missing section {err}", source=str(meta_path),
                               field=str(err.args[0])) from err
    _check_values(doc, meta_path)


#: Deepest nesting of objects and arrays accepted in a ``.sigmf-meta`` file. SigMF's
#: own structure is 3 levels deep; extensions may add a few.
MAX_JSON_DEPTH = 32


def _check_depth(doc: object, meta_path: Path) -> None:
    """Refuse documents nested deeper than :data:`MAX_JSON_DEPTH` (iteratively)."""
    stack: list[tuple[object, int, str]] = [(doc, 1, "")]
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputFormatError(
                f"JSON lồng quá sâu / JSON nested deeper than {MAX_JSON_DEPTH} levels",
                source=str(meta_path), field=where or None,
            )
        if isinstance(node, dict):
            stack.extend((v, depth + 1, k if not where else where) for k, v in node.items()
                         if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1, where) for v in node if isinstance(v, dict | list))


def _check_values(doc: dict, meta_path: Path) -> None:
    """Check the values rfwatch uses where they enter: rate, frequency, sample_start.

    The schema checks types only: a ``core:sample_rate`` of 1e-300, a
    ``core:frequency`` of 0 or below (emissions at negative frequencies) or a
    ``core:sample_start`` past the end of the dataset pass it.
    """
    glob = doc.get("global")
    captures = doc.get("captures")
    if not isinstance(glob, dict) or not isinstance(captures, list):
        return  # the schema check reports these
    rate = glob.get("core:sample_rate")
    if rate is not None:
        rate = check_sample_rate_hz(rate, source=str(meta_path), field="core:sample_rate")
    n_samples = _dataset_samples(glob, meta_path)
    for i, cap in enumerate(captures):
        if not isinstance(cap, dict):
            continue
        freq = cap.get("core:frequency")
        if freq is not None and rate is not None:
            check_rf_centre_hz(freq, rate, source=str(meta_path),
                               field=f"captures[{i}].core:frequency")
        start = cap.get("core:sample_start")
        if (n_samples is not None and isinstance(start, int) and not isinstance(start, bool)
                and start >= max(n_samples, 1)):
            raise InputFormatError(
                f"core:sample_start {start} vượt quá dữ liệu ({n_samples} mẫu) / is past the "
                f"end of the dataset ({n_samples} samples)",
                source=str(meta_path), field=f"captures[{i}].core:sample_start",
            )


def _dataset_samples(glob: dict, meta_path: Path) -> int | None:
    """Samples per channel in the ``.sigmf-data`` beside ``meta_path``; None if unknown."""
    from sigmf import error as sigmf_error
    from sigmf.sigmffile import dtype_info

    data_path = meta_path.with_suffix(".sigmf-data")
    try:
        info = dtype_info(str(glob.get("core:datatype", "")))
        size = data_path.stat().st_size
    except (sigmf_error.SigMFError, OSError, TypeError, ValueError, KeyError):
        return None  # reported where the datatype or the dataset is read
    channels = glob.get("core:num_channels", 1)
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        return None
    return size // (int(info["sample_size"]) * channels)


def _read_sigmf(
    path: str | Path,
    *,
    f_center_hz: float | None,
    channel: int,
    max_samples: int | None,
    skip_checksum: bool,
) -> IQRecording:
    import jsonschema
    import sigmf
    from sigmf import error as sigmf_error
    from sigmf.sigmffile import dtype_info

    source = str(path)
    meta_path, _ = sigmf_paths(path)
    is_archive = ".sigmf" in Path(path).suffixes and not Path(path).name.endswith(
        (".sigmf-meta", ".sigmf-data"))
    if not is_archive:
        _prevalidate(meta_path)
    try:
        handle = sigmf.fromfile(str(path), skip_checksum=skip_checksum, autoscale=False)
    except sigmf_error.SigMFError as err:
        raise InputFormatError(
            f"tệp SigMF hỏng / bad SigMF recording: {err}", source=source
        ) from err
    except json.JSONDecodeError as err:
        raise InputFormatError(
            f"siêu dữ liệu không phải JSON / metadata is not JSON: {err.msg}",
            source=str(meta_path),
            line=err.lineno,
        ) from err
    if not isinstance(handle, sigmf.SigMFFile):
        raise InputFormatError("tập hợp SigMF chưa hỗ trợ / SigMF collections are not supported",
                               source=source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            handle.validate()
    except jsonschema.exceptions.ValidationError as err:
        raise _schema_error(err, meta_path) from err

    glob = handle.get_global_info()
    datatype = glob.get("core:datatype", "")
    try:
        info = dtype_info(datatype)
    except sigmf_error.SigMFError as err:
        raise InputFormatError(str(err), source=str(meta_path), field="core:datatype") from err
    if not info["is_complex"]:
        raise InputFormatError(
            f"dữ liệu thực {datatype}, không phải IQ phức / datatype {datatype} is real-valued; "
            "rfwatch needs complex IQ (c… datatypes)",
            source=str(meta_path),
            field="core:datatype",
        )
    rate = glob.get("core:sample_rate")
    if rate is None:
        raise InputFormatError("thiếu tốc độ lấy mẫu / no core:sample_rate",
                               source=str(meta_path), field="core:sample_rate")
    rate = check_sample_rate_hz(rate, source=str(meta_path), field="core:sample_rate")
    n_channels = int(glob.get("core:num_channels", 1))
    if not 0 <= channel < n_channels:
        raise InputFormatError(f"không có kênh {channel} / no channel {channel} "
                               f"(the recording has {n_channels})", source=source, field="channel")
    if handle.data_file is None:
        raise InputFormatError("thiếu tệp .sigmf-data / the dataset file is missing", source=source)

    captures = handle.get_captures()
    first = captures[0] if captures else {}
    freqs = {c.get("core:frequency") for c in captures}
    if len(freqs) > 1:
        start = handle.get_capture_start(0)
        end = handle.get_capture_start(1)
        count = end - start
    else:
        start, count = 0, handle.sample_count
    if max_samples is not None:
        count = min(count, int(max_samples))
    if count <= 0:
        raise InputFormatError("không có mẫu nào / the dataset holds no samples", source=source)
    raw = handle.read_samples(start_index=start, count=count)
    if raw.ndim == 2:
        raw = raw[:, channel]
    samples = np.ascontiguousarray(raw, dtype=np.complex64)
    overload = False
    fraction = None
    if info["is_fixedpoint"]:
        offset, scale = _fixed_point_scale(info)
        comps = samples.view(np.float32)
        lo, hi = (0.0, 2 * scale - 1) if info["is_unsigned"] else (-scale, scale - 1)
        overload = bool(comps.size and (comps.min() <= lo or comps.max() >= hi))
        rail = ((comps <= lo) | (comps >= hi)).reshape(-1, 2).any(axis=1)
        fraction = float(rail.mean()) if rail.size else 0.0
        comps -= np.float32(offset)
        comps *= np.float32(1.0 / scale)
    freq = first.get("core:frequency", f_center_hz)
    if freq is None:
        raise InputFormatError(
            "không có core:frequency trong captures / the captures give no core:frequency: "
            "give --freq",
            source=str(meta_path),
            field="core:frequency",
        )
    freq = check_rf_centre_hz(freq, rate, source=str(meta_path), field="core:frequency")
    if not info["is_fixedpoint"] and not np.isfinite(samples.view(np.float32)).all():
        k = int(np.argmin(np.isfinite(samples.view(np.float32)))) // 2 + start
        raise InputFormatError(
            f"mẫu không hữu hạn (NaN/Inf) tại mẫu {k} / sample {k} is not finite (NaN or Inf)",
            source=source, field="samples",
        )
    t_start_ns = 0
    if "core:datetime" in first:
        t_start_ns = sigmf_datetime_to_ns(first["core:datetime"], source=str(meta_path))
    gain = glob.get(_KEY_GAIN_DB)
    return IQRecording(
        source=source,
        samples=samples,
        sample_rate_hz=float(rate),
        f_center_hz=float(freq),
        t_start_ns=t_start_ns,
        receiver_id=str(glob.get(_KEY_RECEIVER_ID, "")),
        gain_db=float(gain) if isinstance(gain, int | float) else None,
        overload=overload or bool(glob.get(_KEY_OVERLOAD, False)),
        overload_fraction=fraction,
        annotations=tuple(dict(a) for a in handle.get_annotations()),
    )


def _label(emission: Emission) -> str:
    """A short (<= 20 characters) label: the centre in MHz."""
    return f"{emission.f_hz / 1e6:.4f} MHz"[:20]


def _emission_annotation(
    emission: Emission, *, t_start_ns: int, sample_rate_hz: float, n_samples: int
) -> tuple[int, int, dict]:
    """(sample_start, sample_count, metadata) of one emission's annotation."""
    def to_index(t_ns: int) -> int:
        return int(round((t_ns - t_start_ns) * sample_rate_hz / 1e9))

    last = max(n_samples - 1, 0)
    start = min(max(to_index(emission.t_first_ns), 0), last)
    end = min(max(to_index(emission.t_last_ns), start + 1), n_samples)
    meta: dict = {
        "core:freq_lower_edge": float(emission.f_low_hz),
        "core:freq_upper_edge": float(emission.f_high_hz),
        "core:label": _label(emission),
        "core:generator": "rfwatch",
    }
    for attr, key in EMISSION_KEYS.items():
        value = getattr(emission, attr)
        if value is None or value == "":
            continue
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            continue  # JSON has no NaN/inf; leave the key out
        meta[key] = value
    return start, max(end - start, 1), meta


class SigMFWriter:
    """Stream IQ blocks into a SigMF pair; the metadata is written on :meth:`close`.

    Used by ``rfwatch record`` so a long capture never sits in memory. Blocks may be
    RTL-SDR interleaved uint8 or complex (full scale 1.0); they are converted to the
    file's datatype (``cu8`` keeps dongle bytes exactly; ``cf32_le`` is lossless for
    complex input).

    Parameters
    ----------
    path:
        ``X.sigmf-meta`` (or ``X.sigmf-data``, or the stem ``X``).
    sample_rate_hz, f_center_hz, t_start_ns:
        The recording's rate, RF centre (Hz) and UTC start (ns); ``t_start_ns`` may be
        ``None`` and is then taken from the first block written.
    datatype:
        ``"cf32_le"`` (default) or ``"cu8"``.
    overwrite:
        Replace existing files instead of raising ``InputFormatError``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        sample_rate_hz: float,
        f_center_hz: float,
        t_start_ns: int | None = None,
        datatype: WriteDatatype = "cf32_le",
        description: str = "",
        hw: str = "",
        author: str = "",
        receiver_id: str = "",
        station_id: str = "",
        gain_db: float | None = None,
        position: GeoPosition | None = None,
        overwrite: bool = False,
    ) -> None:
        if datatype not in ("cf32_le", "cu8"):
            raise InputFormatError(
                f"chỉ ghi cf32_le hoặc cu8 / can write cf32_le or cu8, not {datatype!r}",
                field="datatype",
            )
        if not sample_rate_hz > 0:
            raise InputFormatError("sample_rate_hz phải > 0 / must be > 0", field="sample_rate_hz")
        self.meta_path, self.data_path = sigmf_paths(path)
        if not overwrite:
            for p in (self.meta_path, self.data_path):
                if p.exists():
                    raise InputFormatError(
                        "tệp đã có / file exists (use --overwrite)", source=str(p)
                    )
        self.sample_rate_hz = float(sample_rate_hz)
        self.f_center_hz = float(f_center_hz)
        self.t_start_ns = t_start_ns
        self.datatype: WriteDatatype = datatype
        self.description = description
        self.hw = hw
        self.author = author
        self.receiver_id = receiver_id
        self.station_id = station_id
        self.gain_db = gain_db
        self.position = position
        self.overload = False
        self.n_samples = 0
        self._annotations: list[Emission] = []
        self.meta_path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] | None = open(self.data_path, "wb")  # noqa: SIM115 - closed in close()

    def write(self, samples: np.ndarray, *, t_start_ns: int | None = None,
              overload: bool = False) -> None:
        """Append samples: uint8 interleaved (RTL-SDR) or complex (full scale 1.0)."""
        if self._fh is None:
            raise InputFormatError("bộ ghi đã đóng / writer is closed")
        if self.t_start_ns is None and t_start_ns is not None:
            self.t_start_ns = int(t_start_ns)
        samples = np.asarray(samples)
        if samples.dtype == np.uint8:
            if samples.size % 2:
                raise InputFormatError("số byte lẻ / odd number of uint8 components")
            clipped = bool(samples.size and (samples.min() == 0 or samples.max() == 255))
            self.overload |= bool(overload or clipped)
            n = samples.size // 2
            data = samples if self.datatype == "cu8" else cu8_to_complex64(samples)
        else:
            c = samples.astype(np.complex64, copy=False)
            n = c.size
            self.overload |= bool(overload)
            data = complex64_to_cu8(c) if self.datatype == "cu8" else c
        self._fh.write(np.ascontiguousarray(data).tobytes())
        self.n_samples += n

    def write_block(self, block) -> None:  # noqa: ANN001 - dsp.types.IQBlock
        """Append an :class:`dsp.types.IQBlock` (its time and overload flag are kept)."""
        self.write(block.samples, t_start_ns=block.t_start_ns, overload=block.overload)

    def annotate(self, emissions: Sequence[Emission]) -> None:
        """Add one annotation per emission (written on close)."""
        self._annotations.extend(emissions)

    def close(self) -> Path:
        """Close the dataset, write and validate the metadata; return the meta path."""
        if self._fh is None:
            return self.meta_path
        self._fh.close()
        self._fh = None
        return self._write_meta()

    def _write_meta(self) -> Path:
        import jsonschema
        import sigmf

        t_start_ns = self.t_start_ns if self.t_start_ns is not None else 0
        glob: dict = {
            "core:datatype": self.datatype,
            "core:sample_rate": self.sample_rate_hz,
            "core:version": sigmf.__specification__,
            "core:num_channels": 1,
            "core:recorder": "rfwatch",
            "core:extensions": [
                {"name": RFWATCH_NS, "version": RFWATCH_EXTENSION_VERSION, "optional": True}
            ],
            _KEY_OVERLOAD: bool(self.overload),
        }
        for key, value in (
            ("core:description", self.description),
            ("core:hw", self.hw),
            ("core:author", self.author),
            (_KEY_RECEIVER_ID, self.receiver_id),
            (_KEY_STATION_ID, self.station_id),
        ):
            if value:
                glob[key] = value
        if self.gain_db is not None:
            glob[_KEY_GAIN_DB] = float(self.gain_db)
        if self.position is not None:
            coords = [float(self.position.lon_deg), float(self.position.lat_deg)]
            if self.position.alt_m is not None:
                coords.append(float(self.position.alt_m))
            glob["core:geolocation"] = {"type": "Point", "coordinates": coords}
        handle = sigmf.SigMFFile(global_info=glob)
        handle.set_data_file(str(self.data_path))  # computes core:sha512
        handle.add_capture(0, metadata={
            "core:frequency": self.f_center_hz,
            "core:datetime": ns_to_sigmf_datetime(t_start_ns),
        })
        rows = [
            _emission_annotation(e, t_start_ns=t_start_ns, sample_rate_hz=self.sample_rate_hz,
                                 n_samples=self.n_samples)
            for e in self._annotations
        ]
        # SigMF wants annotations in sample_start order; frequency breaks ties.
        rows.sort(key=lambda r: (r[0], r[2]["core:freq_lower_edge"]))
        for start, count, meta in rows:
            handle.add_annotation(start, count, metadata=meta)
        try:
            handle.validate()
        except jsonschema.exceptions.ValidationError as err:
            raise InputFormatError(
                f"siêu dữ liệu không hợp lệ / metadata would be invalid: {err.message}",
                source=str(self.meta_path),
            ) from err
        with open(self.meta_path, "w", encoding="utf-8") as fh:
            handle.dump(fh, pretty=True)
            fh.write("\n")
        return self.meta_path

    def __enter__(self) -> SigMFWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        elif self._fh is not None:
            self._fh.close()
            self._fh = None


def write_sigmf(
    path_meta: str | Path,
    samples: np.ndarray,
    *,
    sample_rate_hz: float,
    f_center_hz: float,
    t_start_ns: int,
    annotations: Sequence[Emission] = (),
    description: str = "",
    hw: str = "",
    author: str = "",
    receiver_id: str = "",
    station_id: str = "",
    gain_db: float | None = None,
    position: GeoPosition | None = None,
    overload: bool = False,
    datatype: WriteDatatype = "cf32_le",
    overwrite: bool = False,
) -> Path:
    """Write one recording (and one annotation per emission) as a SigMF pair.

    Parameters
    ----------
    path_meta:
        ``X.sigmf-meta`` (``X.sigmf-data`` is written beside it).
    samples:
        complex samples (full scale 1.0) or RTL-SDR interleaved uint8.
    sample_rate_hz, f_center_hz, t_start_ns:
        Complex sample rate (Hz), RF centre (Hz), UTC start of sample 0 (ns).
    annotations:
        Emissions found in the recording; each becomes an annotation with its 99 %
        band edges and our measured values (``rfwatch:`` keys).
    datatype:
        ``"cf32_le"`` (lossless) or ``"cu8"`` (RTL-SDR bytes, 4x smaller).

    Returns
    -------
    Path
        The metadata file written.
    """
    with SigMFWriter(
        path_meta,
        sample_rate_hz=sample_rate_hz,
        f_center_hz=f_center_hz,
        t_start_ns=t_start_ns,
        datatype=datatype,
        description=description,
        hw=hw,
        author=author,
        receiver_id=receiver_id,
        station_id=station_id,
        gain_db=gain_db,
        position=position,
        overwrite=overwrite,
    ) as writer:
        writer.write(samples, overload=overload)
        writer.annotate(annotations)
    return writer.meta_path


def emission_from_annotation(annotation: dict) -> dict:
    """The ``rfwatch:`` measured values of an annotation, keyed by Emission attribute."""
    inverse = {v: k for k, v in EMISSION_KEYS.items()}
    return {inverse[k]: v for k, v in annotation.items() if k in inverse}


def _declares_sha512(path: Path) -> bool:
    """Whether the recording's metadata carries ``core:sha512`` (True when unsure)."""
    if ".sigmf" in path.suffixes and not path.name.endswith((".sigmf-meta", ".sigmf-data")):
        return True  # an archive: let sigmf-python decide
    try:
        doc = json.loads(sigmf_paths(path)[0].read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return True  # read_sigmf reports what is wrong
    glob = doc.get("global") if isinstance(doc, dict) else None
    return not isinstance(glob, dict) or "core:sha512" in glob


def open_sigmf(
    path: str | Path,
    *,
    f_center_hz: float | None = None,
    channel: int = 0,
    max_samples: int | None = None,
    skip_checksum: bool = False,
) -> IQStream | None:
    """Open a SigMF recording for reading in chunks (:class:`IQStream`); loads nothing.

    The metadata are read and checked as by :func:`read_sigmf` (which also verifies
    ``core:sha512`` when the metadata give one, reading the dataset through a hash
    in bounded memory), then the
    dataset is read piece by piece from the first capture's first sample (only the
    first capture when captures are at different frequencies, as :func:`read_sigmf`).
    Returns ``None`` for a ``.sigmf`` archive, which is read whole by
    :func:`read_sigmf` instead.
    """
    p = Path(path)
    if not skip_checksum and not _declares_sha512(p):
        skip_checksum = True  # sigmf-python would hash the whole dataset for nothing
    head = read_sigmf(path, f_center_hz=f_center_hz, channel=channel, max_samples=64,
                      skip_checksum=skip_checksum)
    if ".sigmf" in p.suffixes and not p.name.endswith((".sigmf-meta", ".sigmf-data")):
        return None
    import sigmf
    from sigmf.sigmffile import dtype_info

    try:
        handle = sigmf.fromfile(str(path), skip_checksum=True, autoscale=False)
        glob = handle.get_global_info()
        info = dtype_info(glob["core:datatype"])
        channels = int(glob.get("core:num_channels", 1))
        captures = handle.get_captures()
        index = 0 if len({c.get("core:frequency") for c in captures}) > 1 else len(captures) - 1
        first_byte = handle.get_capture_byte_boundaries(0)[0] if captures else 0
        end_byte = handle.get_capture_byte_boundaries(index)[1] if captures else (
            handle.data_file.stat().st_size)
        offset = int(getattr(handle, "data_offset", 0) or 0)
        data_file = Path(handle.data_file)
    except _METADATA_ERRORS as err:
        raise InputFormatError(
            f"siêu dữ liệu SigMF không dùng được / unusable SigMF metadata: "
            f"{type(err).__name__}: {err}", source=str(path)) from err
    del handle  # its memory map of the dataset goes with it
    sample_bytes = info["sample_size"] * channels
    n_samples = max(0, (end_byte - first_byte) // sample_bytes)
    if max_samples is not None:
        n_samples = min(n_samples, int(max_samples))
    if n_samples <= 0:
        raise InputFormatError("không có mẫu nào / the dataset holds no samples", source=str(path))
    comp = np.dtype(info["component_dtype"])
    kind = {"u1": "cu8", "i1": "cs8"}.get(comp.str[1:], "")
    if not kind:
        offset_v, scale_v = _fixed_point_scale(info) if info["is_fixedpoint"] else (0.0, 1.0)
    source = str(path)

    def read_chunks(start: int, count: int, chunk_samples: int) -> Iterator[np.ndarray]:
        if kind:
            yield from iter_components(data_file, comp, offset_bytes=offset + first_byte,
                                       start=start, count=count, chunk_samples=chunk_samples,
                                       fmt=kind, channels=channels, channel=channel)
            return
        done = start
        for comps in iter_components(data_file, comp, offset_bytes=offset + first_byte,
                                     start=start, count=count, chunk_samples=chunk_samples,
                                     fmt="raw", channels=channels, channel=channel):
            x = comps.astype(np.float32)
            if not info["is_fixedpoint"] and not np.isfinite(x).all():
                bad = done + int(np.flatnonzero(~np.isfinite(x))[0]) // 2
                raise InputFormatError(f"mẫu không hữu hạn (NaN/Inf) / sample {bad} is not "
                                       "finite (NaN or Inf)", source=source, field="samples")
            done += x.size // 2
            if offset_v:
                x -= np.float32(offset_v)
            if scale_v != 1.0:
                x *= np.float32(1.0 / scale_v)
            yield x.view(np.complex64)

    return IQStream(
        source=head.source, sample_rate_hz=head.sample_rate_hz, f_center_hz=head.f_center_hz,
        t_start_ns=head.t_start_ns, n_samples=n_samples, read_chunks=read_chunks,
        receiver_id=head.receiver_id, gain_db=head.gain_db,
        overload=bool(glob.get(_KEY_OVERLOAD, False)), annotations=head.annotations,
    )
