"""A simulated GS-232 rotator controller: the rotator's half of the hardware fake.

It answers the GS-232 commands of :mod:`firmware_bridge.rotator` (``C``, ``Mnnn``,
``S``; anything else ``?>``) as a Yaesu GS-232A does: a carriage return after every
command, a line feed after data, no echo. The antenna turns at ``speed_deg_s`` on
the controller's clock; each position is passed to ``on_azimuth`` (e.g. a
:class:`~firmware_bridge.simulator.receiver.SimulatorReceiver`'s
``set_antenna_azimuth``), so levels follow the antenna's pattern.
:meth:`SimulatedGs232.serve_pty` puts it behind a pseudo-terminal, so the real
pyserial client talks to it exactly as to a controller on ``/dev/ttyUSB0``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

__all__ = ["SimulatedGs232"]


class SimulatedGs232:
    """State and protocol of one GS-232 controller (thread-safe)."""

    def __init__(self, *, azimuth_deg: float = 0.0, speed_deg_s: float = 6.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_azimuth: Callable[[float], None] | None = None,
                 answer_style: str = "A") -> None:
        self._az = float(azimuth_deg) % 360.0
        self._target: float | None = None
        self._speed = float(speed_deg_s)
        self._clock = clock
        self._t = clock()
        self._on_azimuth = on_azimuth
        self._style = answer_style
        self._lock = threading.Lock()
        self.commands: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master: int | None = None

    def _advance(self) -> None:
        now = self._clock()
        dt, self._t = now - self._t, now
        if self._target is not None:
            # GS-232 rotators turn the short way inside 0-360 (no wrap through north
            # for a 360-degree rotator: they go back through the stop).
            diff = self._target - self._az
            step = self._speed * dt
            if abs(diff) <= step:
                self._az, self._target = self._target, None
            else:
                self._az += step if diff > 0 else -step
        if self._on_azimuth is not None:
            self._on_azimuth(self._az)

    @property
    def azimuth_deg(self) -> float:
        with self._lock:
            self._advance()
            return self._az

    def handle(self, command: str) -> bytes:
        """The controller's answer to one command (without its CR)."""
        cmd = command.strip().upper()
        with self._lock:
            self._advance()
            if len(self.commands) < 1000:  # bounded: a test may read them back
                self.commands.append(cmd)
            if cmd == "C":
                az = int(round(self._az)) % 360
                data = f"+0{az:03d}" if self._style == "A" else f"AZ={az:03d}"
                return data.encode() + b"\r\n"
            if cmd.startswith("M") and len(cmd) == 4 and cmd[1:].isdigit():
                target = int(cmd[1:])
                if target > 360:
                    return b"?>\r"
                self._target = float(target)
                return b"\r"
            if cmd in ("S", "A"):
                self._target = None
                return b"\r"
            return b"?>\r"

    def serve_pty(self) -> str:
        """Answer on a pseudo-terminal in a thread; returns the path to open."""
        import pty
        import tty

        master, slave = pty.openpty()
        tty.setraw(slave)
        self._master = master
        path = os.ttyname(slave)

        def run() -> None:
            buf = b""
            while not self._stop.is_set():
                try:
                    import select

                    ready, _, _ = select.select([master], [], [], 0.05)
                    if not ready:
                        continue
                    chunk = os.read(master, 256)
                except OSError:
                    return
                buf += chunk
                while b"\r" in buf:
                    line, buf = buf.split(b"\r", 1)
                    os.write(master, self.handle(line.decode("ascii", "replace")))

        self._thread = threading.Thread(target=run, name="gs232-sim", daemon=True)
        self._thread.start()
        self._slave = slave
        return path

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        for fd in (self._master, getattr(self, "_slave", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = None
