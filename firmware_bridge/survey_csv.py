"""rtl_power / hackrf_sweep survey CSV: read into stitched spectra, and write.

The format (one row per hop)::

    date, time, Hz low, Hz high, Hz step, samples, dB, dB, ...
    2018-11-18, 12:31:45, 88050000, 88150000, 781.25, 12544, -28.67, -28.34, ...

How rows become :class:`dsp.types.Spectrum` objects
---------------------------------------------------
- Rows are grouped into sweeps: a sweep ends when a hop's ``Hz low`` repeats one
  already in the sweep (rtl_power writes hops in rising order with one timestamp per
  sweep; hackrf_sweep writes them out of order with one timestamp per hop, so the time
  alone cannot delimit sweeps).
- Each sweep's hops are placed on one uniform grid (the common ``Hz step``); bin ``i``
  of a hop is centred on ``Hz low + i * Hz step`` (FFT bins are points: rtl_power's
  bin 0 is the hop's lower edge and its centre bin the tuned frequency). Gaps between
  hops are NaN; where hops overlap the later row wins. ``hop_t_ns`` keeps each hop's
  first bin and time.
- rtl_power writes one value more than it has bins (``(high - low) / step + 1``; the
  real files in ../shared/data/real/rtl_power-fm-multipath carry 129 values for 128
  bins). The extra last value is dropped. hackrf_sweep writes exactly
  ``(high - low) / step``.
- rtl_power copies each hop's DC bin (the centre, ``n // 2``) from its neighbour;
  those bins are listed in ``Spectrum.interpolated_bins`` (the real files show bin 64
  equal to bin 65 in every sweep).
- Powers are ``dBFS``: rtl_power calls them dBm but its own source says the maths is
  uncalibrated, so rfwatch never treats them as absolute.
- ``samples`` (the number of FFTs averaged) becomes ``n_averages``; the RBW is taken as
  the bin step (the window is not in the file).

Time zone: **rtl_power writes local time** (``localtime()``) with no zone. The ``tz``
parameter says which zone the file was written in; it defaults to UTC, which is right
for stations whose clock is UTC (rfwatch stations run in UTC). Every time returned is
UTC ns. rtl_power stamps a sweep when its integration interval ends.

Errors: any malformed line (including a NaN or infinite dB value) raises
:class:`dsp.errors.InputFormatError` naming the file, the 1-based line and the field;
nothing else escapes the parser.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import numpy as np

from dsp.errors import InputFormatError
from dsp.types import Spectrum
from firmware_bridge.recording import SurveyRecording

__all__ = ["SurveyRow", "parse_survey_lines", "read_survey_csv", "write_survey_csv", "format_rows"]

_FIELDS = ("date", "time", "Hz low", "Hz high", "Hz step", "samples")
#: A stitched sweep may hold gaps between hops, but not more than this many times
#: the bins it has: beyond that the rows do not describe one sweep (and a bad step
#: could otherwise ask for a grid of billions of bins).
_MAX_GRID_FACTOR = 4
_MAX_BINS_PER_ROW = 10_000_000


@dataclass(frozen=True, slots=True)
class SurveyRow:
    """One hop of a survey file."""

    line: int
    t_ns: int
    f_low_hz: float
    f_high_hz: float
    f_step_hz: float
    n_samples: int
    power_db: np.ndarray
    #: The row came from rtl_power (it had the repeated last value).
    rtl_power: bool = False


def _parse_time(date_s: str, time_s: str, tz: tzinfo, source: str, line: int) -> int:
    text = f"{date_s} {time_s}"
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in time_s else "%Y-%m-%d %H:%M:%S"
    try:
        naive = datetime.strptime(text, fmt)  # noqa: DTZ007 - the zone is attached below
    except ValueError as err:
        field = "date" if not _looks_like_date(date_s) else "time"
        raise InputFormatError(
            f"ngày/giờ không hợp lệ / bad date or time {text!r} (want YYYY-MM-DD, HH:MM:SS)",
            source=source, line=line, field=field,
        ) from err
    aware = naive.replace(tzinfo=tz)
    micros = aware.utcoffset()
    if micros is None:
        raise InputFormatError(
            "múi giờ không rõ / time zone gives no offset", source=source, line=line
        )
    seconds = int((aware - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 1)
    return seconds * 1_000_000_000 + aware.microsecond * 1000


def _looks_like_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")  # noqa: DTZ007 - only checks the shape
    except ValueError:
        return False
    return True


def _number(text: str, field: str, source: str, line: int, *, finite: bool = True) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise InputFormatError(f"không phải số / not a number: {text!r}", source=source, line=line,
                               field=field) from err
    if finite and not math.isfinite(value):
        raise InputFormatError(f"giá trị không hữu hạn / not finite: {text!r}", source=source,
                               line=line, field=field)
    return value


def _parse_row(text: str, line: int, source: str, tz: tzinfo) -> SurveyRow:
    parts = [p.strip() for p in text.split(",")]
    if parts and parts[-1] == "":
        parts.pop()  # a trailing comma
    if len(parts) < 7:
        raise InputFormatError(
            f"cần ít nhất 7 cột, có {len(parts)} / need at least 7 columns "
            "(date, time, Hz low, Hz high, Hz step, samples, dB...), found "
            f"{len(parts)}",
            source=source, line=line,
        )
    t_ns = _parse_time(parts[0], parts[1], tz, source, line)
    f_low = _number(parts[2], "Hz low", source, line)
    f_high = _number(parts[3], "Hz high", source, line)
    step = _number(parts[4], "Hz step", source, line)
    samples = _number(parts[5], "samples", source, line)
    if f_low < 0:
        raise InputFormatError("Hz low âm / negative", source=source, line=line, field="Hz low")
    if not f_high > f_low:
        raise InputFormatError(
            f"Hz high ({parts[3]}) phải lớn hơn Hz low ({parts[2]}) / must exceed Hz low",
            source=source, line=line, field="Hz high",
        )
    if not step > 0:
        raise InputFormatError(f"Hz step phải > 0 / must be > 0: {parts[4]!r}", source=source,
                               line=line, field="Hz step")
    if samples < 0 or samples != int(samples):
        raise InputFormatError(
            f"samples phải là số nguyên >= 0 / must be a whole number: {parts[5]!r}",
            source=source, line=line, field="samples",
        )
    n_bins_f = (f_high - f_low) / step
    if n_bins_f > _MAX_BINS_PER_ROW:
        raise InputFormatError("quá nhiều bin / too many bins for one row", source=source,
                               line=line, field="Hz step")
    n_bins = round(n_bins_f)
    if n_bins < 1 or abs(n_bins_f - n_bins) > 0.01:
        raise InputFormatError(
            f"(Hz high - Hz low) / Hz step = {n_bins_f:.4g} không nguyên / "
            "is not a whole number of bins",
            source=source, line=line, field="Hz step",
        )
    values = parts[6:]
    rtl_power = len(values) == n_bins + 1
    if rtl_power:
        values = values[:-1]  # rtl_power repeats its last bin
    elif len(values) != n_bins:
        raise InputFormatError(
            f"có {len(values)} giá trị dB, cần {n_bins} / found {len(values)} dB values, "
            f"expected {n_bins} (or {n_bins + 1} from rtl_power)",
            source=source, line=line, field="dB",
        )
    power = np.empty(len(values), dtype=np.float32)
    for i, v in enumerate(values):
        try:
            value = float(v)
        except ValueError as err:
            raise InputFormatError(
                f"giá trị dB không phải số / dB value #{i + 1} is not a number: {v!r}",
                source=source, line=line, field="dB",
            ) from err
        # NaN/Inf (rtl_power prints -inf for a bin of zero power) or a value beyond
        # float32 would poison the averages and the noise floor of every sweep.
        if not (math.isfinite(value) and abs(value) < 1e30):
            raise InputFormatError(
                f"giá trị dB không hữu hạn / dB value #{i + 1} is not finite: {v!r}",
                source=source, line=line, field="dB",
            )
        power[i] = value
    return SurveyRow(line, t_ns, f_low, f_high, step, int(samples), power, rtl_power)


def _stitch(rows: Sequence[SurveyRow], source: str) -> Spectrum:
    step = rows[0].f_step_hz
    for row in rows:
        if abs(row.f_step_hz - step) > 1e-6 * step:
            raise InputFormatError(
                f"Hz step khác nhau trong một lượt quét / hops of one sweep differ in Hz step "
                f"({row.f_step_hz} vs {step})",
                source=source, line=row.line, field="Hz step",
            )
    ordered = sorted(rows, key=lambda r: r.f_low_hz)
    f0 = ordered[0].f_low_hz
    total = sum(r.power_db.size for r in ordered)
    offsets = []
    for row in ordered:
        pos = (row.f_low_hz - f0) / step
        if abs(pos - round(pos)) > 0.01:
            raise InputFormatError(
                "các bước nhảy không cùng lưới tần số / hop is off the sweep's frequency grid",
                source=source, line=row.line, field="Hz low",
            )
        offsets.append(round(pos))
    n_grid = max(o + r.power_db.size for o, r in zip(offsets, ordered, strict=True))
    if n_grid > _MAX_GRID_FACTOR * total + 16:
        raise InputFormatError(
            "khoảng trống giữa các bước nhảy quá lớn / "
            "gaps between hops are too large for one sweep",
            source=source, line=ordered[-1].line, field="Hz low",
        )
    power = np.full(n_grid, np.nan, dtype=np.float32)
    by_line = sorted(zip(offsets, ordered, strict=True), key=lambda p: p[1].line)
    for off, row in by_line:
        power[off : off + row.power_db.size] = row.power_db
    hop_t = tuple(sorted((off, row.t_ns) for off, row in zip(offsets, ordered, strict=True)))
    # rtl_power overwrites each hop's DC (centre) bin with its upper neighbour.
    dc_bins = tuple(sorted(off + row.power_db.size // 2
                           for off, row in zip(offsets, ordered, strict=True) if row.rtl_power))
    times = [r.t_ns for r in rows]
    return Spectrum(
        f_start_hz=f0,
        f_step_hz=step,
        power_db=power,
        power_unit="dBFS",
        rbw_hz=step,
        t_start_ns=min(times),
        t_end_ns=max(times),
        n_averages=max(1, min(r.n_samples for r in rows)),
        window="unknown",
        hop_t_ns=hop_t,
        interpolated_bins=dc_bins,
    )


def parse_survey_lines(
    lines: Iterable[str], *, source: str = "<survey>", tz: tzinfo = UTC
) -> list[Spectrum]:
    """Parse rtl_power/hackrf_sweep lines into one stitched spectrum per sweep.

    Blank lines and lines starting with ``#`` are skipped.

    Raises
    ------
    InputFormatError
        For the first malformed line (naming ``source``, the line and the field), or
        when no data row is found.
    """
    spectra: list[Spectrum] = []
    current: list[SurveyRow] = []
    seen_low: set[float] = set()
    for lineno, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        row = _parse_row(text, lineno, source, tz)
        if row.f_low_hz in seen_low:
            spectra.append(_stitch(current, source))
            current, seen_low = [], set()
        current.append(row)
        seen_low.add(row.f_low_hz)
    if current:
        spectra.append(_stitch(current, source))
    if not spectra:
        raise InputFormatError("không có dòng dữ liệu nào / no data rows", source=source)
    return spectra


def read_survey_csv(path: str | Path, *, tz: tzinfo = UTC) -> SurveyRecording:
    """Read an rtl_power or hackrf_sweep CSV file (see the module notes on time zones)."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputFormatError(f"không phải văn bản UTF-8 / not UTF-8 text (byte {err.start})",
                               source=source) from err
    except OSError as err:
        raise InputFormatError(f"không đọc được / cannot read: {err}", source=source) from err
    return SurveyRecording(source=source, spectra=tuple(parse_survey_lines(
        text.splitlines(), source=source, tz=tz)))


