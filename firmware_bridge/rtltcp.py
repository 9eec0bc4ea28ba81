"""A client of the standard rtl_tcp protocol, as a :class:`Receiver` (``rtltcp:HOST:PORT``).

The protocol (osmocom rtl-sdr ``src/rtl_tcp.c``)
-----------------------------------------------
- On connect the server sends a 12-byte header: ``b"RTL0"``, the tuner type (uint32
  big-endian, :data:`TUNER_TYPES`) and the number of gain steps (uint32 BE).
- Then an endless stream of interleaved uint8 I/Q (127.5 is zero).
- The client sends 5-byte commands: one command byte and a uint32 BE parameter
  (:class:`Command`). Signed values (ppm) travel as their two's complement.

pyrtlsdr's ``RtlSdrTcpClient`` speaks pyrtlsdr's own JSON protocol, not this one
(../shared/INFRA.md), hence this module; it is our own because it is a few dozen
lines of ``struct`` over a socket.

Retuning and stale samples: the server keeps streaming while a command travels, so
bytes already in flight belong to the old tuning. After a tune or rate change the
client first drains whatever already sits in its socket buffer (all of it sent
before the command arrived), then discards ``settle_bytes`` more (like rtl_power, which
drops 4096 bytes after each retune; rtl_tcp buffers more, so our default is larger).

Faults: a connection that drops mid-stream is reopened up to ``reconnect_attempts``
times with exponential back-off; every setting is sent again on the new connection
and the block being read is restarted and flagged with ``dropped_samples``. When
every attempt fails the read raises :class:`ReceiverLost`. A server that cannot be
reached at :meth:`RtlTcpReceiver.open` raises :class:`ReceiverNotFound`.
"""

from __future__ import annotations

import enum
import logging
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dsp.errors import ReceiverError, ReceiverLost, ReceiverNotFound
from dsp.types import IQBlock
from firmware_bridge.receiver import R820T_GAINS_DB, Receiver, ReceiverCapabilities

__all__ = [
    "Command",
    "TUNER_TYPES",
    "TUNER_GAINS_DB",
    "HEADER_MAGIC",
    "RtlTcpHeader",
    "encode_command",
    "decode_commands",
    "pack_header",
    "parse_header",
    "RtlTcpReceiver",
]

log = logging.getLogger(__name__)

HEADER_MAGIC = b"RTL0"
_HEADER = struct.Struct(">4sII")
_COMMAND = struct.Struct(">BI")


class Command(enum.IntEnum):
    """rtl_tcp command bytes."""

    SET_FREQUENCY = 0x01
    SET_SAMPLE_RATE = 0x02
    SET_GAIN_MODE = 0x03  # 0 = automatic (AGC of the tuner), 1 = manual
    SET_GAIN = 0x04  # tenths of a dB
    SET_FREQ_CORRECTION = 0x05  # ppm, signed
    SET_IF_GAIN = 0x06  # (stage << 16) | (gain in tenths of a dB & 0xffff)
    SET_TEST_MODE = 0x07
    SET_AGC_MODE = 0x08  # the RTL2832's digital AGC
    SET_DIRECT_SAMPLING = 0x09
    SET_OFFSET_TUNING = 0x0A
    SET_RTL_XTAL = 0x0B
    SET_TUNER_XTAL = 0x0C
    SET_GAIN_BY_INDEX = 0x0D
    SET_BIAS_TEE = 0x0E


#: rtl_tcp tuner type numbers (``enum rtlsdr_tuner``).
TUNER_TYPES: dict[int, str] = {
    0: "unknown",
    1: "E4000",
    2: "FC0012",
    3: "FC0013",
    4: "FC2580",
    5: "R820T",
    6: "R828D",
}

#: Gain tables by tuner (librtlsdr ``rtlsdr_get_tuner_gains``), dB.
TUNER_GAINS_DB: dict[str, tuple[float, ...]] = {
    "E4000": tuple(g / 10 for g in (-10, 15, 40, 65, 90, 115, 140, 165, 190, 215, 240, 290,
                                    340, 420)),
    "FC0012": tuple(g / 10 for g in (-99, -40, 71, 179, 192)),
    "FC0013": tuple(g / 10 for g in (-99, -73, -65, -63, -60, -58, -54, 58, 61, 63, 65, 67,
                                     68, 70, 71, 179, 181, 182, 184, 186, 188, 191, 197)),
    "FC2580": (0.0,),
    "R820T": R820T_GAINS_DB,
    "R828D": R820T_GAINS_DB,
}

