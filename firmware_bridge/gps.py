"""GPS position and time from NMEA 0183, over any port pyserial can open.

A field kit's GPS puck and a station's timing receiver speak NMEA 0183 on a serial
line. :class:`GpsReader` opens it with pyserial's ``serial_for_url``, so a device
path (``/dev/ttyUSB0``, a pty), ``socket://host:port`` (gpsd's raw NMEA, ser2net),
``rfc2217://host:port`` and ``loop://`` all work. Sentences are parsed with pynmea2.

What counts as a fix
--------------------
A :class:`GpsFix` is produced for each sentence that carries a position (GGA, RMC,
GLL, GNS), merged with the GGA/GSA of the same epoch (time of day) for quality,
satellites and HDOP. ``valid`` follows the receiver: GGA quality > 0, RMC/GLL status
``A``, GNS mode not ``N`` — a position may be present and still invalid (a receiver
repeating its last position, as in gpsd's myguide-3100 log). ``t_ns`` is UTC; GGA and
GLL carry only the time of day, so their date comes from the last RMC or ZDA and
``t_ns`` is ``None`` until one has been seen.

Bad input is never fatal: lines with a wrong checksum, without a checksum, that are
not NMEA at all, or that pynmea2 cannot parse are counted in :class:`NmeaStats` and
skipped. Sentences without a checksum are not trusted (a serial line at 4800 baud
does flip bits).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from types import TracebackType
from typing import Any

from dsp.errors import ReceiverLost, ReceiverNotFound
from dsp.types import GeoPosition

__all__ = ["GpsFix", "NmeaStats", "NmeaParser", "GpsReader", "parse_nmea_lines", "read_nmea_file"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GpsFix:
    """One position report.

    Attributes
    ----------
    t_ns:
        UTC time of the fix (ns since the epoch), or ``None`` before any date is known.
    position:
        Latitude/longitude (degrees) and altitude above MSL (m, from GGA), or ``None``
        when the sentence had no position.
    fix_quality:
        GGA quality (0 invalid, 1 GPS, 2 DGPS, 4/5 RTK, 6 dead reckoning); ``None`` if no
        GGA was seen for this epoch.
    hdop:
        Horizontal dilution of precision, or ``None``.
    n_satellites:
        Satellites used, or ``None``.
    valid:
        The receiver says the position is good.
    sentence:
        The sentence type that produced this fix (``"GGA"``, ``"RMC"``, ...).
    """

    t_ns: int | None
    position: GeoPosition | None
    fix_quality: int | None
    hdop: float | None
    n_satellites: int | None
    valid: bool
    sentence: str = ""


@dataclass
class NmeaStats:
    """Counts of what a parser has seen (never reset by errors)."""

    lines: int = 0
    sentences: int = 0
    fixes: int = 0
    valid_fixes: int = 0
    bad_checksum: int = 0
    no_checksum: int = 0
    garbage: int = 0
    unknown_sentences: int = 0
    comments: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def _float(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _int(text: Any) -> int | None:
    value = _float(text)
    return int(value) if value is not None and value == int(value) else None


def _to_ns(day: date, tod: time) -> int:
    dt = datetime.combine(day, tod.replace(tzinfo=None), tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


class NmeaParser:
    """Incremental NMEA parser: feed lines, get fixes; keeps the date and epoch state.

    Parameters
    ----------
    skip_comments:
        Treat lines starting with ``#`` as comments (gpsd's test logs have a header).
    """

    def __init__(self, *, skip_comments: bool = True) -> None:
        self.stats = NmeaStats()
        self.skip_comments = skip_comments
        self._date: date | None = None
        self._gga: dict[str, Any] | None = None  # quality, hdop, sats, alt, tod
        self._latest: GpsFix | None = None
        self._latest_valid: GpsFix | None = None

    @property
    def latest_fix(self) -> GpsFix | None:
        """The last fix parsed, valid or not."""
        return self._latest

    @property
    def latest_valid_fix(self) -> GpsFix | None:
        """The last fix the receiver marked valid (with a position)."""
        return self._latest_valid

    @property
    def date(self) -> date | None:
        """The last UTC date the receiver gave (RMC/ZDA)."""
        return self._date

    def feed(self, line: str | bytes) -> GpsFix | None:
        """Parse one line; return a fix if it carried a position, else ``None``."""
        import pynmea2

        self.stats.lines += 1
        if isinstance(line, bytes):
            line = line.decode("ascii", errors="replace")
        text = line.strip().strip("\x00")
        if not text:
            return None
        if self.skip_comments and text.startswith("#"):
            self.stats.comments += 1
            return None
        start = text.find("$")
        if start < 0:
            start = text.find("!")  # AIS-style encapsulation; pynmea2 rejects it below
        if start < 0:
            self.stats.garbage += 1
            return None
        text = text[start:]
        try:
            msg = pynmea2.parse(text, check=True)
        except pynmea2.ChecksumError as err:
            if "missing" in str(err.args[0] if err.args else ""):
                self.stats.no_checksum += 1
            else:
                self.stats.bad_checksum += 1
            return None
        except pynmea2.SentenceTypeError:
            self.stats.unknown_sentences += 1
            return None
        except Exception:  # noqa: BLE001 - pynmea2 raises many types on junk; none is fatal
            self.stats.garbage += 1
            return None
        self.stats.sentences += 1
        kind = type(msg).__name__
        self.stats.by_type[kind] = self.stats.by_type.get(kind, 0) + 1
        try:
            fix = self._interpret(kind, msg)
        except Exception:  # noqa: BLE001 - a field pynmea2 accepted but cannot convert
            self.stats.garbage += 1
            return None
        if fix is not None:
            self.stats.fixes += 1
            self.stats.valid_fixes += int(fix.valid)
            self._latest = fix
            if fix.valid:
                self._latest_valid = fix
        return fix

    @staticmethod
    def _position(msg: Any, alt_m: float | None) -> GeoPosition | None:
        if not getattr(msg, "lat", "") or not getattr(msg, "lon", ""):
            return None
        lat, lon = float(msg.latitude), float(msg.longitude)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        return GeoPosition(lat, lon, alt_m)

    def _t_ns(self, tod: time | None) -> int | None:
        if tod is None or self._date is None:
            return None
        return _to_ns(self._date, tod)

    def _interpret(self, kind: str, msg: Any) -> GpsFix | None:
        if kind == "ZDA":
            day, month, year = _int(msg.day), _int(msg.month), _int(msg.year)
            if day and month and year:
                try:
                    self._date = date(year, month, day)
                except ValueError:
                    pass
            return None
        if kind == "GGA":
            tod = msg.timestamp
            quality = _int(msg.gps_qual)
            alt = _float(msg.altitude)
            self._gga = {"tod": tod, "quality": quality, "hdop": _float(msg.horizontal_dil),
                         "sats": _int(msg.num_sats), "alt": alt}
            position = self._position(msg, alt)
            return GpsFix(self._t_ns(tod), position, quality, self._gga["hdop"],
                          self._gga["sats"], bool(quality) and position is not None, "GGA")
        if kind in ("RMC", "GLL", "GNS"):
            tod = msg.timestamp
            if kind == "RMC" and getattr(msg, "datestamp", None) is not None:
                self._date = msg.datestamp
            gga = self._gga if self._gga and self._gga["tod"] == tod else None
            position = self._position(msg, gga["alt"] if gga else None)
            if kind == "GNS":
                mode = str(getattr(msg, "mode_indicator", "") or "")
                valid = bool(mode) and not set(mode) <= {"N"}
            else:
                valid = getattr(msg, "status", "") == "A"
            return GpsFix(
                self._t_ns(tod),
                position,
                gga["quality"] if gga else None,
                gga["hdop"] if gga else None,
                gga["sats"] if gga else None,
                valid and position is not None,
                kind,
            )
        return None


def parse_nmea_lines(lines: Iterable[str | bytes], *,
                     skip_comments: bool = True) -> tuple[list[GpsFix], NmeaStats]:
    """Parse a log's lines; returns every fix and the counts. Never raises on bad lines.

    >>> fixes, stats = parse_nmea_lines([
    ...     "$GPGGA,030719.000,3747.0873,S,17518.8938,E,1,08,1.1,59.9,M,23.7,M,,0000*7D",
    ...     "garbage", "$GPGGA,030719.000,3747.0873,S,17518.8938,E,1,08,1.1,59.9,M,,,,*7E"])
    >>> round(fixes[0].position.lat_deg, 6), fixes[0].n_satellites
    (-37.784788, 8)
    >>> stats.garbage, stats.bad_checksum
    (1, 1)
    """
    parser = NmeaParser(skip_comments=skip_comments)
    fixes = []
    for line in lines:
        fix = parser.feed(line)
        if fix is not None:
            fixes.append(fix)
    return fixes, parser.stats


def read_nmea_file(path: str, *, skip_comments: bool = True) -> tuple[list[GpsFix], NmeaStats]:
    """:func:`parse_nmea_lines` over a file (bytes; CR/LF endings; junk tolerated)."""
    with open(path, "rb") as fh:
        return parse_nmea_lines(fh.read().splitlines(), skip_comments=skip_comments)


class GpsReader:
    """Read NMEA from a serial URL, as an iterator or in a background thread.

    Parameters
    ----------
    url:
        Anything ``serial.serial_for_url`` opens: ``/dev/ttyACM0``, a pty path,
        ``socket://127.0.0.1:2947``, ``rfc2217://host:port``, ``loop://``.
    baudrate:
        4800 is the NMEA 0183 standard; many pucks use 9600.
    timeout_s:
        Read timeout; the iterator keeps waiting across timeouts until :meth:`close`.
    on_fix:
        Called with each fix from the background thread (optional).
    """

    def __init__(self, url: str, *, baudrate: int = 4800, timeout_s: float = 0.5,
                 on_fix: Callable[[GpsFix], None] | None = None) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.on_fix = on_fix
        self.parser = NmeaParser(skip_comments=False)
        self._port: Any = None
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: The error that ended the background thread, if any.
        self.error: Exception | None = None

    @property
    def stats(self) -> NmeaStats:
        with self._lock:
            return replace(self.parser.stats, by_type=dict(self.parser.stats.by_type))

    @property
    def latest_fix(self) -> GpsFix | None:
        """The last fix read, valid or not."""
        with self._lock:
            return self.parser.latest_fix

    @property
    def latest_valid_fix(self) -> GpsFix | None:
        """The last valid fix read (a station tags measurements with this one)."""
        with self._lock:
            return self.parser.latest_valid_fix

    def open(self) -> None:
        import serial

        if self._port is not None:
            return
        try:
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                               timeout=self.timeout_s)
        except (serial.SerialException, OSError, ValueError) as err:
            raise ReceiverNotFound(
                f"không mở được cổng GPS / cannot open GPS port {self.url!r}: {err} "
                "(check the device path, permissions (dialout group) or the socket address)"
            ) from err
        self._closing.clear()

    def close(self) -> None:
        self._closing.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
            self._thread = None
        if self._port is not None:
            try:
                self._port.close()
            finally:
                self._port = None

    def __iter__(self) -> Iterator[GpsFix]:
        """Yield fixes as they arrive, until :meth:`close` (or the port goes away:
        ``ReceiverLost``)."""
        import serial

        self.open()
        while not self._closing.is_set():
            try:
                line = self._port.readline()
            except (serial.SerialException, OSError, TypeError, AttributeError) as err:
                if self._closing.is_set():
                    return
                raise ReceiverLost(
                    f"mất cổng GPS / GPS port {self.url!r} went away: {err}"
                ) from err
            if not line:
                continue
            with self._lock:
                fix = self.parser.feed(line)
            if fix is not None:
                yield fix

    def _run(self) -> None:
        try:
            for fix in self:
                if self.on_fix is not None:
                    self.on_fix(fix)
        except ReceiverLost as err:
            self.error = err
            log.warning("%s", err)

    def start(self) -> GpsReader:
        """Open the port and read in a daemon thread; :attr:`latest_fix` follows."""
        self.open()
        self._thread = threading.Thread(target=self._run, name=f"gps:{self.url}", daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> GpsReader:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
