"""``rfwatch analyze FILE``: one recording or survey file in, emissions out.

SigMF recordings, raw ``.cu8``/``.cs8``/``.cf32`` IQ (with ``--rate`` and ``--freq``)
and rtl_power / hackrf_sweep survey CSVs. People get a table; ``--json`` prints
exactly::

    {"source": str, "power_unit": "dBFS" | "dBm", "f_start_hz": float,
     "f_stop_hz": float, "rbw_hz": float,
     "emissions": [{"f_hz": float, "bw_99_hz": float, "bw_26db_hz": float,
                    "power": float, "peak_power": float, "snr_db": float,
                    "t_first": str, "t_last": str,
                    "flags": [str], "duty_cycle": float | null,
                    "burst_power": float | null, "f_method": str}],
     "overload": float | null,
     "rejected": [{"f_hz": float, "reason": str}]}

``power`` is the emission's integrated power in ``power_unit`` (mean over the
block), ``burst_power`` its mean power while on; times are ISO 8601 UTC with ``Z``.
An SNR that cannot be known (no noise visible in the span) is ``null``, never
negative. ``flags`` are the codes of :data:`dsp.types.EMISSION_FLAGS` (``span_edge``:
the bandwidth is a lower bound). ``overload`` is the fraction of raw samples at the
ADC's rails, ``null`` when unknown. ``rejected`` lists the receiver artefacts
(``dc_spike``, ``iq_image``, ``overload_product``, ``hop_alias``) that are not reported as
emissions. The keys after ``t_last`` and after ``emissions`` were added later:
scripts reading the first ones keep working.

:func:`run_analysis` and :func:`analysis_json` are the reusable wiring (``rfwatch
check`` calls them too).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from firmware_bridge.units import parse_hz

if TYPE_CHECKING:
    from rich.table import Table

    from dsp.pipeline import AnalysisResult
    from firmware_bridge.recording import IQRecording, IQStream

__all__ = ["analyze_rtltcp", "run_analysis", "analysis_json", "register"]

#: x of the x-dB bandwidth reported as ``bw_26db_hz``.
_X_DB = 26.0
#: Fewest complex samples an IQ recording must hold to be analysed (one FFT of 64).
MIN_SAMPLES = 64


def analyze_rtltcp(
    spec: str,
    *,
    rate_hz: float | None,
    f_center_hz: float | None,
    seconds: float = 1.0,
    threshold_db: float | None = None,
    gain_db: float | None = None,
) -> AnalysisResult:
    """Analyse ``seconds`` of IQ from an rtl_tcp server (``rtltcp:HOST:PORT``), streamed.

    Blocks go straight into one streaming pass (:func:`dsp.iq_analysis.analyze_stream`):
    memory does not grow with ``seconds``. The first seconds are kept, bounded, for the
    FM carriers.
    """
    from dsp.errors import ParameterError
    from dsp.fm_carrier import MEASURE_S, needs_fm
    from dsp.iq_analysis import analyze_stream, with_fm_carriers
    from firmware_bridge.factory import open_receiver

    if rate_hz is None or f_center_hz is None:
        raise ParameterError(f"{spec}: --rate và --freq là bắt buộc / --rate and --freq are "
                             "needed for an rtl_tcp source")
    if not (math.isfinite(seconds) and 0 < seconds <= 3600):
        raise ParameterError(f"--seconds must be in (0, 3600], got {seconds!r}")
    n_total = int(round(seconds * rate_hz))
    head_n = min(n_total, int(MEASURE_S * rate_hz) + 1)
    head: list = []
    rx = open_receiver(spec, f_center_hz=f_center_hz, sample_rate_hz=rate_hz)
    with rx:
        rx.set_gain(gain_db)
        first = rx.read(1024)  # the first block after tuning: its time and id

        def chunks():  # noqa: ANN202
            got = 0
            while got < n_total:
                block = rx.read(min(262_144, n_total - got))
                if got < head_n:
                    head.append(block.samples[: 2 * (head_n - got)])
                got += block.n_samples
                yield block.samples

        result = analyze_stream(chunks(), sample_rate_hz=rate_hz, f_center_hz=f_center_hz,
                                t_start_ns=first.t_end_ns, n_samples=n_total,
                                threshold_db=threshold_db, x_db=_X_DB,
                                receiver_id=first.receiver_id)
    if head and needs_fm(result.emissions, sample_rate_hz=rate_hz, f_center_hz=f_center_hz):
        import numpy as np

        result = with_fm_carriers(result, np.concatenate(head), sample_rate_hz=rate_hz,
                                  f_center_hz=f_center_hz)
    return result


def run_analysis(
    path: Path,
    *,
    rate_hz: float | None = None,
    f_center_hz: float | None = None,
    threshold_db: float | None = None,
    tz: tzinfo = UTC,
) -> AnalysisResult:
    """Analyse a recording or survey file; IQ files are streamed, not loaded.

    FFTW's wisdom is kept between runs (:func:`fftw_wisdom_path`).

    Parameters
    ----------
    path:
        SigMF (``.sigmf-meta``/``.sigmf-data``), raw IQ (``.cu8``, ``.cs8``, ``.cf32``...)
        or survey CSV.
    rate_hz, f_center_hz:
        Sample rate and tuned centre in Hz, needed for raw IQ.
    threshold_db:
        Detection threshold in dB over the noise floor (default: from the number
        of averages, see :func:`dsp.detect.default_threshold_db`).
    tz:
        Time zone of an rtl_power CSV's local times (``rfwatch check --tz``).

    Raises
    ------
    dsp.errors.InputFormatError
        The file cannot be read (the message names the file and what is wrong).
    """
    from dsp.errors import InputFormatError, ParameterError
    from dsp.pipeline import analyze_survey
    from firmware_bridge.recordings import open_recording

    rec = open_recording(Path(path), rate_hz=rate_hz, f_center_hz=f_center_hz, tz=tz)
    try:
        if hasattr(rec, "spectra"):
            return analyze_survey(rec.spectra, threshold_db=threshold_db, x_db=_X_DB)
        n = rec.n_samples if hasattr(rec, "chunks") else rec.samples.size
        if n < MIN_SAMPLES:
            raise InputFormatError(
                f"chỉ có {n} mẫu, cần ít nhất {MIN_SAMPLES} / only "
                f"{n} samples, at least {MIN_SAMPLES} are needed",
                source=str(path), field="samples",
            )
        wisdom = load_fftw_wisdom()
        try:
            return _analyze_iq_file(rec, threshold_db)
        finally:
            save_fftw_wisdom(wisdom)
    except ParameterError as err:
        # a value from the file that dsp cannot use: name the file
        raise InputFormatError(str(err), source=str(path)) from err


def _analyze_iq_file(rec: IQStream | IQRecording, threshold_db: float | None) -> AnalysisResult:
    """One pass over an IQ file, then the FM carriers (see :func:`run_analysis`)."""
    from dsp.fm_carrier import MEASURE_S, needs_fm
    from dsp.iq_analysis import analyze_stream, with_fm_carriers
    from dsp.pipeline import analyze_iq
    from firmware_bridge.recording import IQStream  # noqa: F811 - at run time too

    if not isinstance(rec, IQStream):  # a .sigmf archive, read whole
        return analyze_iq(
            rec.samples, sample_rate_hz=rec.sample_rate_hz, f_center_hz=rec.f_center_hz,
            t_start_ns=rec.t_start_ns, threshold_db=threshold_db, x_db=_X_DB,
            overload=rec.overload, receiver_id=rec.receiver_id,
            overload_fraction=getattr(rec, "overload_fraction", None),
        )
    # One pass over the file in chunks (memory bounded whatever its length) ...
    result = analyze_stream(
        rec.chunks(), sample_rate_hz=rec.sample_rate_hz, f_center_hz=rec.f_center_hz,
        t_start_ns=rec.t_start_ns, n_samples=rec.n_samples, threshold_db=threshold_db,
        x_db=_X_DB, overload=rec.overload, receiver_id=rec.receiver_id,
    )
    # ... and, when FM broadcasts were found, a bounded second read of the first
    # seconds to demodulate their carriers.
    if needs_fm(result.emissions, sample_rate_hz=rec.sample_rate_hz,
                f_center_hz=rec.f_center_hz):
        import numpy as np

        count = int(MEASURE_S * rec.sample_rate_hz) + 1
        head = np.concatenate(list(rec.chunks(count=count)))
        result = with_fm_carriers(result, head, sample_rate_hz=rec.sample_rate_hz,
                                  f_center_hz=rec.f_center_hz)
    return result


def fftw_wisdom_path() -> Path | None:
    """Where FFTW wisdom is kept between runs (``None``: not kept).

    ``$RFWATCH_FFTW_WISDOM`` if set (empty: keep none), else
    ``$XDG_CACHE_HOME/rfwatch/fftw_wisdom`` (``~/.cache/rfwatch/fftw_wisdom``).
    """
    import os

    env = os.environ.get("RFWATCH_FFTW_WISDOM")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rfwatch" / "fftw_wisdom"


def load_fftw_wisdom() -> bytes | None:
    """Give FFTW the wisdom of earlier runs; returns what was read (None if nothing)."""
    from dsp.spectrum import import_fftw_wisdom

    path = fftw_wisdom_path()
    try:
        data = path.read_bytes() if path is not None else None
    except OSError:
        return None  # none yet: plans are measured, then kept
    return data if data is not None and import_fftw_wisdom(data) else None


def save_fftw_wisdom(before: bytes | None) -> None:
    """Keep FFTW's wisdom for the next run when it learnt something new."""
    import os

    from dsp.spectrum import export_fftw_wisdom

    path = fftw_wisdom_path()
    data = export_fftw_wisdom()
    if path is None or data is None or data == before:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: another run reads the old or the new file
    except OSError:
        pass  # a read-only home: the plans are measured again next time


