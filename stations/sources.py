"""Where the agent's receivers and positions come from, by configuration.

- :func:`open_site_receiver`: a :class:`ReceiverConfig` -> a :class:`Receiver`
  through :func:`firmware_bridge.factory.open_receiver`; ``simulator:NAME#RX``
  with a bare name opens a scene shipped with the simulator (``lang_son_demo``).
- :class:`GpsPositionSource`: positions from an NMEA GPS on a serial port
  (:class:`firmware_bridge.gps.GpsReader`), as the field kit tags its measurements.
"""

from __future__ import annotations

from pathlib import Path

from firmware_bridge.gps import GpsReader
from firmware_bridge.receiver import Receiver
from stations.batch import PositionTag
from stations.config import ReceiverConfig

__all__ = ["GpsPositionSource", "open_site_receiver", "resolve_spec"]


def resolve_spec(spec: str) -> str:
    """``simulator:lang_son_demo#rx`` -> the shipped scene's path; others unchanged."""
    if not spec.startswith("simulator:"):
        return spec
    target, sep, rx = spec[len("simulator:") :].partition("#")
    if Path(target).exists() or target.endswith((".yaml", ".yml")):
        return spec
    from firmware_bridge.simulator import scene_path

    return f"simulator:{scene_path(target)}{sep}{rx}"


def open_site_receiver(cfg: ReceiverConfig, *, seed: int = 0) -> Receiver:
    """Build (not open) the receiver of ``cfg``; the agent opens and configures it."""
    from firmware_bridge.factory import open_receiver

    spec = resolve_spec(cfg.spec)
    if spec.startswith("simulator:"):
        return open_receiver(spec, seed=seed)
    return open_receiver(spec)


class GpsPositionSource:
    """The latest valid fix of a GPS reader, as a measurement's position tag.

    ``None`` (no fix) until the GPS reports a valid position; the agent then tags
    measurements without a position and reports ``gps_fix = false`` in health.
    """

    def __init__(self, reader: GpsReader) -> None:
        self.reader = reader

    def position(self) -> PositionTag | None:
        fix = self.reader.latest_fix
        if fix is None or not fix.valid or fix.position is None:
            return None
        p = fix.position
        return PositionTag(
            lat_deg=p.lat_deg, lon_deg=p.lon_deg, alt_m=p.alt_m, source="gps", hdop=fix.hdop
        )
