"""The live view of ``rfwatch station run`` (rich): a panel redrawn every second from
:func:`stations.status.snapshot`."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from stations.status import StationSnapshot

__all__ = ["render"]


def render(s: StationSnapshot) -> Panel:
    """A panel of the station's state (Vietnamese first, then English)."""
    rx = Table(title="Máy thu / receivers", expand=True)
    for col in ("id", "trạng thái / state", "khuếch đại / gain", "lỗi / failures", "ppm",
                "lỗi cuối / last error"):
        rx.add_column(col)
    for r in s.receivers:
        style = "green" if r.state == "open" and not r.failures else (
            "yellow" if r.state == "open" else "red")
        rx.add_row(r.receiver_id, f"[{style}]{r.state}[/]", r.gain, str(r.failures),
                   "-" if r.ppm is None else f"{r.ppm:+.2f}", (r.last_error or "")[:60])
    sweeps = Table(title="Lần quét cuối / last sweep", expand=True)
    for col in ("band", "MHz", "bins", "cách đây / age"):
        sweeps.add_column(col)
    for band, f0, f1, n, age in s.sweeps:
        sweeps.add_row(band, f"{f0 / 1e6:.3f}-{f1 / 1e6:.3f}", str(n), f"{age:.0f} s")
    em = Table(title="Phát xạ / emissions found", expand=True)
    for col in ("band", "MHz", "BW kHz", "power", "SNR dB", "loại / class",
                "vi phạm / findings"):
        em.add_column(col)
    for band, f_hz, bw, p, unit, snr, cls, kinds in s.emissions:
        style = "red" if kinds else "green"
        em.add_row(band, f"{f_hz / 1e6:.4f}", f"{bw / 1e3:.1f}", f"{p:.1f} {unit}",
                   f"{snr:.1f}", cls or "-",
                   f"[{style}]{', '.join(kinds)}[/]" if kinds else "-")
    upload = f"đã gửi / uploaded {s.uploaded}"
    if s.upload_error:
        upload += f" — [red]{s.upload_error[:80]}[/]"
    footer = (f"{s.gps} | hàng đợi / outbox {s.outbox_depth} lô / batches"
              + (f", [red]{s.rejected_items} mục bị từ chối / items refused[/]"
                 if s.rejected_items else "") + f" | {upload}")
    registry = ("sổ đăng ký / registry: " + s.registry) if s.registry else (
        "không có sổ đăng ký / no registry snapshot: no field check "
        "(rfwatch field registry pull | import)")
    return Panel(Group(rx, sweeps, em, footer, registry), title=f"Trạm / station {s.station_id}")
