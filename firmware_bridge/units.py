"""Frequencies and rates as people type them: ``98.5M``, ``2.4M``, ``100k``, ``433920000``.

One parser, :func:`parse_hz`, used by every command-line option that takes a
frequency or a sample rate, and by receiver spec strings.
"""

from __future__ import annotations

import math
import re

from dsp.errors import InputFormatError

__all__ = ["parse_hz", "format_hz"]

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
