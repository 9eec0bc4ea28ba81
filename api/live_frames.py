"""The binary live-spectrum frame sent over the WebSocket.

Little-endian; a 56-byte header then ``n_bins`` int16 levels in centi-dB
(``-32768``: no value)::

    offset  type     field
    0       4s       magic b"RFW1"
    4       u16      header length (56)
    6       u16      flags (bit 0: levels are dBm, else dBFS)
    8       i64      t_ns (UTC)
    16      f64      f_start_hz (centre of bin 0)
    24      f64      f_step_hz
    32      u32      n_bins
    36      20s      band (UTF-8, NUL-padded)

Centi-dB int16 holds -327.67..+327.67 dB at 0.01 dB, far finer than any RTL-SDR
level, in a quarter of the bytes of float64 JSON text.

>>> from api.live import SpectrumFrame
>>> f = SpectrumFrame("ls-hn", "fm", 88e6, 25e3, (-90.0, -41.25), "dBm", 5)
>>> d = decode_frame(encode_frame(f))
>>> d["band"], d["power_db"], d["unit"], d["f_start_hz"]
('fm', [-90.0, -41.25], 'dBm', 88000000.0)
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["HEADER", "MAGIC", "decode_frame", "encode_frame"]

MAGIC = b"RFW1"
HEADER = struct.Struct("<4sHHqddI20s")
_NO_VALUE = -32768


def encode_frame(frame) -> bytes:  # noqa: ANN001 - SpectrumFrame
    """The wire bytes of one frame."""
    levels = np.asarray(frame.power_db, dtype=np.float64) * 100.0
    ok = np.isfinite(levels)
    centi = np.full(levels.shape, _NO_VALUE, dtype="<i2")
    centi[ok] = np.clip(np.round(levels[ok]), -32767, 32767).astype("<i2")
    flags = 1 if frame.power_unit == "dBm" else 0
    head = HEADER.pack(MAGIC, HEADER.size, flags, int(frame.t_ns), float(frame.f_start_hz),
                       float(frame.f_step_hz), len(centi), frame.band.encode("utf-8")[:20])
    return head + centi.tobytes()


def decode_frame(data: bytes) -> dict:
    """The fields of a frame (for tests, benchmarks and Python clients)."""
    magic, hlen, flags, t_ns, f0, df, n, band = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ValueError("not an rfwatch live frame")
    centi = np.frombuffer(data, dtype="<i2", count=n, offset=hlen)
    power = [None if c == _NO_VALUE else c / 100.0 for c in centi.tolist()]
    return {"t_ns": t_ns, "f_start_hz": f0, "f_step_hz": df, "n_bins": n,
            "band": band.rstrip(b"\0").decode("utf-8"), "unit": "dBm" if flags & 1 else "dBFS",
            "power_db": power}
