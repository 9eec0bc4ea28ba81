"""The Grafana dashboards against real data: a short demo run writes to a real influxd
and PostgreSQL, stamped at the real clock, and every panel's query (and every
template variable's) returns rows for Grafana's default range, "now-1h" to "now".

Grafana cannot run here, so its macros are expanded as its documentation defines
them (InfluxQL: ``$timeFilter`` -> ``time >= <ms>ms and time <= <ms>ms``,
``$__interval`` -> a duration; PostgreSQL: ``$__unixEpochNanoFilter(col)`` ->
``col >= <ns> AND col <= <ns>``, ``$__interval_ms`` -> milliseconds; template
variables -> their value, ``All`` -> the ``allValue``). The same run also feeds a
periodic report read from InfluxDB, so the report is proven on that backend too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from dashboards.definitions import all_dashboards, panels

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))
pytestmark = [pytest.mark.slow, pytest.mark.postgres]
SECONDS = 60


@pytest.fixture(scope="module")
def run(influx_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    admin_url = os.environ.get("RFWATCH_TEST_PG_ADMIN_URL")
    if not admin_url:
        pytest.fail("RFWATCH_TEST_PG_ADMIN_URL is not set: run scripts/test.sh, or "
                    "`scripts/services.sh start && eval \"$(scripts/services.sh env)\"`",
                    pytrace=False)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    pg_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    home = tmp_path_factory.mktemp("dash-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFWATCH_")}
    env.update(RFWATCH_TIMESERIES_BACKEND="influx", RFWATCH_INFLUX__URL=influx_url,
               RFWATCH_INFLUX__DATABASE=name, RFWATCH_DB_URL=pg_url)
    t_before_ns = time.time_ns()
    proc = subprocess.run([RFWATCH, "--home", str(home), "demo", "--seconds", str(SECONDS)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # An inspector dismisses one case, so "cases closed" has something to count.
    listed = subprocess.run([RFWATCH, "--home", str(home), "cases", "list", "--json"],
                            env=env, capture_output=True, text=True, timeout=60)
    import json

    cases = json.loads(listed.stdout)
    dismissed = subprocess.run(
        [RFWATCH, "--home", str(home), "cases", "transition", cases[0]["id"], "dismissed",
         "--reason", "kiểm tra thử / test", "--dismiss-reason", "false_alarm"],
        env=env, capture_output=True, text=True, timeout=60)
    assert dismissed.returncode == 0, dismissed.stdout + dismissed.stderr
    yield {"influx_url": influx_url, "db": name, "pg_url": pg_url, "env": env, "home": home,
           "cases": cases, "t_before_ns": t_before_ns}
    httpx.post(f"{influx_url}/query", params={"q": f'DROP DATABASE "{name}"'})
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :n"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _cli(run: dict, *args: str):  # noqa: ANN202 - click's Result
    """The rfwatch command in this process (the report commands; the demo above runs as
    its own process, as the README says)."""
    from typer.testing import CliRunner

    from rfwatch.cli import app

    env = {k: v for k, v in run["env"].items() if k.startswith("RFWATCH_")}
    return CliRunner().invoke(app, list(args), env=env)


def _influxql(query: str, variables: dict[str, str], now_ms: int) -> str:
    q = query.replace("$timeFilter", f"time >= {now_ms - 3_600_000}ms and time <= {now_ms}ms")
    q = q.replace("$__interval", "10s")
    for var, value in variables.items():
        q = q.replace(f"${var}", value)
    assert not re.search(r"\$(?!tag_)\w", q), f"unexpanded macro in {q}"
    return q


def _influx_rows(run: dict, q: str) -> int:
    resp = httpx.get(f"{run['influx_url']}/query", params={"db": run["db"], "q": q,
                                                           "epoch": "ms"})
    resp.raise_for_status()
    result = resp.json()["results"][0]
    assert "error" not in result, f"{q}: {result.get('error')}"
    return sum(len(s.get("values", [])) for s in result.get("series", []))


def _sql(query: str, now_ns: int) -> str:
    q = re.sub(r"\$__unixEpochNanoFilter\((\w+)\)",
               lambda m: f"{m.group(1)} >= {now_ns - 3_600_000_000_000} AND "
                         f"{m.group(1)} <= {now_ns}", query)
    q = q.replace("$__interval_ms", "60000")
    assert not re.search(r"\$\w", q), f"unexpanded macro in {q}"
    return q


# Values a user would pick at the top of each dashboard (station dashboard: one station).
VARIABLES = {
    "rfwatch-overview": {"station": ".*"},
    "rfwatch-occupancy": {"station": ".*"},
    "rfwatch-emissions": {"station": ".*"},
    "rfwatch-station": {"station": "field-kit", "band": "vhf"},
}


def test_every_panel_query_returns_rows_for_the_last_hour(run: dict) -> None:
    now_ms = time.time_ns() // 1_000_000
    engine = sa.create_engine(run["pg_url"])
    empty = []
    counted = 0
    try:
        for dash in all_dashboards().values():
            variables = VARIABLES[dash["uid"]]
            for panel in panels(dash):
                rows = 0
                for target in panel["targets"]:
                    if target["datasource"]["uid"] == "${datasource}":
                        rows += _influx_rows(run, _influxql(target["query"], variables, now_ms))
                    else:
                        with engine.connect() as conn:
                            rows += len(conn.execute(sa.text(_sql(
                                target["rawSql"], now_ms * 1_000_000))).all())
                    counted += 1
                if rows == 0:
                    empty.append(f"{dash['uid']}: {panel['title']}")
    finally:
        engine.dispose()
    assert counted >= 15
    assert not empty, f"panels with no rows: {empty}"


def test_template_variable_queries_list_the_demo_stations_and_bands(run: dict) -> None:
    now_ms = time.time_ns() // 1_000_000
    for dash in all_dashboards().values():
        for var in dash["templating"]["list"]:
            if var["type"] != "query":
                continue
            q = _influxql(var["query"], {"station": "huu-nghi"}, now_ms)
            resp = httpx.get(f"{run['influx_url']}/query", params={"db": run["db"], "q": q})
            values = {v[1] for s in resp.json()["results"][0].get("series", [])
                      for v in s["values"]}
            if var["name"] == "station":
                assert {"huu-nghi", "tan-thanh", "chi-ma", "field-kit"} <= values
            else:
                assert {"vhf", "fm"} <= values, (var["name"], values)


def test_demo_stamps_its_data_at_the_real_clock(run: dict) -> None:
    # The whole scene ends about when the demo started, so "last hour" holds it all.
    q = 'SELECT count("outbox_depth") FROM "station_health"'
    resp = httpx.get(f"{run['influx_url']}/query", params={"db": run["db"], "q": q,
                                                           "epoch": "ns"})
    first = httpx.get(f"{run['influx_url']}/query", params={
        "db": run["db"], "q": 'SELECT first("outbox_depth") FROM "station_health"',
        "epoch": "ns"}).json()["results"][0]["series"][0]["values"][0][0]
    total = resp.json()["results"][0]["series"][0]["values"][0][1]
    assert total > 0
    assert run["t_before_ns"] - (SECONDS + 5) * 10**9 <= first <= run["t_before_ns"]
    assert all(c["first_seen"] > "2026-03-03" for c in run["cases"])  # not the scene's date


def test_period_report_reads_influx_and_postgres(run: dict, tmp_path: Path) -> None:
    import openpyxl

    out = tmp_path / "period.xlsx"
    day = time.strftime("%Y-%m-%d", time.gmtime(run["t_before_ns"] / 1e9))
    result = _cli(run, "--home", str(run["home"]), "report", "period", "--from", day, "--to",
                  day, "--out", str(out), "--lang", "en")
    assert result.exit_code == 0, (result.output, result.exception)
    wb = openpyxl.load_workbook(out)
    stations = [r for r in wb["stations"].iter_rows(values_only=True)
                if r[0] in ("huu-nghi", "tan-thanh", "chi-ma", "field-kit")]
    assert len(stations) == 4
    classes = {r[0]: r[1] for r in wb["classes"].iter_rows(values_only=True)
               if isinstance(r[1], int)}
    assert classes.get("unknown", 0) > 0 and classes.get("licensed", 0) > 0
    case_ids = {r[0] for r in wb["cases"].iter_rows(values_only=True)}
    assert {c["id"] for c in run["cases"]} <= case_ids


def test_inspection_record_of_the_demo_emitter_uses_its_iq_evidence(run: dict,
                                                                    tmp_path: Path) -> None:
    from compliance.cases import CaseService
    from reports.data import case_detail, evidence_spectra
    from storage.db import make_engine, make_session_factory

    case = next(c for c in run["cases"] if abs(c["f_hz"] - 163.45e6) < 5e3)
    engine = make_engine(run["pg_url"])
    try:
        detail = case_detail(CaseService(make_session_factory(engine)).get(case["id"]))
    finally:
        engine.dispose()
    spectra = evidence_spectra(detail)
    assert spectra, "the border stations recorded IQ of the new emitter"
    for s in spectra:  # the strongest bin of each recording is the scene's 163.45 MHz
        assert abs(s.f_hz[int(s.power[0].argmax())] - 163.45e6) < 3e3
        assert s.f_hz[1] - s.f_hz[0] < 500  # finer than the stored sweeps
    out = tmp_path / "bien-ban.pdf"
    result = _cli(run, "--home", str(run["home"]), "report", "inspection", "--case",
                  case["id"], "--out", str(out))
    assert result.exit_code == 0, (result.output, result.exception)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "BIÊN BẢN KIỂM TRA TẦN SỐ VÔ TUYẾN ĐIỆN" in text and case["id"] in text
    assert "phát xạ không có giấy phép" in " ".join(text.split())
    images = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    # spectrum per recording, waterfall per station, one map
    assert len(images) >= len(spectra) + 2
