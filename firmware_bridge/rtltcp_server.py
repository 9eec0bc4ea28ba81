"""An rtl_tcp-compatible server that replays a recording (``rfwatch rtltcp serve``).

Field teams use it to try rtl_tcp clients (SDR#, GQRX, rfwatch itself) without a
dongle; the tests use it to run :class:`firmware_bridge.rtltcp.RtlTcpReceiver` over a
real socket.

Behaviour
---------
- Speaks rtl_tcp: the 12-byte ``RTL0`` greeting (tuner type R820T and its 29 gain
  steps by default), then uint8 I/Q; reads 5-byte commands at any time.
- Replays the recording in a loop, paced at its sample rate (``paced=False`` sends as
  fast as the client reads, for tests).
- ``SET_FREQUENCY`` within the recording's span (centre ± rate/2) shifts the signal by
  frequency translation, like a retuned dongle. A frequency **outside the span is
  refused**: the server logs a warning and keeps the old tuning (rtl_tcp has no way to
  answer a command, so a client sees the samples unchanged).
- ``SET_SAMPLE_RATE`` other than the recording's own rate is refused the same way
  (no resampling). Gain, ppm, AGC, bias tee and the rest are logged and ignored.
- One client at a time, as rtl_tcp; when it leaves, the next one is served, each from
  the start of the recording.
- ``drop_after_bytes`` closes every connection after that many I/Q bytes, to test
  clients' reconnect logic.
- Bounded memory whatever a client sends: only the last ``keep_commands`` commands
  are kept (for logs and tests; :attr:`RtlTcpReplayServer.commands_received` counts
  them all), a partial command is at most 4 bytes, and unknown commands are logged a
  few times per client, not once each.
- A client that stops reading (its socket accepts no bytes for ``stall_timeout_s``)
  is dropped and the next one is served.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from types import TracebackType

from dsp.errors import ReceiverError
from firmware_bridge.file_receiver import FileReceiver
from firmware_bridge.receiver import R820T_GAINS_DB
from firmware_bridge.recording import IQRecording
from firmware_bridge.rtltcp import Command, decode_commands, pack_header

__all__ = ["RtlTcpReplayServer", "ReceivedCommand"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReceivedCommand:
    """A command as the server saw it, and whether it was applied."""

    connection: int
    command: int
    value: int
    applied: bool


class RtlTcpReplayServer:
    """Serve ``recording`` over the rtl_tcp protocol.

    Parameters
    ----------
    recording:
        What to replay (complex64; sent as RTL-SDR uint8).
    address, port:
        Where to listen (rtl_tcp's defaults; ``port=0`` picks a free port, see
        :attr:`port` after :meth:`bind`).
    paced:
        Send at the sample rate (default) or as fast as the client reads.
    tuner_type, gain_count:
        Announced in the greeting (5 = R820T, 29 steps).
    chunk_samples:
        Samples per send (16384, like rtl_tcp's 32 KiB USB buffers).
    drop_after_bytes:
        If set, close each connection after sending this many I/Q bytes.
    sndbuf_bytes:
        Socket send buffer, kept small so a retune reaches the client quickly.
    keep_commands:
        How many of the latest commands :attr:`commands` keeps.
    stall_timeout_s:
        Drop a client whose socket has taken no bytes for this long.
    """

    def __init__(
        self,
        recording: IQRecording,
        address: str = "127.0.0.1",
        port: int = 1234,
        *,
        paced: bool = True,
        tuner_type: int = 5,
        gain_count: int = len(R820T_GAINS_DB),
        chunk_samples: int = 16384,
        drop_after_bytes: int | None = None,
        sndbuf_bytes: int | None = 65536,
        keep_commands: int = 1024,
        stall_timeout_s: float = 10.0,
    ) -> None:
        self.recording = recording
        self.address = address
        self._port = int(port)
        self.paced = paced
        self.tuner_type = tuner_type
        self.gain_count = gain_count
        self.chunk_samples = int(chunk_samples)
        self.drop_after_bytes = drop_after_bytes
        self.sndbuf_bytes = sndbuf_bytes
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: The latest ``keep_commands`` commands received, in order (for logs and tests).
        self.commands: deque[ReceivedCommand] = deque(maxlen=int(keep_commands))
        #: Every command received so far (the count; :attr:`commands` keeps the latest).
        self.commands_received = 0
        self.stall_timeout_s = float(stall_timeout_s)
        #: Clients dropped because they stopped reading.
        self.stalled_clients = 0
        self._unknown_logged: dict[int, int] = {}
        #: Number of client connections accepted so far.
        self.connections = 0
        #: I/Q bytes sent to each connection, in order.
        self.bytes_sent: list[int] = []

    @property
    def port(self) -> int:
        return self._port

    def bind(self) -> None:
        """Open the listening socket (the port is known after this)."""
        if self._listener is not None:
            return
        sock = socket.socket(socket.AF_INET6 if ":" in self.address else socket.AF_INET,
                             socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.address, self._port))
        except OSError as err:
            sock.close()
            raise ReceiverError(
                f"không mở được cổng / cannot listen on {self.address}:{self._port}: {err}"
            ) from err
        sock.listen(1)
        sock.settimeout(0.2)
        self._listener = sock
        self._port = sock.getsockname()[1]

    def start(self) -> RtlTcpReplayServer:
        """Bind and serve in a background thread; returns self."""
        self.bind()
        self._stop.clear()
        self._thread = threading.Thread(target=self.serve_forever, name="rtltcp-replay",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop serving: close the listener and the current connection."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def serve_forever(self) -> None:
        """Accept clients one after another until :meth:`stop`."""
        self.bind()
        assert self._listener is not None
        log.info("rtl_tcp replay of %s on %s:%d (%.0f Hz, %.0f S/s)", self.recording.source,
                 self.address, self._port, self.recording.f_center_hz,
                 self.recording.sample_rate_hz)
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                raise
            with self._lock:
                self.connections += 1
                index = self.connections
                self.bytes_sent.append(0)
            log.info("rtl_tcp client %d connected from %s:%s", index, *peer[:2])
            try:
                self._serve_client(conn, index)
            except OSError as err:
                log.info("rtl_tcp client %d gone: %s", index, err)
            finally:
                conn.close()
                self._unknown_logged.pop(index, None)
                log.info("rtl_tcp client %d closed after %d bytes", index,
                         self.bytes_sent[index - 1])

    # -- one client -----------------------------------------------------------------

    def _serve_client(self, conn: socket.socket, index: int) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.sndbuf_bytes:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.sndbuf_bytes)
        conn.setblocking(False)
        replay = FileReceiver(self.recording, output="cu8", loop=True,
                              receiver_id=f"rtltcp-replay:{index}")
        replay.open()
        pending = bytearray()
        if not self._send_all(conn, pack_header(self.tuner_type, self.gain_count), pending,
                              replay, index):
            return
        rate = self.recording.sample_rate_hz
        t0 = time.monotonic()
        sent_samples = 0
        limit = self.drop_after_bytes
        while not self._stop.is_set():
            if self.paced:
                due = t0 + sent_samples / rate
                while not self._stop.is_set():
                    wait = due - time.monotonic()
                    if wait <= 0:
                        break
                    if not self._poll_commands(conn, pending, replay, index, min(wait, 0.2)):
                        return
            elif not self._poll_commands(conn, pending, replay, index, 0.0):
                return
            data = replay.read(self.chunk_samples).samples.tobytes()
            if limit is not None:
                room = limit - self.bytes_sent[index - 1]
                data = data[: max(room, 0)]
            if not self._send_all(conn, data, pending, replay, index, count=True):
                return
            sent_samples += self.chunk_samples
            if limit is not None and self.bytes_sent[index - 1] >= limit:
                log.info("rtl_tcp client %d: dropping the connection after %d bytes (as asked)",
                         index, limit)
                return

    def _send_all(self, conn: socket.socket, data: bytes, pending: bytearray,
                  replay: FileReceiver, index: int, *, count: bool = False) -> bool:
        view = memoryview(data)
        progress = time.monotonic()
        while view and not self._stop.is_set():
            readable, writable, _ = select.select([conn], [conn], [], 0.2)
            if readable and not self._read_commands(conn, pending, replay, index):
                return False
            if writable:
                try:
                    n = conn.send(view)
                except BlockingIOError:
                    n = 0
                if n:
                    progress = time.monotonic()
                    view = view[n:]
                    if count:
                        self.bytes_sent[index - 1] += n
            if view and time.monotonic() - progress > self.stall_timeout_s:
                # It stopped reading: it must not hold the only slot for ever.
                with self._lock:
                    self.stalled_clients += 1
                log.warning("rtl_tcp client %d read nothing for %.0f s: dropped", index,
                            self.stall_timeout_s)
                return False
        return not view

    def _poll_commands(self, conn: socket.socket, pending: bytearray, replay: FileReceiver,
                       index: int, timeout_s: float) -> bool:
        readable, _, _ = select.select([conn], [], [], timeout_s)
        if readable:
            return self._read_commands(conn, pending, replay, index)
        return True

    def _read_commands(self, conn: socket.socket, pending: bytearray, replay: FileReceiver,
                       index: int) -> bool:
        """Read and apply commands; False when the client has gone."""
        try:
            data = conn.recv(4096)
        except BlockingIOError:
            return True
        if not data:
            return False
        pending.extend(data)
        for command, value in decode_commands(pending):  # leaves at most 4 bytes
            applied = self._apply(command, value, replay, index)
            with self._lock:
                self.commands.append(ReceivedCommand(index, command, value, applied))
                self.commands_received += 1
        return True

    def _apply(self, command: int, value: int, replay: FileReceiver, index: int) -> bool:
        try:
            name = Command(command).name
        except ValueError:
            seen = self._unknown_logged.get(index, 0)
            self._unknown_logged[index] = seen + 1
            if seen < 5:
                log.warning("rtl_tcp client %d: unknown command 0x%02x (%d) ignored%s", index,
                            command, value, " (no more such warnings)" if seen == 4 else "")
            return False
        if command == Command.SET_FREQUENCY:
            try:
                replay.tune(float(value))
            except ReceiverError as err:
                log.warning("rtl_tcp client %d: tune to %d Hz refused, keeping %.0f Hz: %s",
                            index, value, replay.f_center_hz, err)
                return False
            log.info("rtl_tcp client %d: tuned to %d Hz", index, value)
            return True
        if command == Command.SET_SAMPLE_RATE:
            try:
                replay.set_sample_rate(float(value))
            except ReceiverError as err:
                log.warning("rtl_tcp client %d: sample rate %d refused: %s", index, value, err)
                return False
            return True
        log.info("rtl_tcp client %d: %s %d (no effect on a replay)", index, name, value)
        return True

    def __enter__(self) -> RtlTcpReplayServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
