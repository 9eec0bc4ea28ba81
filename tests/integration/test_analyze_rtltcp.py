"""`rfwatch analyze rtltcp:HOST:PORT`: a live rtl_tcp source, streamed through one pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.recording import IQRecording
from firmware_bridge.rtltcp_server import RtlTcpReplayServer

FS = 1.024e6
FC = 433.92e6
N = 65_536
F_TONE = FS * 8192 / N  # 128 kHz, on an FFT bin of the loop
RFWATCH = str(Path(sys.executable).with_name("rfwatch"))


@pytest.fixture
def server():
    n = np.arange(N)
    x = 0.3 * np.exp(2j * np.pi * F_TONE * n / FS)
    rng = np.random.default_rng(0)
    x = x + 0.01 * (rng.standard_normal(N) + 1j * rng.standard_normal(N))
    srv = RtlTcpReplayServer(IQRecording("tone", x.astype(np.complex64), FS, FC, t_start_ns=0),
                             "127.0.0.1", 0, paced=False).start()
    yield srv
    srv.stop()


def test_analyze_reads_an_rtl_tcp_server(server):
    done = subprocess.run(
        [RFWATCH, "analyze", f"rtltcp:127.0.0.1:{server.port}", "--freq", "433.92M",
         "--rate", "1.024M", "--seconds", "0.5", "--json"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    [e] = [e for e in doc["emissions"] if abs(e["f_hz"] - (FC + F_TONE)) < 2e3]
    assert e["snr_db"] is not None and e["snr_db"] > 20
    assert doc["source"].startswith("rtltcp:")


def test_an_rtl_tcp_source_needs_its_tuning():
    done = subprocess.run([RFWATCH, "analyze", "rtltcp:127.0.0.1:9", "--seconds", "0.1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--rate" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
