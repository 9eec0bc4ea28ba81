"""Stations and the centre: ``station run``, ``central run``/``token``, ``field sync``, ``demo``."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import typer
from rich.console import Console

from dsp.errors import ConfigError, ParameterError, RfwatchError
from rfwatch.state import get_settings

console = Console()
station_app = typer.Typer(help="Trạm đo / monitoring station.", no_args_is_help=True)
central_app = typer.Typer(help="Trung tâm / the centre.", no_args_is_help=True)
field_app = typer.Typer(help="Bộ đo di động / field kit.", no_args_is_help=True)
registry_app = typer.Typer(
    help="Sổ đăng ký của bộ đo / the licence registry a field kit carries (offline check).",
    no_args_is_help=True,
)

CONFIG_OPT = typer.Option(..., "--config", "-c", help="Tệp cấu hình trạm / site.yaml")


def _token(cfg, override: str | None) -> str:  # noqa: ANN001 - SiteConfig
    if override:
        return override
    centre = cfg.centre
    if centre is not None and centre.token:
        return centre.token
    if centre is not None and centre.token_env and os.environ.get(centre.token_env):
        return os.environ[centre.token_env]
    raise ConfigError(
        "Thiếu mã truy cập của trạm / no station token: set centre.token, the variable "
        f"{centre.token_env if centre else 'RFWATCH_STATION_TOKEN'} or --token"
    )


def _outbox(cfg):  # noqa: ANN001, ANN202
    from stations.outbox import Outbox

    path = cfg.outbox.path or (
        Path(get_settings().home) / "stations" / cfg.station.id / "outbox.sqlite"
    )
    return Outbox(
        path,
        station_id=cfg.station.id,
        station_kind=cfg.station.kind,
        max_bytes=cfg.outbox.max_bytes,
    )


def station_run(
    config: Path = CONFIG_OPT,
    token: str | None = typer.Option(None, help="Mã truy cập / bearer token (else from config)"),
    seconds: float | None = typer.Option(
        None, help="Dừng sau N giây / stop after N seconds (default: run until stopped)"
    ),
    seed: int = typer.Option(0, help="Hạt giống bộ mô phỏng / simulator seed"),
    live: bool | None = typer.Option(
        None, "--live/--no-live",
        help="Bảng trạng thái trực tiếp / live status panel (default: on a terminal)",
    ),
) -> None:
    """Chạy trạm đo / run a border station or field kit (measure, queue, upload)."""
    from stations.agent import OutboxSink, StationAgent
    from stations.config import load_site_config
    from stations.sources import GpsPositionSource, open_site_receiver
    from stations.uplink import Uplink

    cfg = load_site_config(config)
    outbox = _outbox(cfg)
    uplink = None
    if cfg.centre is not None and cfg.station.kind == "fixed":
        uplink = Uplink(
            outbox,
            url=cfg.centre.url,
            token=_token(cfg, token),
            timeout_s=cfg.centre.timeout_s,
            backoff_initial_s=cfg.centre.backoff_initial_s,
            backoff_max_s=cfg.centre.backoff_max_s,
        )
    reader = None
    position_source = None
    if cfg.gps is not None:
        from firmware_bridge.gps import GpsReader

        reader = GpsReader(cfg.gps.port, baudrate=cfg.gps.baud).start()
        position_source = GpsPositionSource(reader)
    evidence_dir = cfg.evidence_dir or (
        Path(get_settings().home) / "stations" / cfg.station.id / "evidence"
    )
    from stations.field_check import FieldChecker, registry_dir
    from stations.status import StatusSink

    field_checker = FieldChecker.from_folder(registry_dir(get_settings().home, cfg.station.id))
    status = StatusSink(OutboxSink(outbox, items_per_batch=cfg.outbox.items_per_batch))
    agent = StationAgent(
        cfg,
        open_receiver=lambda c: open_site_receiver(c, seed=seed),
        sink=status,
        position_source=position_source,
        outbox=outbox,
        uplink=uplink,
        evidence_dir=evidence_dir,
        field_checker=field_checker,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    until = None if seconds is None else time.time_ns() + int(seconds * 1e9)
    console.print(
        f"Trạm / station {cfg.station.id}: {len(cfg.receivers)} máy thu / receivers, "
        f"{len(cfg.tasks)} nhiệm vụ / tasks, hàng đợi / outbox {outbox.path}"
    )
    show = console.is_terminal if live is None else live
    try:
        if show:
            _run_with_live_view(agent, status, until, stop)
        else:
            agent.run(until_ns=until, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        if uplink is not None:
            uplink.close()
        if reader is not None:
            reader.close()
        outbox.close()


def _check_port_free(host: str, port: int) -> None:
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as err:
        raise ConfigError(
            f"không mở được cổng / cannot listen on {host}:{port}: {err.strerror or err}"
        ) from err


def _run_with_live_view(agent, status, until, stop) -> None:  # noqa: ANN001
    """Run the agent in a thread and redraw its status once a second until it ends."""
    from rich.live import Live

    from rfwatch.station_view import render
    from stations.status import snapshot

    errors: list[BaseException] = []

    def run() -> None:
        try:
            agent.run(until_ns=until, stop=stop)
        except BaseException as err:  # noqa: BLE001 - shown after the view closes
            errors.append(err)
            stop.set()

    worker = threading.Thread(target=run, name="station", daemon=True)
    worker.start()
    with Live(render(snapshot(agent, status)), console=console, refresh_per_second=2) as view:
        while worker.is_alive():
            worker.join(timeout=1.0)
            view.update(render(snapshot(agent, status)))
    if errors:
        raise errors[0]


def central_run(
    host: str | None = typer.Option(None, help="Địa chỉ / address to listen on [127.0.0.1]"),
    port: int | None = typer.Option(None, min=1, max=65535, help="Cổng / port [8600]"),
    workers: int | None = typer.Option(
        None, "--workers", min=1, max=64,
        help="Số tiến trình / worker processes (more than 1 needs PostgreSQL and InfluxDB)",
    ),
) -> None:
    """Chạy trung tâm / run the centre (ingest API; web pages later)."""
    import uvicorn

    from rfwatch.central import export_settings, prepare_centre

    settings = get_settings()
    host = host or settings.centre.host
    port = port or settings.centre.port
    workers = workers or settings.centre.workers
    _check_port_free(host, port)
    prepare_centre(settings, workers=workers)
    export_settings(settings)
    console.print(
        f"Trung tâm / centre on http://{host}:{port} ({workers} tiến trình / workers)"
    )
    # Stations post every few seconds: keep their connections open longer than that,
    # or a post can race the server closing an idle connection.
    from api.serve import WS_PROTOCOL

    try:
        uvicorn.run(
            "rfwatch.central:app_factory", factory=True, host=host, port=port,
            workers=workers, log_level="warning", timeout_keep_alive=75, ws=WS_PROTOCOL,
        )
    except OSError as err:
        raise ConfigError(
            f"không mở được cổng / cannot listen on {host}:{port}: {err.strerror or err}"
        ) from err


def central_token(
    station_id: str = typer.Argument(
        ..., help="Mã trạm / station id; or `revoke` / `rotate` followed by the station id"
    ),
    target: str | None = typer.Argument(None, help="Mã trạm của revoke/rotate / station id"),
    name: str | None = typer.Option(None, help="Tên trạm / station name (to register)"),
    kind: str = typer.Option("fixed", help="fixed | field_kit"),
    lat: float | None = typer.Option(None, help="Vĩ độ / latitude (deg)"),
    lon: float | None = typer.Option(None, help="Kinh độ / longitude (deg)"),
    ttl_days: float | None = typer.Option(
        None, "--ttl-days", min=1e-6, help="Hết hạn sau N ngày / the token expires after N days"
    ),
) -> None:
    """Cấp, thu hồi, đổi mã trạm / issue, revoke or rotate a station's bearer token.

    `central token STATION --name NAME` registers the station and prints a new token
    (once). `central token revoke STATION` revokes every token of the station at once;
    `central token rotate STATION` revokes them and prints a new one.
    """
    from centre.tokens import issue_token, register_station, revoke_tokens, rotate_token
    from stations.batch import check_station_id
    from storage.db import make_engine, make_session_factory
    from storage.migrations import upgrade

    action = None
    if station_id in ("revoke", "rotate") and target is not None:
        action, station_id = station_id, target
    elif target is not None:
        raise ParameterError(
            f"thừa đối số / unexpected argument {target[:40]!r}: "
            "use `token STATION --name NAME`, `token revoke STATION` or `token rotate STATION`"
        )
    check_station_id(station_id)
    if action is None and not name:
        raise ParameterError("cần --name để đăng ký trạm / --name is needed to register a station")
    settings = get_settings()
    Path(settings.home).mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    ttl = ttl_days if ttl_days is not None else settings.centre.token_ttl_days
    try:
        with make_session_factory(engine).begin() as session:
            if action == "revoke":
                n = revoke_tokens(session, station_id)
                console.print(f"Đã thu hồi / revoked {n} mã / tokens of {station_id}")
                return
            if action == "rotate":
                token = rotate_token(session, station_id, ttl_days=ttl)
            else:
                from dsp.types import GeoPosition

                pos = GeoPosition(lat, lon) if lat is not None and lon is not None else None
                register_station(session, station_id, name=name or station_id, kind=kind,
                                 position=pos)
                token = issue_token(session, station_id, ttl_days=ttl)
    finally:
        engine.dispose()
    typer.echo(token)


def field_sync(
    config: Path = CONFIG_OPT,
    token: str | None = typer.Option(None, help="Mã truy cập / bearer token (else from config)"),
    url: str | None = typer.Option(None, help="URL trung tâm / centre URL (else from config)"),
    timeout_s: float = typer.Option(600.0, help="Thời gian tối đa / give up after (s)"),
) -> None:
    """Đồng bộ bộ đo di động / upload a field kit's measurements (idempotent)."""
    from rich.progress import BarColumn, Progress, TextColumn

    from stations.config import load_site_config
    from stations.uplink import Uplink

    cfg = load_site_config(config)
    base = url or (cfg.centre.url if cfg.centre else None)
    if not base:
        raise ConfigError("Thiếu URL trung tâm / no centre URL: set centre.url or --url")
    outbox = _outbox(cfg)
    uplink = Uplink(outbox, url=base, token=_token(cfg, token))
    total = outbox.depth()
    try:
        with Progress(
            TextColumn("[bold]Đồng bộ / sync"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            console=console,
        ) as progress:
            task = progress.add_task("sync", total=total)
            deadline = time.monotonic() + timeout_s
            while outbox.depth() and time.monotonic() < deadline:
                uplink.run_once()
                progress.update(task, completed=total - outbox.depth())
                if uplink.auth_failed:  # retrying will not help: say so now
                    break
                wait = uplink.next_attempt_s - time.monotonic()
                if wait > 0:
                    time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        left = outbox.depth()
        if left:
            raise ConfigError(
                f"Còn {left} lô chưa gửi / {left} batches not delivered: {uplink.last_error}"
            )
        console.print(
            f"Đã gửi / delivered {uplink.total_sent} lô / batches "
            f"({uplink.total_duplicates} đã có / already there)"
        )
        if uplink.total_rejected or uplink.total_rejected_items:
            raise RfwatchError(
                f"Trung tâm từ chối / the centre refused {uplink.total_rejected} lô / batches "
                f"and {uplink.total_rejected_items} mục / items; they are kept in the outbox's "
                f"rejected log ({outbox.path})"
            )
    finally:
        uplink.close()
        outbox.close()


def _registry_station(config: Path | None, station: str | None):  # noqa: ANN202
    """(station id, site config or None) of the registry commands."""
    from stations.batch import check_station_id

    cfg = None
    if config is not None:
        from stations.config import load_site_config

        cfg = load_site_config(config)
        station = station or cfg.station.id
    if not station:
        raise ParameterError("cần --config hoặc --station / give --config or --station")
    return check_station_id(station), cfg


def field_registry_pull(
    config: Path | None = typer.Option(None, "--config", "-c", help="Tệp cấu hình trạm / "
                                       "site.yaml (station id, centre URL, token)"),
    station: str | None = typer.Option(None, "--station", help="Mã trạm / station id"),
    centre: str | None = typer.Option(None, "--centre", help="URL trung tâm / centre URL"),
    token_env: str | None = typer.Option(
        None, "--token-env", help="Biến môi trường chứa mã trạm / variable holding the token"),
) -> None:
    """Tải sổ đăng ký từ trung tâm / pull the licences and foreign stations from the centre."""
    from stations.field_check import pull_snapshot, registry_dir

    station_id, cfg = _registry_station(config, station)
    url = centre or (cfg.centre.url if cfg is not None and cfg.centre else None)
    if not url:
        raise ConfigError("Thiếu URL trung tâm / no centre URL: give --centre or centre.url")
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise ConfigError(f"biến / variable {token_env} is not set")
    elif cfg is not None:
        token = _token(cfg, None)
    else:
        raise ConfigError("Thiếu mã truy cập / no token: give --token-env or --config")
    folder = registry_dir(get_settings().home, station_id)
    info = pull_snapshot(folder, url=url, token=token, station_id=station_id)
    console.print(f"Sổ đăng ký / registry of {station_id}: {info.n_licences} giấy phép / "
                  f"licences, {info.n_foreign} đài nước ngoài / foreign stations -> {folder}")


def field_registry_import(
    licences: Path = typer.Option(..., "--licences", help="Giấy phép / licence CSV or XLSX"),
    foreign: Path | None = typer.Option(None, "--foreign", help="Đài nước ngoài / foreign "
                                        "stations CSV or XLSX"),
    config: Path | None = typer.Option(None, "--config", "-c", help="Tệp cấu hình trạm / "
                                       "site.yaml (station id)"),
    station: str | None = typer.Option(None, "--station", help="Mã trạm / station id"),
) -> None:
    """Nhập sổ đăng ký từ tệp / import the registry a field kit carries, offline."""
    from stations.field_check import import_snapshot, registry_dir

    station_id, _ = _registry_station(config, station)
    folder = registry_dir(get_settings().home, station_id)
    info = import_snapshot(folder, licences, foreign)
    console.print(f"Sổ đăng ký / registry of {station_id}: {info.n_licences} giấy phép / "
                  f"licences, {info.n_foreign} đài nước ngoài / foreign stations -> {folder}")


def demo(
    seconds: float = typer.Option(240.0, help="Thời gian cảnh / scene time to run (s)"),
    seed: int = typer.Option(0, help="Hạt giống / simulator seed"),
    json_out: Path | None = typer.Option(
        None, "--json-out", help="Ghi kết quả JSON / also write what was found as JSON here"
    ),
    serve: bool = typer.Option(
        False, "--serve", help="Giữ trung tâm chạy với giao diện web / keep the centre and its "
        "web pages up afterwards (Ctrl-C stops)"
    ),
    port: int = typer.Option(0, "--port", help="Cổng / port of the centre (0: any free one)"),
    scene_time: bool = typer.Option(
        False, "--scene-time", help="Đóng dấu thời gian theo ngày của cảnh / stamp the data "
        "at the scene's own date instead of the real clock (default: the run ends now)"
    ),
    scene: Path | None = typer.Option(
        None, "--scene", help="Tệp cảnh / another scene file of the simulator's format, with "
        "receivers huu-nghi, tan-thanh, chi-ma and field-kit"
    ),
    licences: Path | None = typer.Option(
        None, "--licences", help="Giấy phép / licence CSV replacing the demo's registry"
    ),
    foreign: Path | None = typer.Option(
        None, "--foreign", help="Đài nước ngoài / foreign-station CSV replacing the demo's"
    ),
) -> None:
    """Chạy thử toàn hệ thống / the whole system on a simulated scene (Lạng Sơn)."""
    import dataclasses
    import json

    from rfwatch.demo import run_demo, serve_until_interrupted

    start_ns = None if scene_time else (time.time_ns() // 1_000_000_000 - int(seconds)) * 10**9
    result = run_demo(get_settings(), seconds=seconds, seed=seed, console=console, port=port,
                      serve=(lambda url, services: serve_until_interrupted(url, services, console))
                      if serve else None, start_ns=start_ns, scene_file=scene,
                      licences_file=licences, foreign_file=foreign)
    if json_out is not None:
        json_out.write_text(
            json.dumps(dataclasses.asdict(result), ensure_ascii=False, indent=2), encoding="utf-8"
        )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    station_app.command("run")(station_run)
    central_app.command("run")(central_run)
    central_app.command("token")(central_token)
    field_app.command("sync")(field_sync)
    registry_app.command("pull")(field_registry_pull)
    registry_app.command("import")(field_registry_import)
    field_app.add_typer(registry_app, name="registry")
    app.add_typer(station_app, name="station")
    app.add_typer(central_app, name="central")
    app.add_typer(field_app, name="field")
    app.command("demo")(demo)