#: RTL2832 sample-rate ranges accepted by librtlsdr (Hz, inclusive).
RTL_SAMPLE_RATE_RANGES_HZ: tuple[tuple[float, float], ...] = ((225_001.0, 300_000.0),
                                                              (900_001.0, 3_200_000.0))


@dataclass(frozen=True, slots=True)
class RtlTcpHeader:
    """The server's greeting."""

    tuner_type: int
    gain_count: int

    @property
    def tuner(self) -> str:
        return TUNER_TYPES.get(self.tuner_type, f"type {self.tuner_type}")


def pack_header(tuner_type: int, gain_count: int) -> bytes:
    """The 12-byte greeting.

    >>> pack_header(5, 29).hex()
    '52544c30000000050000001d'
    """
    return _HEADER.pack(HEADER_MAGIC, tuner_type, gain_count)


def parse_header(data: bytes) -> RtlTcpHeader:
    """Parse the 12-byte greeting; ``ReceiverError`` if it is not rtl_tcp's."""
    if len(data) != _HEADER.size:
        raise ReceiverError(f"rtl_tcp header must be 12 bytes, got {len(data)}")
    magic, tuner_type, gain_count = _HEADER.unpack(data)
    if magic != HEADER_MAGIC:
        raise ReceiverError(
            f"máy chủ không phải rtl_tcp / not an rtl_tcp server (greeting {magic!r}, "
            "want b'RTL0'; pyrtlsdr's RtlSdrTcpServer speaks another protocol)"
        )
    return RtlTcpHeader(tuner_type, gain_count)


def encode_command(command: Command | int, value: int) -> bytes:
    """One 5-byte command; negative values are sent as their 32-bit two's complement.

    >>> encode_command(Command.SET_FREQUENCY, 98_500_000).hex()
    '0105defda0'
    >>> encode_command(Command.SET_FREQ_CORRECTION, -2).hex()
    '05fffffffe'
    """
    return _COMMAND.pack(int(command), int(value) & 0xFFFFFFFF)


def decode_commands(buffer: bytearray) -> list[tuple[int, int]]:
    """Take every whole 5-byte command off the front of ``buffer`` (in place)."""
    out = []
    n_whole = len(buffer) // _COMMAND.size
    for i in range(n_whole):
        out.append(_COMMAND.unpack_from(buffer, i * _COMMAND.size))
    del buffer[: n_whole * _COMMAND.size]
    return out


def _signed32(value: int) -> int:
    return value - (1 << 32) if value & 0x80000000 else value


