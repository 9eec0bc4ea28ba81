r"""A GPS puck for the simulator: NMEA 0183 of a simulated drive on a pseudo-terminal.

Beside the RF-scene simulator because it is the same kind of stand-in: the field
kit reads it with the real serial GPS reader (:class:`firmware_bridge.gps.GpsReader`)
exactly as it would read a USB puck. POSIX only (``os.openpty``).

>>> nmea_sentence("GPGGA,,,,,,0,00,,,M,,M,,")
'$GPGGA,,,,,,0,00,,,M,,M,,*66\r\n'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from dsp.errors import ReceiverError
from dsp.geo import bearing_deg, destination, distance_m
from dsp.types import GeoPosition

__all__ = ["NmeaRouteGps", "nmea_rmc_gga", "nmea_sentence", "route_position"]

NS = 1_000_000_000


class NmeaRouteGps:
    """A GPS puck on a pseudo-terminal, speaking NMEA 0183 for a simulated drive.

    The field kit reads it with the real serial GPS reader; :meth:`feed` writes the
    fix for scene time ``t_ns`` and waits until the reader has parsed it.
    """

    def __init__(
        self,
        waypoints: tuple[GeoPosition, ...],
        speed_mps: float,
        t0_ns: int,
        *,
        on_move: Callable[[GeoPosition], None] | None = None,
    ) -> None:
        from firmware_bridge.gps import GpsReader

        self.waypoints = tuple(waypoints)
        self.speed_mps = float(speed_mps)
        self.t0_ns = t0_ns
        self._on_move = on_move
        self._master, slave = os.openpty()
        self._slave = slave
        self.port = os.ttyname(slave)
        self.reader = GpsReader(self.port, baudrate=4800, timeout_s=0.1).start()

    def position_at(self, t_ns: int) -> GeoPosition:
        """Where the car is at scene time ``t_ns`` (constant speed round the waypoints)."""
        return route_position(self.waypoints, (t_ns - self.t0_ns) / NS * self.speed_mps)

    def feed(self, t_ns: int) -> None:
        pos = self.position_at(t_ns)
        if self._on_move is not None:
            self._on_move(pos)
        os.write(self._master, nmea_rmc_gga(t_ns, pos).encode("ascii"))
        deadline = time.monotonic() + 3.0
        want = (t_ns // 10_000_000) * 10_000_000  # NMEA carries hundredths of a second
        while time.monotonic() < deadline:
            fix = self.reader.latest_fix
            if fix is not None and fix.t_ns == want and fix.sentence == "GGA":
                return
            time.sleep(0.002)
        raise ReceiverError("GPS giả lập không phản hồi / the simulated GPS did not answer")

    def close(self) -> None:
        self.reader.close()
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


def route_position(waypoints: tuple[GeoPosition, ...], s_m: float) -> GeoPosition:
    """The point ``s_m`` metres along the closed route through ``waypoints``."""
    legs = [(a, waypoints[(i + 1) % len(waypoints)]) for i, a in enumerate(waypoints)]
    lengths = [distance_m(a, b) for a, b in legs]
    s_m %= sum(lengths)
    for (a, b), length in zip(legs, lengths, strict=True):
        if s_m <= length:
            return destination(a, bearing_deg(a, b), s_m)
        s_m -= length
    return waypoints[0]


def nmea_sentence(body: str) -> str:
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    return f"${body}*{checksum:02X}\r\n"


def nmea_rmc_gga(t_ns: int, p: GeoPosition) -> str:
    t = datetime.fromtimestamp(t_ns / NS, tz=UTC)
    hms = f"{t:%H%M%S}.{t.microsecond // 10_000:02d}"
    lat = abs(p.lat_deg)
    lon = abs(p.lon_deg)
    lat_s = f"{int(lat):02d}{(lat - int(lat)) * 60:07.4f}"
    lon_s = f"{int(lon):03d}{(lon - int(lon)) * 60:07.4f}"
    ns = "N" if p.lat_deg >= 0 else "S"
    ew = "E" if p.lon_deg >= 0 else "W"
    rmc = f"GPRMC,{hms},A,{lat_s},{ns},{lon_s},{ew},68.0,0.0,{t:%d%m%y},,,A"
    gga = f"GPGGA,{hms},{lat_s},{ns},{lon_s},{ew},1,09,0.9,300.0,M,-20.0,M,,"
    return nmea_sentence(rmc) + nmea_sentence(gga)
