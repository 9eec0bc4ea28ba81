"""``rfwatch analyze`` streams IQ files: a long file is analysed in bounded memory.

A 256 MB cu8 file (53 s at 2.4 MS/s) is analysed in a subprocess whose address space
is capped (``resource.setrlimit(RLIMIT_AS)``) at what the analysis of a 1 s file needs
plus 160 MB. Loading the long file whole (what ``rfwatch analyze`` did before: the
bytes and a complex64 copy, 1.3 GB) cannot happen under that cap, which a control
subprocess shows. The long file is analysed to its end (every frame is averaged) and
its emitter found; its peak RSS stays within 1.2x that of the 1 s file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

RATE = 2.4e6
FC = 100e6
TONE_HZ = 2**17 * RATE / 2**20  # 300 kHz, on the grid of the repeated block: seamless
BLOCK = 1 << 20  # complex samples per written block


def write_cu8(path: Path, n_blocks: int) -> int:
    """A noisy tone at FC + TONE_HZ, ``n_blocks`` blocks of 2**20 samples; returns samples."""
    rng = np.random.default_rng(0)
    t = np.arange(BLOCK)
    x = 0.04 * (rng.standard_normal(BLOCK) + 1j * rng.standard_normal(BLOCK))
    x += 0.1 * np.exp(2j * np.pi * TONE_HZ * t / RATE)
    iq = np.empty(2 * BLOCK)
    iq[0::2], iq[1::2] = x.real, x.imag
    block = np.clip(np.round(iq * 128 + 127.5), 0, 255).astype(np.uint8).tobytes()
    with open(path, "wb") as fh:
        for _ in range(n_blocks):
            fh.write(block)
    return n_blocks * BLOCK


ANALYSE = """
import json, resource, sys
limit = int(sys.argv[2])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from rfwatch.commands.analyze import run_analysis
r = run_analysis(sys.argv[1], rate_hz=2.4e6, f_center_hz=100e6)
status = {}
for line in open("/proc/self/status"):
    key, _, value = line.partition(":")
    if key in ("VmPeak", "VmHWM"):
        status[key] = int(value.split()[0]) * 1024
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec from the parent
# (here pytest, hundreds of MB), VmHWM is this program's own peak.
print(json.dumps({"n_averages": r.spectrum.n_averages, "n_bins": r.spectrum.n_bins,
                  "f_hz": [e.f_hz for e in r.emissions], "vm_peak": status["VmPeak"],
                  "max_rss": status["VmHWM"]}))
"""

LOAD_WHOLE = """
import resource, sys
import numpy as np
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from firmware_bridge.recordings import load_recording
try:
    load_recording(sys.argv[1], rate_hz=2.4e6, f_center_hz=100e6)
except MemoryError:
    print("MemoryError")
"""


def run(code: str, path: Path, limit: int) -> subprocess.CompletedProcess:
    env_code = "import os; os.environ['OPENBLAS_NUM_THREADS'] = '1'\n" + code
    return subprocess.run([sys.executable, "-c", env_code, str(path), str(limit)],
                          capture_output=True, text=True, timeout=300, check=False)


def test_long_file_is_analysed_in_bounded_memory(tmp_path: Path) -> None:
    short, long_ = tmp_path / "short.cu8", tmp_path / "long.cu8"
    write_cu8(short, 3)  # 1.3 s
    n_long = write_cu8(long_, 128)  # 256 MiB, 56 s
    base = run(ANALYSE, short, 0)
    assert base.returncode == 0, base.stderr
    small = json.loads(base.stdout)
    limit = small["vm_peak"] + 160 * 2**20

    control = run(LOAD_WHOLE, long_, limit)
    assert "MemoryError" in control.stdout or control.returncode != 0, control.stdout

    proc = run(ANALYSE, long_, limit)
    assert proc.returncode == 0, proc.stderr[-2000:]
    big = json.loads(proc.stdout)
    # every frame of the whole file went into the spectrum (50 % overlap)
    assert big["n_averages"] == 1 + (n_long - big["n_bins"]) // (big["n_bins"] // 2)
    assert any(abs(f - (FC + TONE_HZ)) < 100 for f in big["f_hz"]), big["f_hz"]
    assert big["max_rss"] <= 1.2 * small["max_rss"], (big["max_rss"], small["max_rss"])
    assert big["max_rss"] < 300 * 2**20
    print("short", small, "long", big)


def test_fftw_wisdom_is_kept_between_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsp.spectrum import import_fftw_wisdom
    from rfwatch.commands.analyze import run_analysis

    wisdom = tmp_path / "cache" / "fftw_wisdom"
    monkeypatch.setenv("RFWATCH_FFTW_WISDOM", str(wisdom))
    path = tmp_path / "x.cu8"
    write_cu8(path, 1)
    run_analysis(path, rate_hz=RATE, f_center_hz=FC)
    assert wisdom.is_file() and import_fftw_wisdom(wisdom.read_bytes())
    wisdom.write_bytes(b"not wisdom")  # unreadable wisdom is ignored, then replaced
    r = run_analysis(path, rate_hz=RATE, f_center_hz=FC)
    assert r.emissions and import_fftw_wisdom(wisdom.read_bytes())
    monkeypatch.setenv("RFWATCH_FFTW_WISDOM", "")  # empty: keep none
    wisdom.unlink()
    run_analysis(path, rate_hz=RATE, f_center_hz=FC)
    assert not wisdom.exists()