def _iso_utc(t_ns: int) -> str:
    """UTC ns since the epoch -> ``2018-11-18T12:31:45.000000Z``."""
    t = datetime.fromtimestamp(t_ns // 1_000_000_000, UTC).replace(
        microsecond=(t_ns % 1_000_000_000) // 1000
    )
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _num(value: float) -> float | None:
    """A float for JSON, ``None`` where it is not finite (JSON has no NaN)."""
    return float(value) if math.isfinite(value) else None


def _snr(value: float) -> float | None:
    """SNR for JSON: ``None`` where unknown (not finite, or not above the noise)."""
    return float(value) if math.isfinite(value) and value >= 0 else None


#: ``rejected`` reasons of :class:`dsp.pipeline.AnalysisResult` that are receiver
#: artefacts (the others, e.g. ``low_snr``, are candidates too weak to report).
ARTEFACT_REASONS = ("dc_spike", "iq_image", "overload_product", "hop_alias",
                    "keying_transient")


def analysis_json(result: AnalysisResult, *, source: str) -> dict:
    """The ``--json`` document of an analysis (shape in the module docstring)."""
    s = result.spectrum
    return {
        "source": source,
        "power_unit": s.power_unit,
        "f_start_hz": float(s.f_start_hz),
        "f_stop_hz": float(s.f_stop_hz),
        "rbw_hz": float(s.rbw_hz),
        "emissions": [
            {
                "f_hz": float(e.f_hz),
                "bw_99_hz": float(e.bw_99_hz),
                "bw_26db_hz": float(e.bw_xdb_hz),
                "power": _num(e.power_db),
                "peak_power": _num(e.peak_power_db),
                "snr_db": _snr(e.snr_db),
                "t_first": _iso_utc(e.t_first_ns),
                "t_last": _iso_utc(e.t_last_ns),
                "flags": list(e.flags),
                "duty_cycle": None if e.duty_cycle is None else _num(e.duty_cycle),
                "burst_power": None if e.burst_power_db is None else _num(e.burst_power_db),
                "f_method": e.f_method,
            }
            for e in result.emissions
        ],
        "overload": (None if result.overload_fraction is None
                     else _num(result.overload_fraction)),
        "rejected": [
            {"f_hz": float(e.f_hz), "reason": reason}
            for e, reason in result.rejected if reason in ARTEFACT_REASONS
        ],
    }


