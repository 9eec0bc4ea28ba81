"""An antenna rotator driven over a serial line in the Yaesu GS-232 protocol.

GS-232A/B controllers (and the many controllers that emulate them: ERC, K3NG,
Idiom Press in GS-232 mode) take ASCII commands ended by a carriage return and
answer with a carriage return after every command, plus a line feed when the
command returns data; commands are not echoed; an unknown command answers ``?>``
(Yaesu GS-232A manual, "General operation"). Angles are 3 digits, zero-padded.
The commands used here:

=========  ===============================  =========================
command    meaning                          answer
=========  ===============================  =========================
``C``      report azimuth                   ``+0nnn`` (GS-232A) or
                                            ``AZ=nnn`` (GS-232B)
``Mnnn``   turn to azimuth nnn degrees      (CR only)
``S``      stop all rotation                (CR only)
=========  ===============================  =========================

The port is opened with pyserial's ``serial_for_url``: a device (``/dev/ttyUSB0``),
a pty, ``socket://host:port`` (ser2net) or ``rfc2217://``. Serial faults become
:class:`dsp.errors.ReceiverLost` (the station's supervisor reopens), an answer
that is not GS-232 becomes :class:`dsp.errors.ReceiverError` naming the port.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from types import TracebackType

from dsp.errors import ParameterError, ReceiverError, ReceiverLost, ReceiverNotFound

__all__ = ["Gs232Rotator", "parse_azimuth"]

log = logging.getLogger(__name__)

_AZ = re.compile(rb"^\s*(?:\+0?(\d{3,4})|AZ=\s*(\d{1,3}))")


def parse_azimuth(answer: bytes) -> float:
    """Azimuth in degrees from a GS-232 ``C`` answer (``+0123`` or ``AZ=123``).

    >>> parse_azimuth(b"+0123\\r\\n"), parse_azimuth(b"AZ=045\\r\\n")
    (123.0, 45.0)
    """
    m = _AZ.match(answer)
    if not m:
        raise ValueError(f"not a GS-232 azimuth answer: {answer!r}")
    return float(int(m.group(1) or m.group(2)))


class Gs232Rotator:
    """A GS-232 rotator controller on a serial port (see the module notes).

    Parameters
    ----------
    url:
        Anything ``serial.serial_for_url`` opens.
    baudrate:
        The controller's rate (GS-232A: 150-9600; 9600 is common).
    timeout_s:
        How long to wait for an answer.
    tolerance_deg:
        How close to the target :meth:`turn_to` must get.
    clock, sleep:
        Injected for tests and virtual time.
    """

    def __init__(self, url: str, *, baudrate: int = 9600, timeout_s: float = 1.0,
                 tolerance_deg: float = 3.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.tolerance_deg = tolerance_deg
        self._clock = clock
        self._sleep = sleep
        self._port = None

    def open(self) -> Gs232Rotator:
        import serial  # pyserial: only when a rotator is really used

        try:
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                               timeout=self.timeout_s)
        except (serial.SerialException, OSError, ValueError) as err:
            raise ReceiverNotFound(f"rotator {self.url}: cannot open: {err}") from err
        return self

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            finally:
                self._port = None

    def __enter__(self) -> Gs232Rotator:
        return self.open() if self._port is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _command(self, text: str, *, expect_data: bool) -> bytes:
        import serial

        if self._port is None:
            self.open()
        port = self._port
        try:
            port.reset_input_buffer()
            port.write(text.encode("ascii") + b"\r")
            port.flush()
            answer = port.read_until(b"\n" if expect_data else b"\r")
        except (serial.SerialException, OSError) as err:
            self.close()
            raise ReceiverLost(f"rotator {self.url}: {err}") from err
        if answer.strip().startswith(b"?>"):
            raise ReceiverError(f"rotator {self.url}: command {text!r} refused (?>)")
        if not answer:
            raise ReceiverLost(f"rotator {self.url}: no answer to {text!r} "
                               f"within {self.timeout_s} s")
        return answer

    def azimuth_deg(self) -> float:
        """The antenna's azimuth now, degrees clockwise from north."""
        answer = self._command("C", expect_data=True)
        try:
            return parse_azimuth(answer)
        except ValueError as err:
            raise ReceiverError(f"rotator {self.url}: {err}") from err

    def stop(self) -> None:
        self._command("S", expect_data=False)

    def turn_to(self, azimuth_deg: float, *, max_wait_s: float = 120.0,
                poll_s: float = 0.2) -> float:
        """Turn to ``azimuth_deg`` (0-360) and wait until there; returns where it stopped."""
        if not (math.isfinite(azimuth_deg) and 0.0 <= azimuth_deg <= 360.0):
            raise ParameterError(f"azimuth_deg must be in [0, 360], got {azimuth_deg!r}")
        target = int(round(azimuth_deg))
        self._command(f"M{target:03d}", expect_data=False)
        deadline = self._clock() + max_wait_s
        while True:
            az = self.azimuth_deg()
            if abs((az - target + 180.0) % 360.0 - 180.0) <= self.tolerance_deg:
                return az
            if self._clock() >= deadline:
                self.stop()
                raise ReceiverError(f"rotator {self.url}: did not reach {target} deg within "
                                    f"{max_wait_s} s (at {az:.0f} deg)")
            self._sleep(poll_s)
