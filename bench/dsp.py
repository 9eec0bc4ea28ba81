"""DSP benchmark against the goals of issue 9: spectrum, file analysis, sweep, start-up.

What is measured:

1. uint8 -> complex64 conversion: the plain arithmetic of :func:`dsp.iq.u8_to_complex64`
   into a reused buffer, next to a 256-entry lookup table (``np.take``).
2. uint8 IQ -> averaged spectrum (FFT 1024 and 2048, Hann, 50 % overlap, 100 averages)
   with :func:`dsp.spectrum.welch_spectrum` (FFTW through pyFFTW when installed; also
   with ``fft_backend="scipy"``), next to ``scipy.signal.welch`` (with the uint8
   conversion it needs) and to a C + FFTW program doing the same work
   (``bench/welch_ref.c``, built here against the system's ``libfftw3f`` when a C
   compiler and ``fftw3.h`` are present; the table says so when they are not: twice,
   ``cc -O2``, the reference of the goal, and ``cc -O3 -march=native``, shown for the
   record: its AVX2-vectorised loops make it about twice as fast as the plain build.
   pyFFTW bundles its own FFTW, whose transforms ran about 20 % slower than the
   system's in the same C program on the build machine). Ours and the references are
   timed back to back in each run; ratios are medians of the per-run ratios. Goal:
   >= 175 MS/s per core at FFT 2048, >= 0.60x the C+FFTW reference.
3. ``rfwatch analyze`` of generated cu8 files (2.4 MS/s, noise, three carriers and a
   50 kHz noise band; 1, 10 and 60 s, written to a temporary folder): CPU time and
   peak RSS of the whole command; throughput beyond start-up =
   (samples of 60 s - samples of 1 s) / (CPU of 60 s - CPU of 1 s). Goals: >= 100
   MS/s, peak RSS of 60 s <= 1.2x that of 10 s and < 300 MB.
4. A stitched 24-1766 MHz sweep (2.4 MS/s, FFT 1024, 75 % of each hop kept): the hop
   spectra are synthetic (noise floor with the scatter of 100 averages, a DC spike per
   hop, 60 emitters of 10 kHz-8 MHz at 8-40 dB SNR). Timed: :func:`dsp.sweep.stitch`
   and ``dsp.pipeline.analyze_spectrum`` (by the same clock as the throughputs).
   Goal: analysed in < 50 ms.
5. Start-up: ``rfwatch --help`` and ``rfwatch version`` (CPU time of the process and
   wall-clock time, medians of 5). Goal: < 0.3 s.

One thread (BLAS/OpenMP threads set to 1, ``scipy.fft`` with one worker; ``--pin``
also pins the process to one CPU). Throughputs are samples per second of this
thread's CPU time (``--clock wall`` for wall-clock time), so on a shared machine the
time the scheduler gives to other jobs does not count; their use of the shared
caches still slows us down, so the load average is printed with the table. Each
figure is the median of ``--runs`` runs; a run repeats the work until ``--min-time``
seconds have passed.

Usage::

    .venv/bin/python bench/dsp.py            # about a minute
    .venv/bin/python bench/dsp.py --runs 3 --min-time 0.2 --analyze-runs 1
"""

from __future__ import annotations

import os
import sys

# This file is named dsp.py: run as a script, its folder comes first on sys.path and
# would shadow the dsp package. Drop it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

# Before NumPy/SciPy load their thread pools: one core means one thread.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from dsp.iq import u8_to_complex64  # noqa: E402
from dsp.spectrum import welch_spectrum  # noqa: E402
from dsp.sweep import plan_sweep, stitch, sweep_grid  # noqa: E402
from dsp.types import Spectrum  # noqa: E402

RATE = 2.4e6
AVERAGES = 100


def _pin_one_cpu() -> str:
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return f"CPU {cpus[-1]}"
    except (AttributeError, OSError):  # not Linux: stay where we are
        return "unpinned"


