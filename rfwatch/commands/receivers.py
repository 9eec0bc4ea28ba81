"""Receiver commands: ``rfwatch devices``, ``rfwatch record``, ``rfwatch rtltcp serve``."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console

console = Console()

rtltcp_app = typer.Typer(
    name="rtltcp",
    help="Máy chủ rtl_tcp / rtl_tcp server tools.",
    no_args_is_help=True,
)

_RECEIVER_HELP = (
    "Bộ thu / receiver: rtlsdr:#0, rtlsdr:SERIAL, rtltcp:HOST:PORT, file:PATH, "
    "simulator:SCENE.yaml[#RECEIVER]."
)


def devices() -> None:
    """Liệt kê RTL-SDR đang cắm / list attached RTL-SDR dongles with their serials."""
    from rich.table import Table

    from firmware_bridge.rtlsdr import list_devices

    found = list_devices()
    if not found:
        console.print("Không tìm thấy RTL-SDR / No RTL-SDR found", highlight=False)
        return
    table = Table(title="RTL-SDR")
    for header in ("Chỉ số / index", "Số sê-ri / serial", "Tên / name",
                   "Hãng / manufacturer", "Sản phẩm / product", "Bộ thu / spec"):
        table.add_column(header)
    for dev in found:
        spec = f"rtlsdr:{dev.serial}" if dev.serial else f"rtlsdr:#{dev.index}"
        table.add_row(str(dev.index), dev.serial, dev.name, dev.manufacturer, dev.product, spec)
    console.print(table)


def _block_samples(rate_hz: float) -> int:
    # About 0.1 s per read, a multiple of 256 samples (librtlsdr reads in 512-byte units).
    return max(256, int(rate_hz / 10) // 256 * 256)


def record(
    receiver: str = typer.Option(..., "--receiver", "-r", help=_RECEIVER_HELP),
    freq: str = typer.Option(..., "--freq", "-f", help="Tần số trung tâm / centre frequency "
                             "(Hz or 98.5M, 433.92M, 100k)."),
    rate: str = typer.Option("2.4M", "--rate", "-s", help="Tốc độ lấy mẫu / sample rate "
                             "(S/s, e.g. 2.4M, 250k)."),
    seconds: float = typer.Option(..., "--seconds", "-t", help="Thời lượng / duration (s)."),
    out: Path = typer.Option(..., "--out", "-o", help="Tệp ra / output X.sigmf-meta."),
    gain: float | None = typer.Option(None, "--gain", "-g",
                                      help="Độ lợi / gain dB (mặc định tự động / default auto)."),
    ppm: float = typer.Option(0.0, "--ppm", help="Hiệu chỉnh tần số / frequency correction ppm."),
    datatype: str | None = typer.Option(
        None, "--datatype", help="cu8 hoặc / or cf32_le (mặc định theo bộ thu / default: "
        "cu8 for RTL-SDR bytes, cf32_le otherwise)."),
    description: str = typer.Option("", "--description", help="Mô tả / description."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Ghi đè / replace existing files."),
) -> None:
    """Ghi IQ thành SigMF / record IQ from a receiver into a SigMF recording."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from dsp.errors import InputFormatError, ReceiverError
    from firmware_bridge.factory import open_receiver, parse_spec
    from firmware_bridge.rawiq import rates_from_filename
    from firmware_bridge.recordings import recording_kind
    from firmware_bridge.sigmf_io import SigMFWriter
    from firmware_bridge.units import format_hz, parse_hz

    f_hz = parse_hz(freq, field="--freq")
    rate_hz = parse_hz(rate, field="--rate")
    if not seconds > 0:
        raise InputFormatError("--seconds phải > 0 / must be > 0", field="--seconds")
    spec = parse_spec(receiver)
    kwargs: dict = {}
    if spec.kind in ("rtlsdr", "rtltcp"):
        kwargs = {"f_center_hz": f_hz, "sample_rate_hz": rate_hz, "gain_db": gain, "ppm": ppm}
    elif spec.kind == "file" and recording_kind(spec.target) not in ("sigmf", "csv"):
        # A raw file has no header: unless its name says (rtl_433 style), --rate and
        # --freq describe the file itself; otherwise --freq tunes within its span.
        name_fc, name_fs = rates_from_filename(spec.target)
        kwargs = {"rate_hz": name_fs or rate_hz, "f_center_hz": name_fc or f_hz}
    rx = open_receiver(receiver, **kwargs)
    total = int(round(seconds * rate_hz))
    block = _block_samples(rate_hz)
    writer: SigMFWriter | None = None
    done = dropped = overloads = 0
    with rx:
        rx.set_sample_rate(rate_hz)
        rx.tune(f_hz)
        rx.set_gain(gain)
        if ppm:
            rx.set_ppm(ppm)
        progress = Progress(
            TextColumn("[bold]Ghi / recording[/] {task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        try:
            with progress:
                task = progress.add_task(f"{format_hz(f_hz)} @ {format_hz(rate_hz)}",
                                         total=total)
                while done < total:
                    iq = rx.read(min(block, total - done))
                    if writer is None:
                        chosen = datatype or ("cu8" if iq.samples.dtype.name == "uint8"
                                              else "cf32_le")
                        writer = SigMFWriter(
                            out, sample_rate_hz=iq.sample_rate_hz, f_center_hz=iq.f_center_hz,
                            t_start_ns=iq.t_start_ns, datatype=chosen,  # type: ignore[arg-type]
                            description=description, hw=rx.capabilities.tuner,
                            receiver_id=rx.receiver_id, gain_db=iq.gain_db, overwrite=overwrite,
                        )
                    writer.write_block(iq)
                    done += iq.n_samples
                    dropped += iq.dropped_samples
                    overloads += int(iq.overload)
                    progress.update(task, completed=done)
        except ReceiverError as err:
            if writer is not None:
                kept = writer.close()
                raise type(err)(f"{err} — đã lưu phần đã ghi / the part recorded so far "
                                f"({done} samples) is kept in {kept}") from err
            raise
    assert writer is not None
    meta = writer.close()
    console.print(
        f"Đã ghi / wrote {meta} ({done} mẫu / samples, {done / rate_hz:.2f} s; "
        f"quá tải / overloaded blocks: {overloads}; mất mẫu / dropped: {dropped})",
        highlight=False,
    )


@rtltcp_app.command("serve")
def rtltcp_serve(
    recording: Path = typer.Argument(..., help="Bản ghi / recording (SigMF, .cu8, .cf32, ...)."),
    address: str = typer.Option("127.0.0.1", "--address", "-a", help="Địa chỉ / listen address."),
    port: int = typer.Option(1234, "--port", "-p", help="Cổng / TCP port."),
    rate: str | None = typer.Option(None, "--rate", "-s",
                                    help="Tốc độ của tệp thô / sample rate of a raw file."),
    freq: str | None = typer.Option(None, "--freq", "-f",
                                    help="Tần số của tệp thô / centre frequency of a raw file."),
    fmt: str | None = typer.Option(None, "--format",
                                   help="Định dạng / force a format (cu8, cs16, cf32, sigmf)."),
    unpaced: bool = typer.Option(False, "--unpaced",
                                 help="Gửi nhanh nhất có thể / send as fast as the client reads."),
) -> None:
    """Phát lại bản ghi qua giao thức rtl_tcp / replay a recording as an rtl_tcp server."""
    from dsp.errors import InputFormatError
    from firmware_bridge.recording import IQRecording
    from firmware_bridge.recordings import load_recording
    from firmware_bridge.rtltcp_server import RtlTcpReplayServer
    from firmware_bridge.units import format_hz, parse_hz

    rec = load_recording(
        recording,
        rate_hz=parse_hz(rate, field="--rate") if rate is not None else None,
        f_center_hz=parse_hz(freq, field="--freq") if freq is not None else None,
        fmt=fmt,
    )
    if not isinstance(rec, IQRecording):
        raise InputFormatError("cần bản ghi IQ, không phải tệp khảo sát / need an IQ recording, "
                               "not a survey file", source=str(recording))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = RtlTcpReplayServer(rec, address, port, paced=not unpaced)
    server.bind()
    span = f"{format_hz(rec.f_center_hz - rec.sample_rate_hz / 2)}–" \
           f"{format_hz(rec.f_center_hz + rec.sample_rate_hz / 2)}"
    console.print(
        f"rtl_tcp: phát lại / replaying {recording} on {address}:{server.port} "
        f"({format_hz(rec.f_center_hz)}, {format_hz(rec.sample_rate_hz)}; "
        f"dò được trong / tunable within {span}). Ctrl-C để dừng / to stop.",
        highlight=False,
    )
    try:
        server.serve_forever()
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("devices")(devices)
    app.command("record")(record)
    app.add_typer(rtltcp_app, name="rtltcp")
