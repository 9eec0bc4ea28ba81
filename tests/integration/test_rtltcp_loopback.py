"""rtl_tcp client against the replay server over real loopback sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sigmf

from dsp.errors import ReceiverError, ReceiverLost, ReceiverNotFound
from firmware_bridge.rawiq import cu8_to_complex64
from firmware_bridge.recording import IQRecording
from firmware_bridge.rtltcp import Command, RtlTcpReceiver, parse_header
from firmware_bridge.rtltcp_server import RtlTcpReplayServer
from firmware_bridge.sigmf_io import read_sigmf

pytestmark = pytest.mark.timeout(120)

FS = 1.024e6
FC = 100e6
N = 1 << 16
F_TONE = FS * 8192 / N  # 128 kHz, periodic in the N-sample loop and on an FFT bin
SETTLE = 1 << 19  # bytes dropped after a retune (unpaced server: buffers are full)
RFWATCH = str(Path(sys.executable).with_name("rfwatch"))


@pytest.fixture
def tone() -> IQRecording:
    n = np.arange(N)
    x = 0.5 * np.exp(2j * np.pi * F_TONE * n / FS)
    return IQRecording("tone", x.astype(np.complex64), FS, FC, t_start_ns=0)


@pytest.fixture
def server(tone):
    srv = RtlTcpReplayServer(tone, "127.0.0.1", 0, paced=False).start()
    yield srv
    srv.stop()


def _client(port: int, **kw) -> RtlTcpReceiver:
    kw.setdefault("settle_bytes", SETTLE)
    return RtlTcpReceiver("127.0.0.1", port, f_center_hz=FC, sample_rate_hz=FS, **kw)


def _peak_hz(raw: np.ndarray) -> float:
    x = cu8_to_complex64(raw)
    spectrum = np.abs(np.fft.fft(x)) ** 2
    return float(np.fft.fftfreq(x.size, 1 / FS)[np.argmax(spectrum)])


def test_header_and_first_samples(server, tone):
    with _client(server.port) as rx:
        assert rx.header.tuner == "R820T" and rx.header.gain_count == 29
        assert rx.capabilities.gains_db[-1] == 49.6
        block = rx.read(N)
    assert block.samples.dtype == np.uint8 and block.samples.size == 2 * N
    assert block.receiver_id == f"rtltcp:127.0.0.1:{server.port}"
    assert abs(block.t_start_ns - time.time_ns()) < 60e9
    assert _peak_hz(block.samples) == pytest.approx(F_TONE, abs=FS / N)
    # The bytes are the recording quantised to uint8, sample for sample.
    x = cu8_to_complex64(block.samples)
    start = int(np.argmin(np.abs(tone.samples - x[0])))
    np.testing.assert_allclose(x, np.roll(tone.samples, -start), atol=1 / 128)


def test_settings_reach_the_server(server):
    with _client(server.port, gain_db=20.0, ppm=-3) as rx:
        rx.read(1024)
        rx.set_bias_tee(True)
        rx.set_agc(True)
        rx.set_direct_sampling(0)
        rx.set_offset_tuning(False)
        assert rx.gain_db == 19.7  # snapped to the R820T table the header announced
        deadline = time.monotonic() + 10
        while len(server.commands) < 9 and time.monotonic() < deadline:
            rx.read(1024)  # keep the stream moving so the server polls commands
    seen = {(c.command, c.value) for c in server.commands}
    assert (Command.SET_SAMPLE_RATE, 1_024_000) in seen
    assert (Command.SET_FREQUENCY, 100_000_000) in seen
    assert (Command.SET_GAIN_MODE, 1) in seen
    assert (Command.SET_GAIN, 197) in seen
    assert (Command.SET_FREQ_CORRECTION, (-3) & 0xFFFFFFFF) in seen
    assert (Command.SET_BIAS_TEE, 1) in seen and (Command.SET_AGC_MODE, 1) in seen
    assert (Command.SET_DIRECT_SAMPLING, 0) in seen and (Command.SET_OFFSET_TUNING, 0) in seen


@pytest.mark.parametrize("shift_hz", [200e3, -300e3, 50e3])
def test_tuning_shifts_the_tone_by_the_expected_amount(server, shift_hz):
    with _client(server.port) as rx:
        assert _peak_hz(rx.read(N).samples) == pytest.approx(F_TONE, abs=FS / N)
        for _ in range(3):  # retune back and forth: each time the tone follows
            rx.tune(FC + shift_hz)
            assert _peak_hz(rx.read(N).samples) == pytest.approx(F_TONE - shift_hz, abs=FS / N)
            rx.tune(FC)
            assert _peak_hz(rx.read(N).samples) == pytest.approx(F_TONE, abs=FS / N)


def test_tuning_outside_the_span_is_refused_and_logged(server, caplog):
    with _client(server.port) as rx:
        rx.tune(FC + 100e3)
        assert _peak_hz(rx.read(N).samples) == pytest.approx(F_TONE - 100e3, abs=FS / N)
        with caplog.at_level("WARNING", logger="firmware_bridge.rtltcp_server"):
            rx.tune(FC + 2e6)
            block = rx.read(N)
        # The server kept its old tuning: the tone did not move.
        assert _peak_hz(block.samples) == pytest.approx(F_TONE - 100e3, abs=FS / N)
    refused = [c for c in server.commands if c.command == Command.SET_FREQUENCY and not c.applied]
    assert [c.value for c in refused] == [102_000_000]
    assert "refused" in caplog.text


def test_sample_rate_other_than_the_recordings_is_refused(server):
    with _client(server.port) as rx:
        rx.set_sample_rate(2.048e6)
        rx.read(4096)
    rate_cmds = [c for c in server.commands if c.command == Command.SET_SAMPLE_RATE]
    assert [(c.value, c.applied) for c in rate_cmds] == [(1_024_000, True), (2_048_000, False)]


def test_server_drop_mid_stream_is_survived_by_reconnecting(tone):
    drop_after = 1_000_000  # bytes per connection, then the server hangs up
    srv = RtlTcpReplayServer(tone, "127.0.0.1", 0, paced=False,
                             drop_after_bytes=drop_after).start()
    try:
        rx = _client(srv.port, settle_bytes=131_072, backoff_s=0.01, reconnect_attempts=5)
        with rx:
            rx.tune(FC + 100e3)
            blocks = [rx.read(100_000) for _ in range(12)]  # 2.4 MB > 2 connections' worth
        assert rx.reconnects >= 2
        flagged = [b for b in blocks if b.dropped_samples]
        assert len(flagged) >= 2 and all(b.dropped_samples == 100_000 for b in flagged)
        assert all(b.samples.size == 200_000 for b in blocks)
        assert srv.connections >= 3
        assert srv.bytes_sent[0] == drop_after
        # Every new connection got the tuning again, and the tone is where it should be
        # in every block, those read after a reconnect included.
        tunes = [c for c in srv.commands if c.command == Command.SET_FREQUENCY and c.applied]
        assert {c.connection for c in tunes if c.value == 100_100_000} >= {1, 2, 3}
        for block in blocks:
            assert _peak_hz(block.samples[: 2 * N]) == pytest.approx(F_TONE - 100e3, abs=FS / N)
    finally:
        srv.stop()


def test_server_gone_for_good_raises_receiver_lost(tone):
    srv = RtlTcpReplayServer(tone, "127.0.0.1", 0, paced=False).start()
    sleeps = []
    rx = _client(srv.port, settle_bytes=0, backoff_s=0.05, backoff_max_s=0.2,
                 reconnect_attempts=4, sleep=lambda s: (sleeps.append(s), time.sleep(s)))
    rx.open()
    rx.read(1000)
    srv.stop()
    with pytest.raises(ReceiverLost, match="after 4 reconnect attempts"):
        for _ in range(10_000):  # drain what is buffered, then hit the closed socket
            rx.read(65_536)
    assert sleeps == [0.05, 0.1, 0.2, 0.2]  # exponential back-off, capped
    rx.close()


def test_no_server_is_receiver_not_found():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # a port nobody listens on once closed
    with pytest.raises(ReceiverNotFound, match=f"127.0.0.1:{port}"):
        RtlTcpReceiver("127.0.0.1", port, connect_timeout_s=1).open()


def test_a_server_that_is_not_rtl_tcp():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def greet() -> None:
        conn, _ = listener.accept()
        conn.sendall(b'{"type": "hello"}\n')
        time.sleep(0.5)
        conn.close()

    t = threading.Thread(target=greet, daemon=True)
    t.start()
    try:
        with pytest.raises(ReceiverError, match="not an rtl_tcp server"):
            RtlTcpReceiver("127.0.0.1", port).open()
    finally:
        t.join(5)
        listener.close()


def test_paced_server_keeps_to_the_sample_rate(tone):
    slow = IQRecording("tone", tone.samples, 250e3, FC, 0)
    with RtlTcpReplayServer(slow, "127.0.0.1", 0, chunk_samples=4096) as srv:
        with RtlTcpReceiver("127.0.0.1", srv.port, f_center_hz=FC, sample_rate_hz=250e3,
                            settle_bytes=0) as rx:
            rx.read(4096)
            t0 = time.monotonic()
            rx.read(50_000)  # 0.2 s of samples at 250 kS/s
            elapsed = time.monotonic() - t0
    assert 0.15 < elapsed < 2.0  # never faster than real time; slack for a busy CI box


def test_sequential_clients_each_start_from_the_beginning(server, tone):
    first = []
    for _ in range(2):
        with _client(server.port, settle_bytes=0) as rx:
            first.append(rx.read(1000).samples)
    np.testing.assert_array_equal(first[0], first[1])
    assert server.connections == 2


def test_rfwatch_record_from_the_replay_server(server, tmp_path):
    out = tmp_path / "cap.sigmf-meta"
    done = subprocess.run(
        [RFWATCH, "record", "--receiver", f"rtltcp:127.0.0.1:{server.port}", "--freq", "100.2M",
         "--rate", "1.024M", "--seconds", "0.5", "--out", str(out), "--gain", "20"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    handle = sigmf.fromfile(str(out))
    handle.validate()
    rec = read_sigmf(out)
    assert rec.samples.size == 512_000
    assert rec.f_center_hz == 100.2e6
    assert rec.gain_db == 19.7  # snapped to the R820T table
    assert json.loads(out.read_text())["global"]["core:datatype"] == "cu8"
    tail = rec.samples[-N:]
    spectrum = np.abs(np.fft.fft(tail)) ** 2
    peak = np.fft.fftfreq(N, 1 / FS)[np.argmax(spectrum)]
    assert peak == pytest.approx(F_TONE - 200e3, abs=FS / N)


def test_rfwatch_rtltcp_serve_cli(real_data):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = real_data / "rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8"
    proc = subprocess.Popen([RFWATCH, "rtltcp", "serve", str(path), "--port", str(port),
                             "--unpaced"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "COLUMNS": "300"})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        with conn:
            header = parse_header(conn.recv(12, socket.MSG_WAITALL))
            assert header.tuner == "R820T"
            data = conn.recv(2 * 262_144, socket.MSG_WAITALL)
        # The replay starts at the first byte of the file.
        assert data[:4096] == path.read_bytes()[:4096]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert b"433.92 MHz" in out