# The clock for throughputs: CPU time of this thread by default, so time the
# scheduler gives to other jobs on a shared machine does not count against us
# (their cache traffic still does); ``--clock wall`` for wall-clock time.
_CLOCK: list[Callable[[], float]] = [time.thread_time]


def _rate(fn: Callable[[int], object], n_items: int, runs: int, min_time: float) -> float:
    """Median over runs of items per second; ``fn(i)`` processes ``n_items`` items."""
    clock = _CLOCK[0]
    fn(0)  # warm caches and plans
    rates = []
    for _ in range(runs):
        done = 0
        t0 = clock()
        while True:
            fn(done)
            done += 1
            elapsed = clock() - t0
            if elapsed >= min_time:
                break
        rates.append(done * n_items / elapsed)
    return statistics.median(rates)


def _iq_blocks(n_samples: int, count: int, seed: int) -> list[np.ndarray]:
    """RTL-SDR-like uint8 blocks: noise of a few LSB, a DC offset and a tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples)
    blocks = []
    for _ in range(count):
        x = 0.03 * (rng.standard_normal(n_samples) + 1j * rng.standard_normal(n_samples))
        x += 0.2 * np.exp(2j * np.pi * rng.uniform(-0.5, 0.5) * t) + (0.02 - 0.01j)
        iq = np.empty(2 * n_samples)
        iq[0::2], iq[1::2] = x.real, x.imag
        blocks.append(np.clip(np.round(iq * 128 + 127.5), 0, 255).astype(np.uint8))
    return blocks


def bench_conversion(runs: int, min_time: float) -> list[tuple[str, float]]:
    n = 1 << 20
    blocks = _iq_blocks(n, 4, seed=1)
    out = np.empty(n, dtype=np.complex64)
    lut = ((np.arange(256, dtype=np.float32) - np.float32(127.5)) / np.float32(128.0)).astype(
        np.float32
    )
    view = out.view(np.float32)

    def arith(i: int) -> None:
        u8_to_complex64(blocks[i % 4], out)

    def table(i: int) -> None:
        np.take(lut, blocks[i % 4], out=view)

    return [
        ("uint8 -> complex64, arithmetic (dsp.iq)", _rate(arith, n, runs, min_time)),
        ("uint8 -> complex64, 256-entry table", _rate(table, n, runs, min_time)),
    ]


GOAL_WELCH_MS_S = 175.0
GOAL_C_RATIO = 0.60
GOAL_ANALYZE_MS_S = 100.0
GOAL_SWEEP_MS = 50.0
GOAL_START_S = 0.3
GOAL_RSS_RATIO = 1.2
GOAL_RSS_MB = 300.0

_C_SOURCE = Path(__file__).with_name("welch_ref.c")


#: C reference builds: the goal's reference (a plain optimised build, as packages are
#: built) and, for the record, one tuned to this CPU (AVX2 loops).
C_FLAGS = {"-O2": ["-O2"], "-O3 -march=native": ["-O3", "-march=native"]}


def build_c_reference(workdir: Path) -> tuple[dict[str, Path], str]:
    """Compile bench/welch_ref.c against FFTW; ({flags: binary}, what happened)."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return {}, "no C compiler: C+FFTW reference not built"
    built = {}
    for name, flags in C_FLAGS.items():
        exe = workdir / f"welch_ref{len(built)}"
        cmd = [cc, *flags, "-o", str(exe), str(_C_SOURCE), "-lfftw3f", "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            why = "fftw3.h / libfftw3f missing (apt install libfftw3-dev)" if "fftw3" in (
                proc.stderr) else proc.stderr.strip().splitlines()[-1:]
            return {}, f"C+FFTW reference not built: {why}"
        built[name] = exe
    return built, f"C+FFTW reference: {Path(cc).name} with the system's libfftw3f"


