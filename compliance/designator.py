"""Emission designators of the ITU Radio Regulations, Appendix 1.

A full designator is the necessary bandwidth (4 characters) followed by the class
of emission (3 symbols, optionally a 4th and 5th): ``16K0F3E``, ``180KF8EHF``,
``7M60G7W``, ``100HA1A``.

The bandwidth code is three numerals and one letter, the letter standing where the
decimal point would be: ``H`` for 0.001–999 Hz, ``K`` for 1.00–999 kHz, ``M`` for
1.00–999 MHz, ``G`` for 1.00–999 GHz (``H002`` = 0.002 Hz, ``12K5`` = 12.5 kHz,
``180K`` = 180 kHz). The first character may not be ``0``, ``K``, ``M`` or ``G``.
Source: RR Appendix 1 §1 (http://life.itu.int/radioclub/rr/ap01.htm), see DOMAIN.md §B.

Parsing uses :class:`decimal.Decimal` so that every valid designator formats back
to exactly the same text.

Examples
--------
>>> d = parse_designator("16K0F3E")
>>> d.necessary_bw_hz, d.emission_class
(16000.0, 'F3E')
>>> format_bandwidth(180_400.0), format_bandwidth(180_500.0)
('180K', '181K')
>>> str(parse_designator("180KF8EHF"))
'180KF8EHF'
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dsp.errors import InputFormatError

__all__ = [
    "MODULATION_SYMBOLS",
    "SIGNAL_SYMBOLS",
    "INFORMATION_SYMBOLS",
    "DETAIL_SYMBOLS",
    "MULTIPLEX_SYMBOLS",
    "EmissionDesignator",
    "parse_bandwidth",
    "format_bandwidth",
    "parse_designator",
    "format_designator",
]

#: 1st symbol: type of modulation of the main carrier (RR Ap1 §4.1).
MODULATION_SYMBOLS = "NAHRJBCFGDPKLMQVWX"
#: 2nd symbol: nature of the signal(s) modulating the main carrier (Ap1 §4.2).
SIGNAL_SYMBOLS = "0123789X"
#: 3rd symbol: type of information to be transmitted (Ap1 §4.3).
INFORMATION_SYMBOLS = "NABCDEFWX"
#: 4th symbol (optional): details of signal(s) (Ap1 §5.1).
DETAIL_SYMBOLS = "ABCDEFGHJKLMNWX"
#: 5th symbol (optional): nature of multiplexing (Ap1 §5.2).
MULTIPLEX_SYMBOLS = "NCFTWX"

_UNITS: dict[str, Decimal] = {
    "H": Decimal(1),
    "K": Decimal(1_000),
    "M": Decimal(1_000_000),
    "G": Decimal(1_000_000_000),
}
_MAX_HZ = Decimal("999") * _UNITS["G"]


@dataclass(frozen=True, slots=True)
class EmissionDesignator:
    """A parsed emission designator.

    Attributes
    ----------
    bandwidth_code:
        The 4-character necessary-bandwidth code, e.g. ``"16K0"``.
    necessary_bw_hz:
        The necessary bandwidth in Hz.
    modulation, signal, information:
        The three class symbols (e.g. ``F``, ``3``, ``E``).
    details, multiplexing:
        The optional 4th and 5th symbols, ``None`` when absent.
    """

    bandwidth_code: str
    necessary_bw_hz: float
    modulation: str
    signal: str
    information: str
    details: str | None = None
    multiplexing: str | None = None

    @property
    def emission_class(self) -> str:
        """The class of emission: 3 to 5 symbols, e.g. ``"F3E"`` or ``"F8EHF"``."""
        return self.modulation + self.signal + self.information + (self.details or "") + (
            self.multiplexing or ""
        )

    def __str__(self) -> str:
        return format_designator(self)


def _bandwidth_error(code: str, why: str, source: str | None) -> InputFormatError:
    return InputFormatError(
        f"mã độ rộng băng tần cần thiết '{code}' không hợp lệ / invalid necessary-bandwidth "
        f"code '{code}': {why}",
        source=source,
        field="emission",
    )


def _parse_bandwidth_decimal(code: str, source: str | None = None) -> Decimal:
    if len(code) != 4:
        raise _bandwidth_error(code, "needs 4 characters (3 numerals + H/K/M/G)", source)
    letters = [(i, c) for i, c in enumerate(code) if not c.isdigit()]
    if len(letters) != 1 or letters[0][1] not in _UNITS:
        raise _bandwidth_error(code, "needs exactly one of the letters H, K, M, G", source)
    if not all(c in "0123456789" for c in code if c.isdigit()):
        raise _bandwidth_error(code, "numerals must be ASCII digits", source)
    pos, letter = letters[0]
    if code[0] == "0" or code[0] in "KMG":
        raise _bandwidth_error(code, "the first character may not be 0, K, M or G", source)
    digits = code.replace(letter, ".")
    try:
        value = Decimal("0" + digits if pos == 0 else digits)
    except InvalidOperation as err:  # pragma: no cover - guarded by the checks above
        raise _bandwidth_error(code, "not a number", source) from err
    if value == 0:
        raise _bandwidth_error(code, "the bandwidth must be more than zero", source)
    return value * _UNITS[letter]


def parse_bandwidth(code: str, *, source: str | None = None) -> float:
    """The necessary bandwidth in Hz of a 4-character code such as ``"12K5"``.

    Raises
    ------
    InputFormatError
        When ``code`` is not a valid Appendix 1 bandwidth code.

    Examples
    --------
    >>> parse_bandwidth("12K5"), parse_bandwidth("H002"), parse_bandwidth("7M60")
    (12500.0, 0.002, 7600000.0)
    """
    return float(_parse_bandwidth_decimal(code, source))


def format_bandwidth(bw_hz: float) -> str:
    """The Appendix 1 code of a bandwidth in Hz, rounded to 3 significant figures.

    Raises
    ------
    ValueError
        When ``bw_hz`` is not within 0.001 Hz .. 999 GHz.

    Examples
    --------
    >>> format_bandwidth(12_500.0), format_bandwidth(0.002), format_bandwidth(400.0)
    ('12K5', 'H002', '400H')
    """
    value = Decimal(repr(float(bw_hz)))
    if not value.is_finite() or value < Decimal("0.0005") or value >= _MAX_HZ + 500_000_000:
        raise ValueError(f"bw_hz must be within 0.001 Hz .. 999 GHz, got {bw_hz!r}")
    if value < 1:
        thousandths = (value * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if thousandths < 1000:
            return f"H{int(thousandths):03d}"
        value = Decimal(1)
    for letter in ("H", "K", "M", "G"):
        scaled = value / _UNITS[letter]
        if scaled >= 1000 and letter != "G":
            continue
        # 3 significant figures; rounding may carry into the next unit (999.6 -> 1.00 k).
        exponent = scaled.adjusted()  # 0, 1 or 2
        rounded = scaled.quantize(Decimal(1).scaleb(exponent - 2), rounding=ROUND_HALF_UP)
        if rounded.adjusted() > exponent:  # 99.95 -> 100.0: keep 3 figures (100)
            rounded = rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - 2))
        if rounded >= 1000 and letter != "G":
            value = rounded * _UNITS[letter]
            continue
        if rounded >= 1000:
            raise ValueError(f"bw_hz must be within 0.001 Hz .. 999 GHz, got {bw_hz!r}")
        digits = f"{rounded:f}"
        if "." not in digits:
            return digits + letter
        whole, frac = digits.split(".")
        return f"{whole}{letter}{frac}"
    raise AssertionError("unreachable")  # pragma: no cover


def parse_designator(text: str, *, source: str | None = None) -> EmissionDesignator:
    """Parse a full emission designator (bandwidth code + 3 to 5 class symbols).

    Raises
    ------
    InputFormatError
        Naming the faulty part, when ``text`` is not a valid designator.

    Examples
    --------
    >>> d = parse_designator("7M60G7W")
    >>> d.necessary_bw_hz, d.modulation, d.signal, d.information
    (7600000.0, 'G', '7', 'W')
    """
    raw = text.strip().upper()
    if not 7 <= len(raw) <= 9:
        raise InputFormatError(
            f"ký hiệu phát xạ '{text}' phải có 7–9 ký tự / emission designator '{text}' "
            "must have 7-9 characters (e.g. 16K0F3E)",
            source=source,
            field="emission",
        )
    value = _parse_bandwidth_decimal(raw[:4], source)
    symbols = raw[4:]
    # RR Appendix 1 names of the five symbols, in the words of the Vietnamese licence.
    checks = [
        ("ký hiệu thứ nhất (kiểu điều chế)", "1st (modulation)", MODULATION_SYMBOLS),
        ("ký hiệu thứ hai (tính chất tín hiệu)", "2nd (signal)", SIGNAL_SYMBOLS),
        ("ký hiệu thứ ba (loại thông tin)", "3rd (information)", INFORMATION_SYMBOLS),
        ("ký hiệu thứ tư (chi tiết tín hiệu)", "4th (details)", DETAIL_SYMBOLS),
        ("ký hiệu thứ năm (phương thức ghép kênh)", "5th (multiplexing)", MULTIPLEX_SYMBOLS),
    ]
    for symbol, (name_vi, name, allowed) in zip(symbols, checks, strict=False):
        if symbol not in allowed:
            raise InputFormatError(
                f"ký hiệu phát xạ '{text}': {name_vi} '{symbol}' không hợp lệ / "
                f"emission designator '{text}': {name} symbol '{symbol}' is not one of "
                f"{allowed}",
                source=source,
                field="emission",
            )
    return EmissionDesignator(
        bandwidth_code=raw[:4],
        necessary_bw_hz=float(value),
        modulation=symbols[0],
        signal=symbols[1],
        information=symbols[2],
        details=symbols[3] if len(symbols) > 3 else None,
        multiplexing=symbols[4] if len(symbols) > 4 else None,
    )


def format_designator(designator: EmissionDesignator) -> str:
    """The text of a designator: its bandwidth code (re-derived) and class symbols.

    Examples
    --------
    >>> format_designator(parse_designator("100HA1A"))
    '100HA1A'
    """
    return format_bandwidth(designator.necessary_bw_hz) + designator.emission_class
