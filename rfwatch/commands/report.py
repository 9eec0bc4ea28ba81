"""Reports for officials: ``rfwatch report inspection`` and ``rfwatch report period``.

The format follows ``--out``'s extension (``.pdf`` or ``.xlsx``, the same numbers);
Vietnamese by default, ``--lang en`` for English. Both read the relational DB and
the time-series store of the settings (see README, Configuration).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from dsp.errors import ParameterError
from rfwatch import state

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from storage.timeseries import TimeSeriesStore

console = Console()
report_app = typer.Typer(help="Báo cáo / reports (PDF, XLSX).", no_args_is_help=True)


@contextmanager
def open_stores() -> Iterator[tuple[sessionmaker[Session], TimeSeriesStore]]:
    """The settings' relational DB (schema brought up to date) and time-series store."""
    from storage import open_timeseries
    from storage.db import make_engine, make_session_factory
    from storage.migrations import upgrade

    settings = state.get_settings()
    url = settings.database_url
    if url.startswith("sqlite"):
        Path(settings.home).mkdir(parents=True, exist_ok=True)
    upgrade(url)
    engine = make_engine(url)
    # the reports read what is there: never create an InfluxDB database for them
    options = settings.timeseries_options()
    if options["backend"] == "influx":
        options["create_database"] = False
    ts = open_timeseries(**options)
    try:
        yield make_session_factory(engine), ts
    finally:
        ts.close()
        engine.dispose()


def parse_when(text: str, option: str, *, end: bool = False) -> int:
    """UTC ns of ``YYYY-MM-DD`` (with ``end``: the start of the next day, so a date
    range includes its last day) or an ISO 8601 time (``Z`` or an offset; none = UTC)."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            if end:
                day += dt.timedelta(days=1)
            stamp = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        else:
            stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=dt.UTC)
    except ValueError as err:
        raise ParameterError(
            f"{option}: ngày giờ không hợp lệ / not a date or ISO 8601 time: {text!r}"
        ) from err
    delta = stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _lang_out(lang: str, out: Path):  # noqa: ANN202
    from reports.i18n import check_lang
    from reports.render import report_format

    report_format(out)
    return check_lang(lang)


@report_app.command("inspection")
def report_inspection(
    case: str = typer.Option(..., "--case", help="Mã vụ việc / case id"),
    out: Path = typer.Option(..., "--out", help="Tệp .pdf hoặc .xlsx / a .pdf or .xlsx file"),
    lang: str = typer.Option("vi", "--lang", help="vi | en"),
) -> None:
    """Biên bản sau kiểm tra một vụ việc / post-inspection record of one case."""
    from reports.data import gather_inspection
    from reports.render import render
    from reports.tables import inspection_document

    language = _lang_out(lang, out)
    with open_stores() as (sessions, ts):
        report = gather_inspection(sessions, ts, case)
    render(inspection_document(report, language), out)
    console.print(f"Đã ghi / written: {out}")


@report_app.command("period")
def report_period(
    t_from: str = typer.Option(..., "--from", help="YYYY-MM-DD hoặc ISO 8601 (UTC)"),
    t_to: str = typer.Option(..., "--to", help="YYYY-MM-DD (cả ngày đó / inclusive) or ISO"),
    out: Path = typer.Option(..., "--out", help="Tệp .pdf hoặc .xlsx / a .pdf or .xlsx file"),
    station: str | None = typer.Option(None, "--station", help="Chỉ một trạm / one station"),
    lang: str = typer.Option("vi", "--lang", help="vi | en"),
) -> None:
    """Báo cáo định kỳ / periodic report over a time range."""
    from reports.data import gather_period
    from reports.render import render
    from reports.tables import period_document

    language = _lang_out(lang, out)
    t0 = parse_when(t_from, "--from")
    t1 = parse_when(t_to, "--to", end=True)
    with open_stores() as (sessions, ts):
        report = gather_period(sessions, ts, t0, t1, station=station)
    render(period_document(report, language), out)
    console.print(f"Đã ghi / written: {out}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(report_app, name="report")
