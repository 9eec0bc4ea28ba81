"""The rtl_tcp replay server keeps bounded memory whatever a client sends, and drops a
client that stops reading so that the next one is served."""

from __future__ import annotations

import socket
import struct
import time

import numpy as np
import pytest

from firmware_bridge.recording import IQRecording
from firmware_bridge.rtltcp import parse_header
from firmware_bridge.rtltcp_server import RtlTcpReplayServer

pytestmark = pytest.mark.timeout(60)

FS = 1.024e6


@pytest.fixture
def tone() -> IQRecording:
    n = np.arange(1 << 14)
    x = 0.5 * np.exp(2j * np.pi * 0.1 * n)
    return IQRecording("tone", x.astype(np.complex64), FS, 100e6, t_start_ns=0)


def test_a_flood_of_commands_keeps_only_the_latest(tone: IQRecording) -> None:
    n_commands = 200_000  # 1 MB of commands
    flood = struct.pack(">BI", 0x7F, 1) * n_commands  # an unknown command, again and again
    with RtlTcpReplayServer(tone, "127.0.0.1", 0, paced=False, keep_commands=100) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
            parse_header(sock.recv(12, socket.MSG_WAITALL))
            sock.sendall(flood)
            deadline = time.monotonic() + 30
            while srv.commands_received < n_commands and time.monotonic() < deadline:
                sock.recv(1 << 16)  # keep reading samples, as a client does
        assert srv.commands_received == n_commands
        assert len(srv.commands) == 100  # bounded, whatever was sent
        assert all(c.command == 0x7F and not c.applied for c in srv.commands)


def test_a_client_that_stops_reading_is_dropped_and_the_next_served(
    tone: IQRecording,
) -> None:
    with RtlTcpReplayServer(tone, "127.0.0.1", 0, paced=False, stall_timeout_s=0.5,
                            sndbuf_bytes=8192) as srv:
        idle = socket.socket()
        idle.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        idle.connect(("127.0.0.1", srv.port))  # ... and never reads
        try:
            t0 = time.monotonic()
            with socket.create_connection(("127.0.0.1", srv.port), timeout=15) as second:
                header = second.recv(12, socket.MSG_WAITALL)
                waited = time.monotonic() - t0
                assert parse_header(header).tuner_type == 5
                data = second.recv(4096, socket.MSG_WAITALL)
                assert len(data) == 4096
            assert srv.stalled_clients == 1 and srv.connections >= 2
            assert 0.4 < waited < 10
        finally:
            idle.close()