def _fmt_hz(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _fmt_step(step_hz: float) -> str:
    # rtl_power prints the step with two decimals; keep full precision when needed.
    return f"{step_hz:.2f}" if round(step_hz, 2) == step_hz else repr(float(step_hz))


def format_rows(spectrum: Spectrum, *, tz: tzinfo = UTC) -> list[str]:
    """The CSV rows (rtl_power layout, one per hop) of one spectrum."""
    hops = list(spectrum.hop_t_ns) or [(0, spectrum.t_start_ns)]
    hops.sort()
    rows = []
    for k, (first, t_ns) in enumerate(hops):
        last = hops[k + 1][0] if k + 1 < len(hops) else spectrum.n_bins
        values = spectrum.power_db[first:last]
        if values.size == 0:
            continue
        f_low = spectrum.f_start_hz + first * spectrum.f_step_hz
        f_high = f_low + values.size * spectrum.f_step_hz
        dt = datetime.fromtimestamp(t_ns // 1_000_000_000, tz=UTC).astimezone(tz)
        # rtl_power repeats its last bin; we do too so its tools read our files.
        cells = [f"{v:.2f}" for v in values] + [f"{values[-1]:.2f}"]
        rows.append(", ".join([
            dt.strftime("%Y-%m-%d"), dt.strftime("%H:%M:%S"), _fmt_hz(f_low), _fmt_hz(f_high),
            _fmt_step(spectrum.f_step_hz), str(int(spectrum.n_averages)), *cells,
        ]))
    return rows


def write_survey_csv(path: str | Path, spectra: Iterable[Spectrum], *, tz: tzinfo = UTC) -> Path:
    """Write spectra as rtl_power CSV (times in ``tz``, whole seconds, dB to 0.01)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for spectrum in spectra:
            for row in format_rows(spectrum, tz=tz):
                fh.write(row + "\n")
    return path
