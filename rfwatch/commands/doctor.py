"""``rfwatch doctor``: one line per check, what is fine and what to do about what is not.

Checks librtlsdr, attached dongles, the time-series store and the relational DB.
Exits 0 when nothing blocks the configured setup (no dongle is not an error: the
simulator, files and rtl_tcp still work); 1 when a configured service is down.
"""

from __future__ import annotations

import typer
from rich.console import Console

from rfwatch import state

console = Console(soft_wrap=True)


def _line(ok: bool | None, text: str) -> None:
    from rfwatch.logs import redact

    mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[yellow]![/]"}[ok]
    # Passwords in URLs (user:secret@host) and tokens never reach the screen.
    console.print(mark, highlight=False, end=" ")
    console.print(redact(text), highlight=False, markup=False)


def doctor() -> None:
    """Kiểm tra hệ thống / check librtlsdr, dongles, InfluxDB and the database."""
    from firmware_bridge.rtlsdr import probe
    from storage.factory import check_database, check_influx

    settings = state.get_settings()
    failures = 0

    result = probe()
    _line(result.library_ok, f"librtlsdr: {result.library_message}")
    if result.library_ok:
        if result.devices:
            for dev in result.devices:
                _line(True, f"RTL-SDR #{dev.index}: {dev.name} serial={dev.serial or '?'}")
        else:
            _line(
                None,
                "Không có RTL-SDR nào được cắm — dùng simulator:, file: hoặc rtltcp: / "
                "no RTL-SDR attached: plug one in, or use simulator:, file: or rtltcp: receivers",
            )

    influx = settings.influx
    if settings.timeseries_backend == "influx":
        ok, text = check_influx(
            influx.url,
            database=influx.database,
            username=influx.username,
            password=influx.password.get_secret_value() if influx.password else None,
            token=influx.token.get_secret_value() if influx.token else None,
        )
        _line(ok, text)
        failures += not ok
    else:
        _line(
            True,
            f"Kho chuỗi thời gian nhúng / embedded time-series store: "
            f"{settings.embedded_timeseries_path} (InfluxDB: RFWATCH_TIMESERIES_BACKEND=influx)",
        )

    ok, text = check_database(settings.database_url)
    # A default SQLite file that does not exist yet is created by `rfwatch db upgrade`
    # or the first command that needs it: say so, but it does not block anything.
    if not ok and settings.db_url is None:
        _line(None, text)
    else:
        _line(ok, text)
        failures += not ok
    raise typer.Exit(1 if failures else 0)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
