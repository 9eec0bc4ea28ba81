"""Choose a receiver by a spec string (configuration, CLI ``--receiver``).

==================================  ==============================================
spec                                receiver
==================================  ==============================================
``rtlsdr:`` / ``rtlsdr:#0``         RTL-SDR by index (default 0)
``rtlsdr:SERIAL``                   RTL-SDR by serial number
``rtltcp:HOST:PORT``                rtl_tcp server (``rtltcp:[::1]:1234`` for IPv6;
                                    ``rtltcp:HOST`` uses port 1234)
``file:PATH``                       replay of a recording (loops; tune within span)
``simulator:SCENE.yaml#RECEIVER``   RF-scene simulator (receiver name optional)
==================================  ==============================================

The receiver is returned closed (``open()`` or ``with`` it). Keyword arguments are
passed to the receiver: ``f_center_hz``, ``sample_rate_hz``, ``gain_db``, ``ppm`` for
hardware and rtl_tcp; ``rate_hz``, ``f_center_hz``, ``fmt`` for raw files; ``seed``
for the simulator.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dsp.errors import ConfigError
from firmware_bridge.receiver import Receiver

__all__ = ["open_receiver", "parse_spec", "ReceiverSpec"]

_KINDS = ("rtlsdr", "rtltcp", "file", "simulator")


class ReceiverSpec(NamedTuple):
    """A parsed spec: ``kind``, ``target`` (index, serial, (host, port) or path) and
    ``extra`` (the simulator's receiver name)."""

    kind: str
    target: Any
    extra: str | None = None


def _bad(spec: str, why: str) -> ConfigError:
    return ConfigError(
        f"bộ thu không hợp lệ / bad receiver spec {spec!r}: {why} "
        "(e.g. rtlsdr:#0, rtlsdr:00000001, rtltcp:127.0.0.1:1234, file:rec.sigmf-meta, "
        "simulator:scene.yaml#site1)"
    )


def parse_spec(spec: str) -> ReceiverSpec:
    """Parse a receiver spec.

    >>> parse_spec("rtlsdr:#1")
    ReceiverSpec(kind='rtlsdr', target=1, extra=None)
    >>> tuple(parse_spec("rtltcp:192.168.1.5:1234"))
    ('rtltcp', ('192.168.1.5', 1234), None)
    >>> tuple(parse_spec("simulator:scenes/border.yaml#dong_dang"))
    ('simulator', 'scenes/border.yaml', 'dong_dang')
    """
    if not isinstance(spec, str) or ":" not in spec:
        raise _bad(str(spec), f"need KIND:TARGET with KIND one of {', '.join(_KINDS)}")
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "rtlsdr":
        rest = rest.strip()
        if rest in ("", "#"):
            return ReceiverSpec("rtlsdr", 0)
        if rest.startswith("#"):
            try:
                index = int(rest[1:])
            except ValueError:
                raise _bad(spec, "index after '#' must be a whole number") from None
            if index < 0:
                raise _bad(spec, "index must be >= 0")
            return ReceiverSpec("rtlsdr", index)
        return ReceiverSpec("rtlsdr", rest)
    if kind == "rtltcp":
        rest = rest.strip()
        if rest.startswith("["):  # [IPv6]:port
            host, sep, tail = rest[1:].partition("]")
            if not sep:
                raise _bad(spec, "missing ']' after an IPv6 address")
            port_text = tail[1:] if tail.startswith(":") else ""
        else:
            host, _, port_text = rest.partition(":")
        if not host:
            raise _bad(spec, "missing host")
        try:
            port = int(port_text) if port_text else 1234
        except ValueError:
            raise _bad(spec, f"port {port_text!r} is not a number") from None
        if not 0 < port < 65536:
            raise _bad(spec, f"port {port} out of range")
        return ReceiverSpec("rtltcp", (host, port))
    if kind == "file":
        if not rest:
            raise _bad(spec, "missing path")
        return ReceiverSpec("file", rest)
    if kind == "simulator":
        path, _, name = rest.partition("#")
        if not path:
            raise _bad(spec, "missing scene file")
        return ReceiverSpec("simulator", path, name or None)
    raise _bad(spec, f"unknown kind {kind!r}; use one of {', '.join(_KINDS)}")


def open_receiver(spec: str, **kwargs: Any) -> Receiver:
    """Build the receiver a spec names (not yet opened).

    Raises
    ------
    ConfigError
        The spec is malformed or names an unknown kind.
    InputFormatError
        A ``file:`` recording cannot be read.
    """
    parsed = parse_spec(spec)
    if parsed.kind == "rtlsdr":
        from firmware_bridge.rtlsdr import RtlSdrReceiver

        return RtlSdrReceiver(parsed.target, **kwargs)
    if parsed.kind == "rtltcp":
        from firmware_bridge.rtltcp import RtlTcpReceiver

        host, port = parsed.target
        return RtlTcpReceiver(host, port, **kwargs)
    if parsed.kind == "file":
        from firmware_bridge.file_receiver import FileReceiver

        file_keys = ("rate_hz", "f_center_hz", "fmt")
        load = {k: kwargs.pop(k) for k in file_keys if k in kwargs}
        # A recording's rate and centre are its own: the hardware-style settings a
        # caller may pass are applied after opening (tune within the span).
        tune_hz = kwargs.pop("tune_hz", None)
        receiver = FileReceiver.from_path(parsed.target, **load, **kwargs)
        if tune_hz is not None:
            receiver.tune(tune_hz)
        return receiver
    from firmware_bridge.simulator import SimulatorReceiver  # the RF-scene simulator

    # Only the simulator's own options travel; hardware settings are applied by the
    # caller through the Receiver interface after opening.
    sim_options = {k: kwargs[k] for k in ("seed", "t0_ns") if k in kwargs}
    return SimulatorReceiver.from_scene_file(parsed.target, receiver_name=parsed.extra,
                                             **sim_options)