def c_reference_rate(exe: Path, block: np.ndarray, fft_size: int, min_time: float,
                     workdir: Path) -> float:
    """Samples/s of thread CPU time of the C+FFTW program on ``block``."""
    data = workdir / f"block{fft_size}.u8"
    if not data.exists():
        block.tofile(data)
    out = subprocess.run([str(exe), str(data), str(fft_size), str(min_time)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.split()[0])


def bench_spectrum(fft_size: int, runs: int, min_time: float,
                   c_exes: dict[str, Path] | None = None,
                   workdir: Path | None = None) -> dict[str, object]:
    """Throughputs in samples/s; ours and scipy are timed back to back in each run and
    the ratio is the median of the per-run ratios, so load from other jobs hits both."""
    step = fft_size // 2
    n = fft_size + (AVERAGES - 1) * step  # exactly 100 frames
    blocks = _iq_blocks(n, 4, seed=fft_size)
    cblocks = [u8_to_complex64(b) for b in blocks]
    buf = np.empty(n, dtype=np.complex64)

    def ours(i: int) -> None:
        s = welch_spectrum(blocks[i % 4], sample_rate_hz=RATE, f_center_hz=100e6, fft_size=fft_size)
        assert s.n_averages == AVERAGES

    def ours_c64(i: int) -> None:
        welch_spectrum(cblocks[i % 4], sample_rate_hz=RATE, f_center_hz=100e6, fft_size=fft_size)

    def ours_scipy(i: int) -> None:
        welch_spectrum(
            blocks[i % 4],
            sample_rate_hz=RATE,
            f_center_hz=100e6,
            fft_size=fft_size,
            fft_backend="scipy",
        )

    def scipys(i: int) -> None:
        x = u8_to_complex64(blocks[i % 4], buf)
        scipy.signal.welch(
            x,
            fs=RATE,
            window="hann",
            nperseg=fft_size,
            noverlap=fft_size - step,
            detrend=False,
            return_onesided=False,
            scaling="spectrum",
        )

    a, b, c, d = [], [], [], []
    e: dict[str, list[float]] = {name: [] for name in (c_exes or {})}
    for _ in range(runs):
        a.append(_rate(ours, n, 1, min_time))
        b.append(_rate(scipys, n, 1, min_time))
        c.append(_rate(ours_c64, n, 1, min_time))
        d.append(_rate(ours_scipy, n, 1, min_time))
        for name, exe in (c_exes or {}).items():
            e[name].append(c_reference_rate(exe, blocks[0], fft_size, min_time, workdir))
    extra: dict[str, object] = {
        "c": {name: (statistics.median(v),
                     statistics.median(x / y for x, y in zip(a, v, strict=True)))
              for name, v in e.items()}}
    return extra | {
        "ours": statistics.median(a),
        "ours_best": max(a),
        "ours_c64": statistics.median(c),
        "ours_scipy": statistics.median(d),
        "scipy": statistics.median(b),
        "ratio": statistics.median(x / y for x, y in zip(a, b, strict=True)),
        "ratio_scipy": statistics.median(x / y for x, y in zip(d, b, strict=True)),
    }


def _synthetic_sweep(seed: int) -> tuple[list, list[Spectrum], int]:
    """Hop spectra of a 24-1766 MHz sweep with planted emitters."""
    rng = np.random.default_rng(seed)
    fft_size = 1024
    plan = plan_sweep(24e6, 1766e6, sample_rate_hz=RATE, fft_size=fft_size)
    f0, step, n_out = sweep_grid(plan)
    pad = fft_size
    floor_lin = 10 ** (-60.0 / 10)
    truth = np.full(n_out + 2 * pad, floor_lin)
    n_emitters = 60
    centres = np.sort(rng.uniform(f0 + 5e6, f0 + (n_out - 1) * step - 5e6, n_emitters))
    for fc in centres:
        bw = 10 ** rng.uniform(4, np.log10(8e6))
        snr_db = rng.uniform(8, 40)
        a = pad + int((fc - bw / 2 - f0) / step)
        b = pad + int((fc + bw / 2 - f0) / step) + 1
        # SNR in the emission's own bandwidth = its PSD over the noise PSD.
        truth[a:b] += floor_lin * 10 ** (snr_db / 10)
    spectra = []
    for i, h in enumerate(plan):
        lo = pad + int(round((h.f_center_hz - f0) / step)) - fft_size // 2
        lin = truth[lo : lo + fft_size] * rng.gamma(AVERAGES, 1.0 / AVERAGES, fft_size)
        lin[fft_size // 2] *= 100.0  # LO leakage: +20 dB at DC
        spectra.append(
            Spectrum(
                f_start_hz=h.f_center_hz - (fft_size // 2) * step,
                f_step_hz=step,
                power_db=(10 * np.log10(lin)).astype(np.float32),
                power_unit="dBFS",
                rbw_hz=1.5 * step,
                t_start_ns=1_700_000_000_000_000_000 + i * 25_000_000,
                t_end_ns=1_700_000_000_000_000_000 + i * 25_000_000 + 21_000_000,
                n_averages=AVERAGES,
            )
        )
    return plan, spectra, n_emitters


def bench_sweep(runs: int) -> dict[str, object]:
    plan, spectra, planted = _synthetic_sweep(seed=5)
    clock = _CLOCK[0]
    stitch_times = []
    for _ in range(max(runs, 5)):
        t0 = clock()
        sweep = stitch(spectra, plan)
        stitch_times.append(clock() - t0)
    result: dict[str, object] = {
        "hops": len(plan),
        "bins": sweep.n_bins,
        "stitch_ms": 1e3 * statistics.median(stitch_times),
        "planted": planted,
    }
    try:
        from dsp.pipeline import analyze_spectrum
    except ImportError:
        result["analyze_ms"] = None
        return result
    analyze_spectrum(sweep)  # warm-up
    times = []
    found = 0
    for _ in range(max(runs, 5)):
        t0 = clock()
        res = analyze_spectrum(sweep)
        times.append(clock() - t0)
        found = len(res.emissions)
    result["analyze_ms"] = 1e3 * statistics.median(times)
    result["found"] = found
    return result


RFWATCH = Path(sys.executable).with_name("rfwatch")
ANALYZE_RATE = 2.4e6


def write_test_cu8(path: Path, seconds: float) -> int:
    """A cu8 file: noise, three carriers, a 50 kHz noise band (a 2**20-sample block
    repeated, on its own frequency grid so the repeats join seamlessly)."""
    block = 1 << 20
    rng = np.random.default_rng(0)
    t = np.arange(block)
    x = 0.03 * (rng.standard_normal(block) + 1j * rng.standard_normal(block))
    for k, amp in ((2**17, 0.1), (-3 * 2**15, 0.02), (2**16 + 77, 0.005)):
        x += amp * np.exp(2j * np.pi * k * t / block)
    spec = np.zeros(block, complex)
    f = np.fft.fftfreq(block, 1 / ANALYZE_RATE)
    sel = (f > -525e3) & (f < -475e3)
    spec[sel] = rng.standard_normal(sel.sum()) + 1j * rng.standard_normal(sel.sum())
    band = np.fft.ifft(spec)
    x += 0.05 * band / np.sqrt(np.mean(np.abs(band) ** 2))
    iq = np.empty(2 * block)
    iq[0::2], iq[1::2] = x.real, x.imag
    raw = np.clip(np.round(iq * 128 + 127.5), 0, 255).astype(np.uint8)
    n = int(seconds * ANALYZE_RATE)
    with open(path, "wb") as fh:
        left = n
        while left > 0:
            k = min(left, block)
            fh.write(raw[: 2 * k].tobytes())
            left -= k
    return n


_CHILD = """
import json, resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": r.returncode, "cpu": u.ru_utime + u.ru_stime,
                  "rss": u.ru_maxrss * 1024, "err": r.stderr.decode()[-300:]}))
"""


def run_measured(args: list[str]) -> dict[str, float]:
    """Run a command in a fresh child: its CPU time (s), peak RSS (bytes), wall (s)."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True,
                         text=True, check=True)
    d = json.loads(out.stdout)
    if d["rc"] != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {d['err']}")
    d["wall"] = time.perf_counter() - t0
    return d


def bench_analyze(runs: int, workdir: Path) -> dict[str, dict[str, float]]:
    """``rfwatch analyze`` of 1, 10 and 60 s cu8 files: median CPU, max peak RSS."""
    out: dict[str, dict[str, float]] = {}
    # A first run makes and stores the FFTW wisdom, as any earlier use would have.
    for secs in (1, 10, 60):
        path = workdir / f"analyze_{secs}s.cu8"
        n = write_test_cu8(path, secs)
        args = [str(RFWATCH), "analyze", str(path), "--rate", "2.4M", "--freq", "100M",
                "--json"]
        if secs == 1:
            run_measured(args)
        ms = [run_measured(args) for _ in range(runs)]
        out[f"{secs}"] = {"n": n, "cpu": statistics.median(m["cpu"] for m in ms),
                          "rss": max(m["rss"] for m in ms),
                          "wall": statistics.median(m["wall"] for m in ms)}
        path.unlink()
    a, b = out["1"], out["60"]
    out["beyond_startup"] = {"rate": (b["n"] - a["n"]) / max(b["cpu"] - a["cpu"], 1e-9)}
    return out


def bench_startup() -> dict[str, dict[str, float]]:
    out = {}
    for name, args in (("--help", ["--help"]), ("version", ["version"])):
        ms = [run_measured([str(RFWATCH), *args]) for _ in range(5)]
        out[name] = {"cpu": statistics.median(m["cpu"] for m in ms),
                     "wall": statistics.median(m["wall"] for m in ms),
                     "wall_min": min(m["wall"] for m in ms)}
    return out


def _ok(good: bool) -> str:
    return "[green]met[/]" if good else "[red]NOT met[/]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--min-time", type=float, default=0.4, help="seconds per run")
    parser.add_argument("--pin", action="store_true", help="pin the process to one CPU")
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="time throughputs by"
    )
    parser.add_argument("--analyze-runs", type=int, default=3,
                        help="runs of each rfwatch analyze file (median)")
    args = parser.parse_args()
    _CLOCK[0] = time.thread_time if args.clock == "cpu" else time.perf_counter
    pinned = _pin_one_cpu() if args.pin else "one thread, unpinned"
    console = Console()

    table = Table(title="rfwatch dsp benchmark (one core) — goals of issue 9")
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_column("goal", justify="right")
    table.add_column("", justify="left")
    workdir = Path(tempfile.mkdtemp(prefix="rfwatch-bench-"))
    try:
        c_exes, c_note = build_c_reference(workdir)
        for label, rate in bench_conversion(args.runs, args.min_time):
            table.add_row(label, f"{rate / 1e6:.0f} MS/s", "", "")
        for fft_size in (1024, 2048):
            r = bench_spectrum(fft_size, args.runs, args.min_time, c_exes, workdir)
            head = f"FFT {fft_size}, Hann, 50 %, 100 avg:"
            goal = fft_size == 2048
            table.add_row(
                f"{head} dsp.spectrum, uint8 in (best run)",
                f"{r['ours'] / 1e6:.0f} ({r['ours_best'] / 1e6:.0f}) MS/s",
                f">= {GOAL_WELCH_MS_S:.0f}" if goal else "",
                _ok(r["ours"] / 1e6 >= GOAL_WELCH_MS_S) if goal else "",
            )
            for i, (name, (c_rate, ratio)) in enumerate(r["c"].items()):
                table.add_row(f"{head} C+FFTW reference, cc {name}",
                              f"{c_rate / 1e6:.0f} MS/s", "", "")
                goal_row = goal and i == 0  # the goal is judged against the plain build
                table.add_row(f"{head} ratio dsp / C+FFTW (cc {name})", f"{ratio:.2f} x",
                              f">= {GOAL_C_RATIO:.2f}" if goal_row else "",
                              _ok(ratio >= GOAL_C_RATIO) if goal_row else "")
            if goal and not r["c"]:
                table.add_row(f"{head} ratio dsp / C+FFTW", "not measured",
                              f">= {GOAL_C_RATIO:.2f}", c_note)
            table.add_row(f"{head} dsp.spectrum, complex64 in",
                          f"{r['ours_c64'] / 1e6:.0f} MS/s", "", "")
            table.add_row(f"{head} dsp.spectrum, uint8 in, fft_backend='scipy'",
                          f"{r['ours_scipy'] / 1e6:.0f} MS/s", "", "")
            table.add_row(f"{head} scipy.signal.welch (+ conversion)",
                          f"{r['scipy'] / 1e6:.1f} MS/s", "", "")
            table.add_row(f"{head} ratio dsp / scipy", f"{r['ratio']:.1f} x", "", "")
        an = bench_analyze(max(1, args.analyze_runs), workdir)
        for secs in ("1", "10", "60"):
            m = an[secs]
            table.add_row(f"rfwatch analyze, {secs} s cu8 at 2.4 MS/s: CPU, peak RSS",
                          f"{m['cpu']:.2f} s, {m['rss'] / 2**20:.0f} MB", "", "")
        rate = an["beyond_startup"]["rate"]
        table.add_row("rfwatch analyze: throughput beyond start-up (60 s - 1 s)",
                      f"{rate / 1e6:.0f} MS/s", f">= {GOAL_ANALYZE_MS_S:.0f}",
                      _ok(rate / 1e6 >= GOAL_ANALYZE_MS_S))
        ratio = an["60"]["rss"] / an["10"]["rss"]
        table.add_row("rfwatch analyze: peak RSS 60 s / 10 s", f"{ratio:.2f} x",
                      f"<= {GOAL_RSS_RATIO}", _ok(ratio <= GOAL_RSS_RATIO))
        table.add_row("rfwatch analyze: peak RSS 60 s", f"{an['60']['rss'] / 2**20:.0f} MB",
                      f"< {GOAL_RSS_MB:.0f}", _ok(an["60"]["rss"] / 2**20 < GOAL_RSS_MB))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    sw = bench_sweep(args.runs)
    table.add_row(
        f"24-1766 MHz sweep: stitch {sw['hops']} hops -> {sw['bins']} bins",
        f"{sw['stitch_ms']:.1f} ms", "", "")
    if sw["analyze_ms"] is None:
        table.add_row("24-1766 MHz sweep: dsp.pipeline.analyze_spectrum", "not available",
                      f"< {GOAL_SWEEP_MS:.0f} ms", "")
    else:
        table.add_row(
            f"24-1766 MHz sweep: analyze_spectrum ({sw['found']} found, {sw['planted']} planted)",
            f"{sw['analyze_ms']:.1f} ms", f"< {GOAL_SWEEP_MS:.0f} ms",
            _ok(sw["analyze_ms"] < GOAL_SWEEP_MS))
    st = bench_startup()
    for name, m in st.items():
        took = m["cpu"] if args.clock == "cpu" else m["wall_min"]
        table.add_row(f"start-up: rfwatch {name} (CPU; wall median, min)",
                      f"{m['cpu']:.2f} s; {m['wall']:.2f}, {m['wall_min']:.2f} s",
                      f"< {GOAL_START_S}", _ok(took < GOAL_START_S))
    console.print(table)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    console.print(
        "Start-up is judged on its CPU time (median of 5) with --clock cpu, on the fastest "
        "wall-clock run with --clock wall: on a loaded machine the wall clock mostly "
        "measures the other jobs. "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {pinned}; "
        f"load average {', '.join(f'{v:.2f}' for v in load)}; median of {args.runs} runs; "
        f"throughputs and sweep times by {args.clock} time; {c_note}; "
        f"numpy {np.__version__}, scipy {scipy.__version__}"
    )


if __name__ == "__main__":
    main()
