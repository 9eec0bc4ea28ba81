"""Open any recording or survey file rfwatch understands, by its extension.

======================================  ===========================================
extension                               reader
======================================  ===========================================
``.sigmf-meta``, ``.sigmf-data``,       :func:`firmware_bridge.sigmf_io.read_sigmf`
``.sigmf`` (archive, also ``.gz``...)
``.cu8`` ``.bin`` ``.cs8`` ``.cs16``    :func:`firmware_bridge.rawiq.read_raw_iq`
``.ci16`` ``.cu16`` ``.cf32``           (needs ``rate_hz`` and ``f_center_hz``
``.cfile`` ``.fc32`` ``.cf64``          unless the name is rtl_433 style,
``.complex`` ``.complex16u``            ``..._433.92M_250k.cu8``)
``.complex16s`` ``.complex32s``
``.complex32u``
``.csv``                                :func:`firmware_bridge.survey_csv.read_survey_csv`
======================================  ===========================================

``fmt`` overrides the extension: ``"sigmf"``, ``"csv"`` or a raw format name.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from pathlib import Path

from dsp.errors import InputFormatError
from firmware_bridge.rawiq import EXTENSION_FORMATS, RAW_FORMATS, canonical_format, read_raw_iq
from firmware_bridge.recording import IQRecording, IQStream, SurveyRecording
from firmware_bridge.sigmf_io import read_sigmf
from firmware_bridge.survey_csv import read_survey_csv

__all__ = ["load_recording", "open_recording", "recording_kind"]

_SIGMF_SUFFIXES = (".sigmf-meta", ".sigmf-data", ".sigmf", ".sigmf.gz", ".sigmf.xz", ".sigmf.zip")


def recording_kind(path: str | Path, fmt: str | None = None) -> str:
    """``"sigmf"``, ``"csv"`` or a raw format name (``"cu8"`` ...) for a path.

    >>> recording_kind("x.sigmf-meta"), recording_kind("g.cu8"), recording_kind("s.csv")
    ('sigmf', 'cu8', 'csv')
    """
    if fmt is not None:
        name = fmt.strip().lower().lstrip(".")
        if name in ("sigmf", "csv"):
            return name
        return canonical_format(name)
    lower = Path(path).name.lower()
    if lower.endswith(_SIGMF_SUFFIXES):
        return "sigmf"
    suffix = Path(lower).suffix
    if suffix == ".csv":
        return "csv"
    if suffix in EXTENSION_FORMATS:
        return EXTENSION_FORMATS[suffix]
    known = ", ".join(sorted({*_SIGMF_SUFFIXES, ".csv", *EXTENSION_FORMATS}))
    raise InputFormatError(
        f"không nhận ra loại tệp / unknown file type {suffix or '(no extension)'!r}: "
        f"use one of {known}, or give --format ({', '.join(['sigmf', 'csv', *RAW_FORMATS])})",
        source=str(path),
    )


def _kind_of(path: Path, fmt: str | None) -> str:
    """The reader for ``path``; a missing file (other than a SigMF pair) is refused."""
    kind = recording_kind(path, fmt)
    if kind != "sigmf" and not path.is_file():
        # (sigmf finds the other file of a pair itself and says which one is missing)
        raise InputFormatError("không có tệp / no such file", source=str(path))
    return kind


def _check_rate(path: Path, rate_hz: float | None, file_rate_hz: float) -> None:
    """``--rate`` given for a SigMF file must agree with its ``core:sample_rate``."""
    if rate_hz is not None and abs(rate_hz - file_rate_hz) > 1e-6 * file_rate_hz:
        raise InputFormatError(
            f"--rate {rate_hz:g} khác core:sample_rate {file_rate_hz:g} / disagrees "
            "with the file's core:sample_rate (leave --rate out for SigMF)",
            source=str(path), field="rate",
        )


def load_recording(
    path: str | Path,
    *,
    rate_hz: float | None = None,
    f_center_hz: float | None = None,
    fmt: str | None = None,
    tz: tzinfo = UTC,
    max_samples: int | None = None,
) -> IQRecording | SurveyRecording:
    """Open a SigMF, raw IQ or survey CSV file.

    Parameters
    ----------
    path:
        The file.
    rate_hz, f_center_hz:
        Sample rate and RF centre (Hz) for raw IQ (``--rate``/``--freq``); for SigMF
        ``f_center_hz`` is used only when the captures carry no ``core:frequency``,
        and ``rate_hz`` must agree with ``core:sample_rate`` if given.
    fmt:
        Force a reader: ``"sigmf"``, ``"csv"`` or a raw format (``"cu8"``, ``"cf32"``...).
    tz:
        Zone in which an rtl_power CSV was written (rtl_power writes local time).
    max_samples:
        Read at most this many IQ samples.

    Raises
    ------
    InputFormatError
        The file is missing, of an unknown type, malformed, or a raw file lacks its
        rate or frequency (the message says which option to give).
    """
    path = Path(path)
    kind = _kind_of(path, fmt)
    if kind == "csv":
        return read_survey_csv(path, tz=tz)
    if kind == "sigmf":
        rec = read_sigmf(path, f_center_hz=f_center_hz, max_samples=max_samples)
        _check_rate(path, rate_hz, rec.sample_rate_hz)
        return rec
    return read_raw_iq(path, sample_rate_hz=rate_hz, f_center_hz=f_center_hz, fmt=kind,
                       max_samples=max_samples)


def open_recording(
    path: str | Path,
    *,
    rate_hz: float | None = None,
    f_center_hz: float | None = None,
    fmt: str | None = None,
    tz: tzinfo = UTC,
    max_samples: int | None = None,
) -> IQStream | IQRecording | SurveyRecording:
    """Like :func:`load_recording`, but IQ files come back as an :class:`IQStream`.

    Nothing of an IQ file's samples is loaded: ``stream.chunks()`` reads them piece
    by piece. Survey CSVs (small) and ``.sigmf`` archives are loaded as by
    :func:`load_recording`. Arguments and errors as there.
    """
    from firmware_bridge.rawiq import open_raw_iq
    from firmware_bridge.sigmf_io import open_sigmf

    path = Path(path)
    kind = _kind_of(path, fmt)
    if kind == "csv":
        return read_survey_csv(path, tz=tz)
    if kind == "sigmf":
        stream = open_sigmf(path, f_center_hz=f_center_hz, max_samples=max_samples)
        if stream is None:  # an archive
            return load_recording(path, rate_hz=rate_hz, f_center_hz=f_center_hz, fmt=fmt,
                                  tz=tz, max_samples=max_samples)
        _check_rate(path, rate_hz, stream.sample_rate_hz)
        return stream
    return open_raw_iq(path, sample_rate_hz=rate_hz, f_center_hz=f_center_hz, fmt=kind,
                       max_samples=max_samples)
