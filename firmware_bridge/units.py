"""Frequencies and rates as people type them: ``98.5M``, ``2.4M``, ``100k``, ``433920000``.

One parser, :func:`parse_hz`, used by every command-line option that takes a
frequency or a sample rate, and by receiver spec strings.
"""

from __future__ import annotations

import math
import re

from dsp.errors import InputFormatError

__all__ = ["parse_hz", "format_hz", "check_sample_rate_hz", "check_rf_centre_hz",
           "SAMPLE_RATE_MIN_HZ", "SAMPLE_RATE_MAX_HZ", "RF_MAX_HZ"]

# SI prefixes a user may type after the number; "Hz" may follow (case-insensitive).
_MULTIPLIERS = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}
_HZ_RE = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*"
    r"(?P<prefix>[kKmMgG]?)\s*(?:[hH][zZ])?\s*$"
)


def parse_hz(text: str | float | int, *, field: str = "frequency") -> float:
    """Parse a frequency or rate in Hz, with an optional SI suffix.

    Parameters
    ----------
    text:
        ``"98.5M"``, ``"2.4M"``, ``"100k"``, ``"1.09G"``, ``"433920000"``, ``"250 kHz"``
        or a number. ``m``/``M`` both mean mega: nobody tunes to millihertz.
    field:
        Name of the option being parsed, used in the error message.

    Returns
    -------
    float
        The value in Hz (float64).

    Raises
    ------
    InputFormatError
        When the text is not a number with an optional k/M/G suffix, or is negative
        or not finite.

    Examples
    --------
    >>> parse_hz("98.5M")
    98500000.0
    >>> parse_hz("100k")
    100000.0
    >>> parse_hz("2.4 MHz")
    2400000.0
    >>> parse_hz(1090e6)
    1090000000.0
    """
    if isinstance(text, bool):
        raise InputFormatError(f"không phải tần số / not a frequency: {text!r}", field=field)
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _HZ_RE.match(str(text))
        if match is None:
            raise InputFormatError(
                f"không hiểu tần số / cannot read frequency {text!r} "
                "(ví dụ / e.g. 98.5M, 2.4M, 100k, 433920000)",
                field=field,
            )
        value = float(match["num"]) * _MULTIPLIERS[match["prefix"].lower()]
    if not math.isfinite(value) or value < 0:
        raise InputFormatError(
            f"tần số phải dương và hữu hạn / frequency must be finite and >= 0: {text!r}",
            field=field,
        )
    return value


def format_hz(f_hz: float) -> str:
    """Short human form of a frequency: ``98.5 MHz``, ``250 kHz``, ``12 Hz``.

    >>> format_hz(98.5e6)
    '98.5 MHz'
    >>> format_hz(250e3)
    '250 kHz'
    """
    for scale, unit in ((1e9, "GHz"), (1e6, "MHz"), (1e3, "kHz")):
        if abs(f_hz) >= scale:
            return f"{f_hz / scale:.6g} {unit}"
    return f"{f_hz:.6g} Hz"


#: Sample rates rfwatch accepts from a file or an option, Hz. Below 1 Hz a block's
#: duration in ns overflows; above 100 GS/s no receiver of ours exists. Both bounds
#: catch a mistyped value (``1e-300``, a rate in MHz read as Hz is still accepted).
SAMPLE_RATE_MIN_HZ = 1.0
SAMPLE_RATE_MAX_HZ = 100e9
#: Highest RF frequency accepted, Hz (no receiver of ours tunes above 100 GHz).
RF_MAX_HZ = 100e9


def check_sample_rate_hz(value: object, *, source: str | None = None,
                         field: str = "sample rate") -> float:
    """A sample rate read from a file or an option, checked where it enters.

    Returns the rate as float Hz; raises :class:`InputFormatError` naming ``source``
    and ``field`` when it is not a finite number in
    [``SAMPLE_RATE_MIN_HZ``, ``SAMPLE_RATE_MAX_HZ``].
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputFormatError(f"tốc độ lấy mẫu không phải số / sample rate is not a number: "
                               f"{value!r}", source=source, field=field)
    rate = float(value)
    if not (math.isfinite(rate) and SAMPLE_RATE_MIN_HZ <= rate <= SAMPLE_RATE_MAX_HZ):
        raise InputFormatError(
            f"tốc độ lấy mẫu phải trong / sample rate must lie in "
            f"{SAMPLE_RATE_MIN_HZ:g}-{SAMPLE_RATE_MAX_HZ:g} Hz, got {value!r}",
            source=source, field=field,
        )
    return rate


def check_rf_centre_hz(value: object, sample_rate_hz: float, *, source: str | None = None,
                       field: str = "frequency") -> float:
    """A tuned RF centre read from a file or an option, checked where it enters.

    The captured span ``f ± rate/2`` must lie above 0 Hz: a centre of 0 Hz or below
    (or one so low that the span crosses 0 Hz) would put emissions at negative
    frequencies. Raises :class:`InputFormatError` naming ``source`` and ``field``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputFormatError(f"tần số không phải số / frequency is not a number: {value!r}",
                               source=source, field=field)
    f_hz = float(value)
    if not (math.isfinite(f_hz) and 0.0 < f_hz <= RF_MAX_HZ):
        raise InputFormatError(
            f"tần số trung tâm phải > 0 và <= {RF_MAX_HZ:g} Hz / centre frequency must be "
            f"> 0 and <= {RF_MAX_HZ:g} Hz, got {value!r}",
            source=source, field=field,
        )
    if f_hz - sample_rate_hz / 2 < 0.0:
        raise InputFormatError(
            f"dải thu xuống dưới 0 Hz / the captured span {f_hz:g} ± {sample_rate_hz / 2:g} Hz "
            "reaches below 0 Hz (emissions would sit at negative frequencies)",
            source=source, field=field,
        )
    return f_hz
