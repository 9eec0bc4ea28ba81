"""DSP benchmark: uint8 IQ -> averaged spectrum on one core, and a full sweep analysed.

What is timed (issue 5, "Speed"):

1. uint8 -> complex64 conversion: the plain arithmetic of :func:`dsp.iq.u8_to_complex64`
   into a reused buffer, next to a 256-entry lookup table (``np.take``).
2. uint8 IQ -> averaged spectrum (FFT 1024 and 2048, Hann, 50 % overlap, 100 averages
   per spectrum) with :func:`dsp.spectrum.welch_spectrum` (default backend: FFTW when
   pyFFTW is installed; also shown with ``fft_backend="scipy"``), next to
   ``scipy.signal.welch`` on the same input in the same run (its time includes the
   uint8 -> complex64 conversion it needs), and the ratio. Also complex64 input.
3. A stitched 24-1766 MHz sweep (2.4 MS/s, FFT 1024, 75 % of each hop kept): the hop
   spectra are synthetic (noise floor with the scatter of 100 averages, a DC spike per
   hop, 60 emitters of 10 kHz-8 MHz at 8-40 dB SNR). Timed: :func:`dsp.sweep.stitch`
   and, when it exists, ``dsp.pipeline.analyze_spectrum`` (detect + measure + vet).

One thread (BLAS/OpenMP threads set to 1, ``scipy.fft`` with one worker; ``--pin``
also pins the process to one CPU). Throughputs are samples per second of this
thread's CPU time (``--clock wall`` for wall-clock time), so on a shared machine the
time the scheduler gives to other jobs does not count; their use of the shared
caches still slows us down, so the load average is printed with the table. Each
figure is the median of ``--runs`` runs; a run repeats the work until ``--min-time``
seconds have passed; ours and scipy's are timed back to back in each run.

Usage::

    .venv/bin/python bench/dsp.py            # about 30 s
    .venv/bin/python bench/dsp.py --runs 3 --min-time 0.2

Goals (issue 5): >= 100 MS/s on one core, >= 5x scipy.signal.welch, full-range sweep
analysed in < 50 ms.
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
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

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


def bench_spectrum(fft_size: int, runs: int, min_time: float) -> dict[str, float]:
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
    for _ in range(runs):
        a.append(_rate(ours, n, 1, min_time))
        b.append(_rate(scipys, n, 1, min_time))
        c.append(_rate(ours_c64, n, 1, min_time))
        d.append(_rate(ours_scipy, n, 1, min_time))
    return {
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
    stitch_times = []
    for _ in range(max(runs, 5)):
        t0 = time.perf_counter()
        sweep = stitch(spectra, plan)
        stitch_times.append(time.perf_counter() - t0)
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
        t0 = time.perf_counter()
        res = analyze_spectrum(sweep)
        times.append(time.perf_counter() - t0)
        found = len(res.emissions)
    result["analyze_ms"] = 1e3 * statistics.median(times)
    result["found"] = found
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--min-time", type=float, default=0.4, help="seconds per run")
    parser.add_argument("--pin", action="store_true", help="pin the process to one CPU")
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="time throughputs by"
    )
    args = parser.parse_args()
    _CLOCK[0] = time.thread_time if args.clock == "cpu" else time.perf_counter
    pinned = _pin_one_cpu() if args.pin else "one thread, unpinned"
    console = Console()

    table = Table(title="rfwatch dsp benchmark (one core)")
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_column("goal", justify="right")
    for label, rate in bench_conversion(args.runs, args.min_time):
        table.add_row(label, f"{rate / 1e6:.0f} MS/s", "")
    for fft_size in (1024, 2048):
        r = bench_spectrum(fft_size, args.runs, args.min_time)
        head = f"FFT {fft_size}, Hann, 50 %, 100 avg:"
        table.add_row(
            f"{head} dsp.spectrum, uint8 in (best run)",
            f"{r['ours'] / 1e6:.0f} ({r['ours_best'] / 1e6:.0f}) MS/s",
            ">= 100",
        )
        table.add_row(f"{head} dsp.spectrum, complex64 in", f"{r['ours_c64'] / 1e6:.0f} MS/s", "")
        table.add_row(
            f"{head} dsp.spectrum, uint8 in, fft_backend='scipy'",
            f"{r['ours_scipy'] / 1e6:.0f} MS/s",
            "",
        )
        table.add_row(
            f"{head} scipy.signal.welch (+ conversion)", f"{r['scipy'] / 1e6:.1f} MS/s", ""
        )
        table.add_row(f"{head} ratio dsp / scipy", f"{r['ratio']:.1f} x", ">= 5")
        table.add_row(
            f"{head} ratio dsp (fft_backend='scipy') / scipy", f"{r['ratio_scipy']:.1f} x", ""
        )
    sw = bench_sweep(args.runs)
    table.add_row(
        f"24-1766 MHz sweep: stitch {sw['hops']} hops -> {sw['bins']} bins",
        f"{sw['stitch_ms']:.1f} ms",
        "",
    )
    if sw["analyze_ms"] is None:
        table.add_row(
            "24-1766 MHz sweep: dsp.pipeline.analyze_spectrum", "not available", "< 50 ms"
        )
    else:
        table.add_row(
            f"24-1766 MHz sweep: analyze_spectrum ({sw['found']} found, {sw['planted']} planted)",
            f"{sw['analyze_ms']:.1f} ms",
            "< 50 ms",
        )
    console.print(table)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    console.print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {pinned}; "
        f"load average {', '.join(f'{v:.2f}' for v in load)}; median of {args.runs} runs; "
        f"throughput by {args.clock} time; sweep times by wall clock; "
        f"numpy {np.__version__}, scipy {scipy.__version__}"
    )


if __name__ == "__main__":
    main()