def _table(result: AnalysisResult, source: str) -> Table:
    from rich.table import Table

    unit = result.spectrum.power_unit
    table = Table(title=f"Phát xạ / Emissions — {source}")
    for header in (
        "Tần số/Freq (MHz)",
        "BW 99% (kHz)",
        "BW −26dB (kHz)",
        f"Công suất/Power ({unit})",
        f"Đỉnh/Peak ({unit})",
        "SNR (dB)",
        "Đầu/First (UTC)",
        "Cuối/Last (UTC)",
    ):
        table.add_column(header, justify="right")
    for e in result.emissions:
        table.add_row(
            f"{e.f_hz / 1e6:.5f}",
            f"{e.bw_99_hz / 1e3:.2f}",
            f"{e.bw_xdb_hz / 1e3:.2f}",
            f"{e.power_db:.1f}",
            f"{e.peak_power_db:.1f}",
            f"{e.snr_db:.1f}" if math.isfinite(e.snr_db) else "—",
            _iso_utc(e.t_first_ns)[:19],
            _iso_utc(e.t_last_ns)[:19],
        )
    return table


def analyze(
    file: Path = typer.Argument(
        ..., help="Tệp ghi / recording or survey file, or rtltcp:HOST:PORT (a live rtl_tcp "
        "server: give --freq, --rate and --seconds)."),
    rate: str | None = typer.Option(
        None, "--rate", help="Tốc độ lấy mẫu / sample rate for raw IQ (e.g. 2.4M, 250k)."
    ),
    freq: str | None = typer.Option(
        None, "--freq", help="Tần số trung tâm / centre frequency for raw IQ (e.g. 433.92M)."
    ),
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON for machines."),
    threshold_db: float | None = typer.Option(
        None, "--threshold-db",
        help="Ngưỡng phát hiện trên nền nhiễu / detection threshold over the noise floor (dB).",
    ),
    seconds: float = typer.Option(
        1.0, "--seconds", help="Thời lượng / how long to take from an rtl_tcp source (s)."),
) -> None:
    """Phân tích tệp ghi / find and measure the emissions in a recording or survey file."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    rate_hz = parse_hz(rate, field="rate") if rate is not None else None
    f_center_hz = parse_hz(freq, field="freq") if freq is not None else None
    if threshold_db is not None and not (math.isfinite(threshold_db) and threshold_db > 0):
        raise typer.BadParameter("phải > 0 / must be > 0", param_hint="--threshold-db")
    err = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True,
                  disable=as_json or not err.is_terminal) as progress:
        progress.add_task(f"Đang phân tích / analysing {file.name}", total=None)
        if str(file).startswith("rtltcp:"):
            result = analyze_rtltcp(str(file), rate_hz=rate_hz, f_center_hz=f_center_hz,
                                    seconds=seconds, threshold_db=threshold_db)
        else:
            result = run_analysis(file, rate_hz=rate_hz, f_center_hz=f_center_hz,
                                  threshold_db=threshold_db)
    if as_json:
        typer.echo(json.dumps(analysis_json(result, source=str(file)), ensure_ascii=False))
        return
    console = Console()
    console.print(_table(result, str(file)))
    s = result.spectrum
    console.print(
        f"{len(result.emissions)} phát xạ / emissions; "
        f"{sum(1 for _, r in result.rejected if r != 'low_snr')} nhiễu máy thu bị loại / "
        f"receiver artefacts rejected; RBW {s.rbw_hz:.0f} Hz; "
        f"{s.f_start_hz / 1e6:.4f}–{s.f_stop_hz / 1e6:.4f} MHz",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``rfwatch analyze`` to the root app."""
    app.command("analyze")(analyze)