class RtlTcpReceiver(Receiver):
    """A :class:`Receiver` reading from an rtl_tcp server.

    Parameters
    ----------
    host, port:
        The server (rtl_tcp's defaults are 127.0.0.1 and 1234).
    f_center_hz, sample_rate_hz, gain_db, ppm:
        Settings sent on every (re)connection. ``gain_db=None`` selects automatic gain.
    connect_timeout_s, read_timeout_s:
        Socket timeouts; a read that stalls longer counts as a lost connection.
    reconnect_attempts, backoff_s, backoff_max_s:
        How many times a dropped connection is reopened, and the back-off between
        tries (doubling from ``backoff_s`` up to ``backoff_max_s``).
    settle_bytes:
        Bytes discarded after each tune or sample-rate change (stale samples).
    sleep:
        Sleep function, injectable for tests of the back-off.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1234,
        *,
        f_center_hz: float = 100e6,
        sample_rate_hz: float = 2.048e6,
        gain_db: float | None = None,
        ppm: float = 0.0,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 5.0,
        reconnect_attempts: int = 3,
        backoff_s: float = 0.25,
        backoff_max_s: float = 5.0,
        settle_bytes: int = 65536,
        receiver_id: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.receiver_id = receiver_id or f"rtltcp:{host}:{port}"
        self._f_center_hz = float(f_center_hz)
        self._sample_rate_hz = float(sample_rate_hz)
        self._gain_db = gain_db
        self._ppm = float(ppm)
        self._extra: dict[Command, int] = {}
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.reconnect_attempts = int(reconnect_attempts)
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.settle_bytes = int(settle_bytes)
        self._sleep = sleep
        self._sock: socket.socket | None = None
        self._want_open = False
        self._header: RtlTcpHeader | None = None
        self._discard = 0
        self._drain = False
        #: Number of successful reconnections since :meth:`open` (health reporting).
        self.reconnects = 0

    # -- connection -----------------------------------------------------------------

    def _connect(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except OSError as err:
            raise ReceiverNotFound(
                f"không kết nối được rtl_tcp / cannot reach rtl_tcp at {self.host}:{self.port} "
                f"({err}); is `rtl_tcp -a {self.host} -p {self.port}` running and the port open?"
            ) from err
        try:
            sock.settimeout(self.read_timeout_s)
            header = self._recv_exact_from(sock, _HEADER.size)
            self._header = parse_header(header)
        except (OSError, ReceiverError) as err:
            sock.close()
            if isinstance(err, ReceiverError):
                raise
            raise ReceiverNotFound(
                f"rtl_tcp at {self.host}:{self.port} sent no header ({err})"
            ) from err
        self._sock = sock
        self._send_settings()

    @staticmethod
    def _recv_exact_from(sock: socket.socket, n: int) -> bytes:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = sock.recv_into(view[got:], n - got)
            if k == 0:
                raise ConnectionError("connection closed by the server")
            got += k
        return bytes(buf)

    def _send(self, command: Command, value: int) -> None:
        if self._sock is None:
            return
        try:
            self._sock.sendall(encode_command(command, value))
        except OSError as err:
            log.warning("rtl_tcp %s:%s: sending %s failed: %s", self.host, self.port,
                        command.name, err)
            self._drop_socket()

    def _send_settings(self) -> None:
        self._send(Command.SET_SAMPLE_RATE, round(self._sample_rate_hz))
        self._send(Command.SET_FREQUENCY, round(self._f_center_hz))
        if self._ppm:
            self._send(Command.SET_FREQ_CORRECTION, round(self._ppm))
        self._send_gain()
        for command, value in self._extra.items():
            self._send(command, value)
        # Whatever arrives before the server applies these is at its old settings.
        self._discard, self._drain = self.settle_bytes, True

    def _send_gain(self) -> None:
        if self._gain_db is None:
            self._send(Command.SET_GAIN_MODE, 0)
        else:
            # The tuner has only its table's steps (known once the header names it).
            self._gain_db = self.capabilities.nearest_gain_db(self._gain_db)
            self._send(Command.SET_GAIN_MODE, 1)
            self._send(Command.SET_GAIN, round(self._gain_db * 10))

    def _drop_socket(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _reconnect(self) -> None:
        """Reopen with back-off; ``ReceiverLost`` after the last failed attempt."""
        self._drop_socket()
        delay = self.backoff_s
        last: Exception | None = None
        for attempt in range(1, self.reconnect_attempts + 1):
            self._sleep(delay)
            try:
                self._connect()
            except ReceiverError as err:
                last = err
                log.warning("rtl_tcp %s:%s: reconnect %d/%d failed: %s", self.host, self.port,
                            attempt, self.reconnect_attempts, err)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            self.reconnects += 1
            log.info("rtl_tcp %s:%s: reconnected (attempt %d)", self.host, self.port, attempt)
            return
        raise ReceiverLost(
            f"mất kết nối rtl_tcp / lost rtl_tcp server {self.host}:{self.port} after "
            f"{self.reconnect_attempts} reconnect attempts: {last}"
        ) from last

    # -- Receiver -------------------------------------------------------------------

    @property
    def header(self) -> RtlTcpHeader | None:
        """The server's greeting (after :meth:`open`)."""
        return self._header

    @property
    def capabilities(self) -> ReceiverCapabilities:
        tuner = self._header.tuner if self._header else "unknown"
        if tuner == "E4000":
            f_min, f_max = 52e6, 2200e6
        else:
            f_min, f_max = 24e6, 1766e6
        return ReceiverCapabilities(
            f_min_hz=f_min,
            f_max_hz=f_max,
            gains_db=TUNER_GAINS_DB.get(tuner, ()),
            sample_rate_ranges_hz=RTL_SAMPLE_RATE_RANGES_HZ,
            tuner=tuner,
        )

    def open(self) -> None:
        if self._sock is None:
            self.reconnects = 0
            self._connect()
        self._want_open = True

    def close(self) -> None:
        self._want_open = False
        self._drop_socket()

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def tune(self, f_hz: float) -> None:
        if not 0 < f_hz < 2**32:
            raise ReceiverError(f"tần số ngoài phạm vi rtl_tcp / frequency out of range: {f_hz}")
        self._f_center_hz = float(f_hz)
        self._send(Command.SET_FREQUENCY, round(f_hz))
        self._discard, self._drain = self.settle_bytes, True

    @property
    def f_center_hz(self) -> float:
        return self._f_center_hz

    def set_sample_rate(self, rate_hz: float) -> None:
        if not any(lo <= rate_hz <= hi for lo, hi in RTL_SAMPLE_RATE_RANGES_HZ):
            raise ReceiverError(
                f"tốc độ lấy mẫu không hợp lệ / invalid RTL-SDR sample rate {rate_hz:.0f} S/s "
                "(allowed 225001–300000 and 900001–3200000)"
            )
        self._sample_rate_hz = float(rate_hz)
        self._send(Command.SET_SAMPLE_RATE, round(rate_hz))
        self._discard, self._drain = self.settle_bytes, True

    @property
    def sample_rate_hz(self) -> float:
        return self._sample_rate_hz

    def set_gain(self, gain_db: float | None) -> None:
        if gain_db is not None:
            gain_db = self.capabilities.nearest_gain_db(gain_db)
        self._gain_db = gain_db
        self._send_gain()

    @property
    def gain_db(self) -> float | None:
        return self._gain_db

    def set_ppm(self, ppm: float) -> None:
        self._ppm = float(ppm)
        self._send(Command.SET_FREQ_CORRECTION, round(ppm))

    def send_command(self, command: Command, value: int) -> None:
        """Send any other rtl_tcp command (AGC, direct sampling, offset tuning, bias
        tee, IF gain, test mode, gain by index); it is re-sent after a reconnect."""
        command = Command(command)
        self._extra[command] = int(value)
        self._send(command, int(value))

    def set_bias_tee(self, enabled: bool) -> None:
        self.send_command(Command.SET_BIAS_TEE, int(enabled))

    def set_agc(self, enabled: bool) -> None:
        self.send_command(Command.SET_AGC_MODE, int(enabled))

    def set_direct_sampling(self, mode: int) -> None:
        """0 off, 1 I branch, 2 Q branch."""
        self.send_command(Command.SET_DIRECT_SAMPLING, int(mode))

    def set_offset_tuning(self, enabled: bool) -> None:
        self.send_command(Command.SET_OFFSET_TUNING, int(enabled))

    def _recv_into(self, view: memoryview) -> int:
        """Fill ``view`` from the socket; raise ``ConnectionError``/``OSError`` on loss."""
        assert self._sock is not None
        got = 0
        n = len(view)
        while got < n:
            k = self._sock.recv_into(view[got:], n - got)
            if k == 0:
                raise ConnectionError("connection closed by the server")
            got += k
        return got

    def _drain_buffered(self) -> None:
        """Discard what is already buffered (bounded by the socket's receive buffer)."""
        assert self._sock is not None
        budget = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        scratch = bytearray(1 << 16)
        total = 0
        try:
            while total < budget:
                k = self._sock.recv_into(scratch, min(budget - total, len(scratch)),
                                         socket.MSG_DONTWAIT)
                if k == 0:
                    raise ConnectionError("connection closed by the server")
                total += k
        except BlockingIOError:
            pass
        if total % 2:
            # Keep I/Q alignment: an odd count would swap I and Q from here on.
            self._recv_into(memoryview(scratch)[:1])

    def _skip(self, n: int) -> None:
        scratch = memoryview(bytearray(min(n, 1 << 16)))
        while n > 0:
            k = min(n, len(scratch))
            self._recv_into(scratch[:k])
            n -= k

    def read(self, n_samples: int) -> IQBlock:
        if n_samples <= 0:
            raise ReceiverError(f"n_samples must be > 0, got {n_samples}")
        if not self._want_open:
            raise ReceiverError(f"chưa mở / receiver not open: {self.receiver_id}")
        if self._sock is None:  # a command could not be sent: the link is gone
            self._reconnect()
        buf = np.empty(2 * n_samples, dtype=np.uint8)
        dropped = 0
        while True:
            try:
                if self._drain:
                    self._drain_buffered()
                    self._drain = False
                if self._discard:
                    self._skip(self._discard)
                    self._discard = 0
                t_start_ns = time.time_ns()
                self._recv_into(memoryview(buf))
                break
            except (OSError, ConnectionError) as err:
                log.warning("rtl_tcp %s:%s: connection lost mid-stream: %s", self.host,
                            self.port, err)
                # The partial block is thrown away and read again after reconnecting;
                # the gap's true length is unknown, so flag the block's length.
                dropped += n_samples
                self._reconnect()
        return IQBlock(
            samples=buf,
            f_center_hz=self._f_center_hz,
            sample_rate_hz=self._sample_rate_hz,
            gain_db=self._gain_db,
            t_start_ns=t_start_ns,
            receiver_id=self.receiver_id,
            overload=bool(buf.min() == 0 or buf.max() == 255),
            dropped_samples=dropped,
        )

    @staticmethod
    def signed_value(value: int) -> int:
        """A received command parameter as a signed 32-bit value."""
        return _signed32(value)
