"""``rfwatch demo``: the centre and four simulated stations on one scene, in one process.

Wiring only (the composition root): the real centre (migrated DB, time-series store,
compliance, cases) served by uvicorn on 127.0.0.1 at an ephemeral port; three border
station agents whose durable outboxes upload over HTTP with their bearer tokens;
one field kit that measures offline with its GPS on a pseudo-terminal (NMEA of a
simulated route) and is synced afterwards through the same idempotent ingest path.
The receivers are the RF-scene simulator (``lang_son_demo``) at the hardware edge;
scene time is virtual and runs as fast as the machine allows.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dsp.errors import InputFormatError, RfwatchError
from dsp.types import GeoPosition
from rfwatch.settings import Settings

__all__ = ["DEMO_INSPECTOR", "DemoResult", "run_demo", "serve_until_interrupted"]

#: The demo's inspector account (its password is new on every ``demo --serve``).
DEMO_INSPECTOR = "thanhtra"

NS = 1_000_000_000
SITE_FILES = ("huu_nghi.yaml", "tan_thanh.yaml", "chi_ma.yaml", "field_kit.yaml")
SCENE = "lang_son_demo"
#: The field kit's drive: round the block of roads in the area where the border stations
#: heard the unknown VHF emitter (ILLUSTRATIVE waypoints; the team
#: does not know where the emitter is).
ROUTE = (
    GeoPosition(21.937, 106.655),
    GeoPosition(21.937, 106.625),
    GeoPosition(21.922, 106.625),
    GeoPosition(21.922, 106.655),
)
ROUTE_SPEED_MPS = 30.0


class VirtualClock:
    """Scene time for every agent of the demo: ``sleep`` advances it, never waits."""

    def __init__(self, t0_ns: int) -> None:
        self.t_ns = int(t0_ns)
        self._listeners: list[Callable[[int], None]] = []

    def __call__(self) -> int:
        return self.t_ns

    def sleep(self, seconds: float) -> None:
        self.advance_to(self.t_ns + int(seconds * NS))

    def advance_to(self, t_ns: int) -> None:
        if t_ns > self.t_ns:
            self.t_ns = int(t_ns)
            for listener in self._listeners:
                listener(self.t_ns)

    def on_advance(self, listener: Callable[[int], None]) -> None:
        self._listeners.append(listener)


@dataclass
class DemoResult:
    """What the demo found (for the tables, the tests and ``--json`` later)."""

    stations: list[dict] = field(default_factory=list)
    emissions: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    batches_sent: int = 0
    duplicates: int = 0
    scene_s: float = 0.0
    wall_s: float = 0.0


def run_demo(
    settings: Settings,
    *,
    seconds: float = 240.0,
    seed: int = 0,
    console: Console | None = None,
    port: int = 0,
    serve: Callable[[str, object], None] | None = None,
    start_ns: int | None = None,
    scene_file: Path | None = None,
    licences_file: Path | None = None,
    foreign_file: Path | None = None,
) -> DemoResult:
    """Run the demo (see the module docstring) and return what it found.

    ``serve``, when given, is called with the centre's URL and its services after the
    scene has run, before the centre stops (``rfwatch demo --serve`` blocks there).
    ``start_ns``: the UTC time (ns) the scene starts at, so its data is stamped there
    (``rfwatch demo`` passes the real clock minus ``seconds``, so the data ends now and
    a Grafana on "last hour" shows it); None keeps the scene's own ``start_time``.
    ``scene_file``: another scene of the simulator's format, with receivers of the demo's
    station ids (``huu-nghi``, ``tan-thanh``, ``chi-ma``, ``field-kit``);
    ``licences_file``/``foreign_file``: CSVs replacing the demo's registry.
    """
    import httpx

    from api.app import create_app, open_central
    from api.serve import BackgroundServer
    from centre.tokens import issue_token, register_station
    from compliance.importers import read_foreign_stations, read_licences
    from compliance.registry import save_foreign_stations, save_licences
    from firmware_bridge.simulator import Scene, SimulatorReceiver, scene_path
    from firmware_bridge.simulator.nmea import NmeaRouteGps
    from stations.agent import OutboxSink, StationAgent
    from stations.config import load_site_config
    from stations.outbox import Outbox
    from stations.sites import site_path
    from stations.sources import GpsPositionSource
    from stations.uplink import Uplink

    console = console or Console()
    wall0 = time.perf_counter()
    home = Path(settings.home)
    demo_dir = home / "demo"
    # The demo's own outboxes and evidence start afresh; the DB and time series are kept
    # (a second run folds into the same cases: nothing is counted twice).
    shutil.rmtree(demo_dir / "stations", ignore_errors=True)
    configs = [load_site_config(site_path(name)) for name in SITE_FILES]
    scene = Scene.from_file(scene_file if scene_file is not None else scene_path(SCENE))
    missing = sorted({c.station.id for c in configs} - {r.id for r in scene.receivers})
    if missing:
        raise InputFormatError(
            f"cảnh thiếu máy thu / the scene has no receiver {', '.join(missing)} (the demo's "
            "stations: huu-nghi, tan-thanh, chi-ma, field-kit)",
            source=str(scene_file), field="receivers")
    licences = read_licences(licences_file or site_path("demo_licences.csv"))
    foreign = read_foreign_stations(foreign_file or site_path("demo_foreign.csv"))
    services = open_central(settings.central_config())
    with services.sessions.begin() as session:
        save_licences(session, licences)
        save_foreign_stations(session, foreign)
        tokens = {}
        for cfg in configs:
            p = cfg.station.position
            register_station(
                session,
                cfg.station.id,
                name=cfg.station.name,
                kind=cfg.station.kind,
                position=None if p is None else GeoPosition(p.lat_deg, p.lon_deg, p.alt_m),
            )
            tokens[cfg.station.id] = issue_token(session, cfg.station.id, label="demo")
    server = BackgroundServer(create_app(services=services), port=port).start()
    if start_ns is not None:  # the same scene, re-dated (emitters are timed from its start)
        scene = Scene(scene.config.model_copy(update={"start_time": datetime.fromtimestamp(
            start_ns // NS, tz=UTC).replace(microsecond=(start_ns % NS) // 1000)}), scene.source)
    clock = VirtualClock(scene.start_ns)
    client = httpx.Client(timeout=30.0)
    agents: list[StationAgent] = []
    uplinks: dict[str, Uplink] = {}
    outboxes: dict[str, Outbox] = {}
    gps: NmeaRouteGps | None = None
    try:
        for k, cfg in enumerate(configs):
            sid = cfg.station.id
            rx = SimulatorReceiver(scene, sid, seed=seed + k, t0_ns=scene.start_ns)
            # The station sleeps between tasks; the scene goes on meanwhile.
            clock.on_advance(rx.idle_until)
            outbox = Outbox(
                demo_dir / "stations" / sid / "outbox.sqlite",
                station_id=sid,
                station_kind=cfg.station.kind,
                max_bytes=cfg.outbox.max_bytes,
            )
            outboxes[sid] = outbox
            uplink = Uplink(outbox, url=server.url, token=tokens[sid], client=client)
            uplinks[sid] = uplink
            position_source = None
            if cfg.station.kind == "field_kit":
                gps = NmeaRouteGps(
                    ROUTE, ROUTE_SPEED_MPS, scene.start_ns, on_move=rx.set_position
                )
                gps.feed(clock())
                position_source = GpsPositionSource(gps.reader)
            agents.append(
                StationAgent(
                    cfg,
                    open_receiver=lambda _c, rx=rx: rx,
                    sink=OutboxSink(outbox, items_per_batch=cfg.outbox.items_per_batch),
                    clock=clock,
                    sleep=clock.sleep,
                    position_source=position_source,
                    outbox=outbox,
                    # The field kit is offline in the field: it syncs afterwards.
                    uplink=None if cfg.station.kind == "field_kit" else uplink,
                    evidence_dir=demo_dir / "stations" / sid / "evidence",
                )
            )
        end_ns = scene.start_ns + int(seconds * NS)
        _run_scene(agents, clock, end_ns, gps, console, seconds, scene.start_ns, outboxes)
        for agent in agents:  # a last position estimate from the whole drive
            agent.locate(final=True)
            agent.sink.flush(clock())
        # Border stations: deliver what is left. Field kit: back at the office, sync.
        for sid, uplink in uplinks.items():
            if not uplink.drain(timeout_s=60):
                raise RfwatchError(f"trạm {sid} chưa gửi hết / {sid} could not deliver its outbox")
        for agent in agents:
            agent.close()
        result = _collect(services, configs, outboxes, uplinks)
        result.scene_s = seconds
        result.wall_s = time.perf_counter() - wall0
        _print(console, result)
        if serve is not None:
            serve(server.url, services)
        return result
    finally:
        if gps is not None:
            gps.close()
        client.close()
        server.stop()
        for outbox in outboxes.values():
            outbox.close()
        services.close()


def _run_scene(agents, clock, end_ns, gps, console, seconds, t0_ns, outboxes) -> None:  # noqa: ANN001
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[scene]}"),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(
            "Thời gian cảnh / scene time", total=seconds, scene="", stats=""
        )
        while clock() < end_ns:
            if gps is not None:
                gps.feed(clock())
            for agent in agents:
                agent.run_once()
            dues = [d for a in agents if (d := a.next_due_ns()) is not None]
            nxt = min(dues) if dues else end_ns
            clock.advance_to(max(nxt, clock() + 1))
            done_s = min(seconds, (clock() - t0_ns) / NS)
            sent = sum(o.stats().sent for o in outboxes.values())
            waiting = sum(o.depth() for o in outboxes.values())
            progress.update(
                task,
                completed=done_s,
                scene=f"{done_s:5.0f}/{seconds:.0f} s",
                stats=f"lô đã gửi / batches sent {sent}, chờ / queued {waiting}",
            )


def _collect(services, configs, outboxes, uplinks) -> DemoResult:  # noqa: ANN001
    from compliance.cases import CaseService, case_summary
    from storage import names

    result = DemoResult()
    for cfg in configs:
        sid = cfg.station.id
        stats = outboxes[sid].stats()
        up = uplinks[sid]
        result.batches_sent += up.total_sent
        result.duplicates += up.total_duplicates
        result.stations.append(
            {
                "id": sid,
                "name": cfg.station.name,
                "kind": cfg.station.kind,
                "batches": stats.sent,
                "pending": stats.pending,
            }
        )
    # Emissions as the centre stored them, one row per (station, class, ~frequency),
    # with their mean 99 % bandwidth and the licence (or foreign station) they match.
    ts = services.timeseries

    def series(field_name: str) -> dict[tuple[str, str, int], float]:
        rows = ts.query(names.EMISSION, field_name, t_start_ns=0, t_end_ns=2**62,
                        group_by=(names.TAG_STATION, names.TAG_CLASS))
        return {
            (r.tags.get(names.TAG_STATION, ""), r.tags.get(names.TAG_CLASS, ""), r.t_ns):
            float(r.value)  # type: ignore[arg-type]
            for r in rows
            if r.value is not None
        }

    bws = series(names.FIELD_BW_HZ)
    groups: dict[tuple[str, str, int], list[tuple[float, float, int]]] = {}
    for (station, cls, t_ns), f in series(names.FIELD_F_HZ).items():
        key = (station, cls, int(round(f / 25e3)))
        groups.setdefault(key, []).append((f, bws.get((station, cls, t_ns), 0.0), t_ns))
    matcher = _licence_matcher(services, configs)
    for (station, cls, _), seen in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[1][0])):
        f_hz = sum(f for f, _, _ in seen) / len(seen)
        bw_hz = sum(b for _, b, _ in seen) / len(seen)
        result.emissions.append(
            {"station": station, "class": cls, "f_hz": f_hz, "bw_99_hz": bw_hz,
             "count": len(seen), "licence_id": matcher(station, f_hz, bw_hz, seen[-1][2])}
        )
    service = CaseService(services.sessions)
    service.refresh_locations()  # every station's level and the field kit's fit together
    for case in service.list_cases():
        summary = case_summary(case)
        summary["evidence"] = [e.kind for e in case.evidence]
        summary["location_note"] = case.location_note
        summary["drive_fit"] = _location_note(case)
        result.cases.append(summary)
    return result


def _licence_matcher(services, configs):  # noqa: ANN001, ANN202
    """``match(station, f_hz, bw_hz, t_ns) -> licence or foreign id | None`` (the
    centre's own classification, for the table: the time series keep only the class)."""
    from compliance.classify import classify
    from compliance.reference import load_reference_data
    from compliance.registry import load_registry
    from dsp.types import Emission

    with services.sessions() as session:
        registry = load_registry(session)
    reference = load_reference_data()
    sites = {
        c.station.id: GeoPosition(c.station.position.lat_deg, c.station.position.lon_deg)
        for c in configs
        if c.station.position is not None
    }

    def match(station: str, f_hz: float, bw_hz: float, t_ns: int) -> str | None:
        e = Emission(f_hz=f_hz, bw_99_hz=bw_hz, bw_xdb_hz=bw_hz, power_db=0.0,
                     peak_power_db=0.0, snr_db=0.0, noise_floor_db=0.0, power_unit="dBFS",
                     f_resolution_hz=0.0, t_first_ns=t_ns, t_last_ns=t_ns,
                     station_id=station)
        return classify(e, registry, reference, site=sites.get(station)).licence_id

    return match


def _location_note(case) -> str:  # noqa: ANN001
    notes = [e.note for e in case.evidence if e.kind == "field_measurement"]
    return notes[-1] if notes else ""  # the latest estimate (most points)


def _count_kinds(kinds: list[str]) -> str:
    counts: dict[str, int] = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    return ", ".join(f"{k} x{n}" for k, n in counts.items()) or "-"


def _print(console: Console, r: DemoResult) -> None:
    from compliance.vocabulary import CASE_KIND_VI, CLASS_VI, FINDING_KIND_VI, STATUS_VI, vi

    t = Table(title="Trạm / Stations")
    for col in ("Mã / Id", "Tên / Name", "Loại / Kind", "Lô đã gửi / Batches", "Chờ / Queued"):
        t.add_column(col)
    for s in r.stations:
        t.add_row(s["id"], s["name"], s["kind"], str(s["batches"]), str(s["pending"]))
    console.print(t)
    t = Table(title="Phát xạ / Emissions")
    for col in ("Trạm / Station", "Tần số / Frequency (MHz)", "BW 99 % (kHz)",
                "Phân loại / Class", "Giấy phép / Licence", "Lần / Seen"):
        t.add_column(col)
    for e in r.emissions:
        t.add_row(e["station"], f"{e['f_hz'] / 1e6:.4f}", f"{e['bw_99_hz'] / 1e3:.1f}",
                  vi(CLASS_VI, e["class"]), e["licence_id"] or "-",
                  str(e["count"]))
    console.print(t)
    t = Table(title="Vụ việc / Cases")
    for col in ("Mã / Id", "Loại vụ việc / Kind", "Trạng thái / Status", "Phân loại / Class",
                "MHz", "Phát hiện / Findings", "Trạm / Stations", "Chứng cứ / Evidence"):
        t.add_column(col)
    for c in r.cases:
        t.add_row(c["id"], vi(CASE_KIND_VI, c.get("kind")), vi(STATUS_VI, c["status"]),
                  vi(CLASS_VI, c["class"]), f"{c['f_hz'] / 1e6:.4f}",
                  ", ".join(vi(FINDING_KIND_VI, k) for k in c["finding_kinds"]),
                  ", ".join(c["stations"]), _count_kinds(c["evidence"]))
    console.print(t)
    for c in r.cases:
        if c.get("location") or c.get("drive_fit"):
            from rfwatch.commands.compliance import _location_text

            console.print(f"[bold]{c['id']}[/]: "
                          f"{_location_text(c.get('location'), c.get('location_note'))}",
                          highlight=False)
    console.print(
        f"Xong / done: {r.scene_s:.0f} s thời gian cảnh / of scene time in {r.wall_s:.1f} s; "
        f"{r.batches_sent} lô / batches delivered once each ({r.duplicates} trùng / duplicates "
        "dropped)."
    )


def serve_until_interrupted(url: str, services, console: Console,  # noqa: ANN001
                            wait: Callable[[], None] | None = None) -> str:
    """Create (or reset) the demo inspector, print the URL and credentials, and keep
    serving until Ctrl-C (or until ``wait`` returns); return the password."""
    import secrets

    from api.users import UserService

    users = UserService(services.sessions)
    password = secrets.token_urlsafe(9)
    if users.get(DEMO_INSPECTOR) is None:
        users.add(DEMO_INSPECTOR, "inspector", password, actor="demo")
    else:
        users.set_password(DEMO_INSPECTOR, password, actor="demo")
    console.print(f"Giao diện / web desk: {url}/ui/login", highlight=False)
    console.print(f"Kiểm soát viên / demo inspector: {DEMO_INSPECTOR}  "
                  f"mật khẩu / password: {password}", highlight=False)
    console.print("Ctrl-C để dừng / Ctrl-C to stop", highlight=False)
    try:
        if wait is not None:
            wait()
        else:
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        console.print("Đã dừng / stopped")
    return password
