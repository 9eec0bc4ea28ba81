"""The command line with inputs that must not mislead (issue 10 §4): one line, exit 2,
the row or field named; a missing home is an error, not an empty database; ``check``
reads the imported registry; rtl_power's local time through ``--tz``."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compliance.records import LICENCE_COLUMNS

HEADER = ",".join(LICENCE_COLUMNS)
NHK = ("JP-NHK-881,NHK,NHK-FM Osaka,fm_broadcast,88100000,180KF8EHF,10000,34.68,135.52,,"
       "2000-01-01,,valid")
SURVEY = Path("rtl_power-fm-multipath") / "nhkfm3.csv"


def rfwatch(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The CLI as users run it: its own process, errors through ``main``."""
    env = {k: v for k, v in os.environ.items() if k != "RFWATCH_DB_URL"}
    env.update({"COLUMNS": "300", **env_extra})
    return subprocess.run([sys.executable, "-c", "from rfwatch.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def in_process(args: list[str], home: Path) -> dict | list:
    from rfwatch.cli import app

    result = CliRunner().invoke(app, args, env={"RFWATCH_HOME": str(home)},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def error_in_process(args: list[str], env: dict[str, str]) -> str:
    """The message of the RfwatchError the CLI raises (``main`` prints it as one line
    with exit status 2, as the subprocess tests here show)."""
    from dsp.errors import RfwatchError
    from rfwatch.cli import app

    result = CliRunner().invoke(app, args, env=env)
    assert isinstance(result.exception, RfwatchError), (result.exception, result.output)
    message = str(result.exception)
    assert "\n" not in message
    return message


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    return lines[0]


# -- a home that does not exist -------------------------------------------------------


def test_a_missing_home_is_one_line_exit_2_and_not_created(tmp_path):
    home = tmp_path / "typo"
    line = one_line_error(rfwatch(["--home", str(home), "cases", "list"], {}))
    assert str(home) in line and "no such home folder" in line
    assert not home.exists()


@pytest.mark.parametrize("args", [["cases", "show", "C-1"], ["licences", "list"],
                                  ["foreign", "list"], ["licences", "export", "out.csv"]])
def test_read_commands_with_a_missing_home_stop_without_creating_it(tmp_path, args):
    home = tmp_path / "typo"
    message = error_in_process(["--home", str(home), *args], {})
    assert str(home) in message and "no such home folder" in message
    assert not home.exists()


def test_rfwatch_home_from_the_environment_is_checked_too(tmp_path, real_data):
    home = tmp_path / "nope"
    message = error_in_process(["check", str(real_data / SURVEY)], {"RFWATCH_HOME": str(home)})
    assert "no such home folder" in message
    assert not home.exists()


def test_unknown_status_lists_the_statuses(tmp_path):
    line = error_in_process(["cases", "list", "--status", "open"],
                            {"RFWATCH_HOME": str(tmp_path)})
    assert "'open'" in line
    for status in ("new", "triaged", "field_verification", "enforcement", "closed",
                   "dismissed"):
        assert status in line


# -- check reads the imported registry ---------------------------------------------------


def test_check_uses_the_imported_registry_without_licences(tmp_path, real_data):
    survey = str(real_data / SURVEY)
    doc = in_process(["check", survey, "--json"], tmp_path)  # empty registry
    [e] = [e for e in doc["emissions"] if abs(e["f_hz"] - 88.1e6) < 10e3]
    assert e["class"] == "unknown"
    registry = tmp_path / "nhk.csv"
    registry.write_text(HEADER + "\n" + NHK + "\n", encoding="utf-8")
    from rfwatch.cli import app

    imported = CliRunner().invoke(app, ["licences", "import", str(registry)],
                                  env={"RFWATCH_HOME": str(tmp_path)}, catch_exceptions=False)
    assert imported.exit_code == 0, imported.output
    doc = in_process(["check", survey, "--json", "--site-lat", "34.70", "--site-lon",
                      "135.50"], tmp_path)
    [e] = [e for e in doc["emissions"] if abs(e["f_hz"] - 88.1e6) < 10e3]
    assert (e["class"], e["licence_id"]) == ("licensed", "JP-NHK-881")
    assert doc["findings"] == []


# -- rtl_power local time -------------------------------------------------------------------


def test_tz_sets_the_zone_of_rtl_power_local_times(tmp_path, real_data):
    survey = str(real_data / SURVEY)
    registry = tmp_path / "nhk.csv"
    registry.write_text(HEADER + "\n" + NHK + "\n", encoding="utf-8")

    def first_seen(*extra: str) -> dt.datetime:
        doc = in_process(["check", survey, "--licences", str(registry), "--json", *extra],
                         tmp_path)
        [e] = [e for e in doc["emissions"] if abs(e["f_hz"] - 88.1e6) < 10e3]
        return dt.datetime.fromisoformat(e["t_first"].replace("Z", "+00:00"))

    # The file's first row says 2018-11-18 12:31:45, local time of the receiver.
    utc = first_seen("--tz", "UTC")
    assert utc == dt.datetime(2018, 11, 18, 12, 31, 45, tzinfo=dt.UTC)
    assert utc - first_seen() == dt.timedelta(hours=7)  # default Asia/Ho_Chi_Minh
    assert utc - first_seen("--tz", "Asia/Tokyo") == dt.timedelta(hours=9)  # Osaka
    message = error_in_process(["check", survey, "--licences", str(registry), "--tz",
                                "Mars/Base"], {"RFWATCH_HOME": str(tmp_path)})
    assert "--tz" in message and "Mars/Base" in message


def test_timezone_setting_sets_the_default(tmp_path, real_data):
    registry = tmp_path / "nhk.csv"
    registry.write_text(HEADER + "\n" + NHK + "\n", encoding="utf-8")
    out = rfwatch(["check", str(real_data / SURVEY), "--licences", str(registry), "--json"],
                  {"RFWATCH_HOME": str(tmp_path), "RFWATCH_TIMEZONE": "Asia/Tokyo"})
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert min(e["t_first"] for e in doc["emissions"]).startswith("2018-11-18T03:31:45")
    bad = error_in_process(["cases", "list"], {"RFWATCH_HOME": str(tmp_path),
                                               "RFWATCH_TIMEZONE": "Mars/Base"})
    assert "RFWATCH_TIMEZONE" in bad


# -- licence files through the command line ---------------------------------------------------


def _import(tmp_path: Path, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return rfwatch(["licences", "import", str(path), *extra], {"RFWATCH_HOME": str(tmp_path)})


def _import_error(tmp_path: Path, path: Path, *extra: str) -> str:
    return error_in_process(["licences", "import", str(path), *extra],
                            {"RFWATCH_HOME": str(tmp_path)})


def test_a_frequency_in_mhz_is_one_line_exit_2(tmp_path):
    path = tmp_path / "mhz.csv"
    path.write_text(HEADER + "\n" + NHK.replace("88100000", "88.100") + "\n", encoding="utf-8")
    line = one_line_error(_import(tmp_path, path))
    assert "line 2 field 'f_hz'" in line and "MHz" in line


@pytest.mark.parametrize("row,needles", [
    (NHK.replace("88100000", "88.100"), ["line 2 field 'f_hz'", "MHz", "88100000"]),
    (NHK.replace("34.68,135.52", "134.68,135.52"), ["line 2 field 'lat'"]),
    (NHK.replace("34.68,135.52", "34.68,235.52"), ["line 2 field 'lon'"]),
    (NHK.replace("2000-01-01,,", "2000-01-01,1999-12-31,"),
     ["line 2 field 'valid_to'", "valid_from"]),
])
def test_bad_licence_rows_are_one_line_naming_the_row_and_field(tmp_path, row, needles):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n" + row + "\n", encoding="utf-8")
    line = _import_error(tmp_path, path)
    for needle in needles:
        assert needle in line, needle


def test_latin1_imports_and_a_wrong_encoding_is_one_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + NHK.replace("NHK,NHK-FM", "Société,NHK-FM") + "\n")
                     .encode("latin-1"))
    from rfwatch.cli import app

    ok = CliRunner().invoke(app, ["licences", "import", str(path)],
                            env={"RFWATCH_HOME": str(tmp_path)}, catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    assert in_process(["licences", "list", "--json"], tmp_path)[0]["licensee"] == "Société"
    line = _import_error(tmp_path, path, "--encoding", "utf-8")
    assert "--encoding" in line and "utf-8" in line


def test_export_neutralises_formula_injection(tmp_path):
    path = tmp_path / "formula.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LICENCE_COLUMNS)
        fields = NHK.split(",")
        fields[1] = '=HYPERLINK("http://evil","x")'
        fields[2] = "@SUM(1)"
        writer.writerow(fields)
    from rfwatch.cli import app

    for args in (["licences", "import", str(path)],
                 ["licences", "export", str(tmp_path / "export.csv")]):
        done = CliRunner().invoke(app, args, env={"RFWATCH_HOME": str(tmp_path)},
                                  catch_exceptions=False)
        assert done.exit_code == 0, done.output
    out = tmp_path / "export.csv"
    with out.open(encoding="utf-8", newline="") as handle:
        cells = list(csv.reader(handle))[1]
    assert cells[1] == "'=HYPERLINK(\"http://evil\",\"x\")" and cells[2] == "'@SUM(1)"
    # The export imports back to the same names.
    assert in_process(["licences", "list", "--json"], tmp_path)[0]["licensee"] == fields[1]


def test_check_refuses_options_it_cannot_read(tmp_path, real_data):
    registry = tmp_path / "nhk.csv"
    registry.write_text(HEADER + "\n" + NHK + "\n", encoding="utf-8")
    env = {"RFWATCH_HOME": str(tmp_path)}
    base = ["check", str(real_data / SURVEY), "--licences", str(registry)]
    assert "--emitter-distance" in error_in_process([*base, "--emitter-distance", "433.92M"],
                                                    env)
    assert "--emitter-distance" in error_in_process([*base, "--emitter-distance", "x=-3"],
                                                    env)
    assert "--dbm-offset-db" in error_in_process([*base, "--antenna-factor-db-m", "20"], env)
    assert "--site-lat" in error_in_process([*base, "--site-lat", "134.7", "--site-lon",
                                             "135.5"], env)
    assert "--site-lon" in error_in_process([*base, "--site-lat", "34.7", "--site-lon",
                                             "235.5"], env)


# -- band licences in the database ----------------------------------------------------------


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_band_licence_rows_survive_the_database(tmp_path, db, request):
    from compliance.importers import read_licences
    from compliance.registry import load_licences, save_licences
    from storage.db import make_engine, make_session_factory
    from storage.migrations import upgrade

    url = (f"sqlite:///{tmp_path / 'r.db'}" if db == "sqlite"
           else request.getfixturevalue("pg_url"))
    upgrade(url)
    path = tmp_path / "blocks.csv"
    path.write_text(HEADER + ",f_low_hz,f_high_hz\n" + NHK + ",,\n"
                    "BL-1,Nhà mạng,Băng tần,land_mobile,,200KGXW,,,,,2020-01-01,,valid,"
                    "944000000,950000000\n", encoding="utf-8")
    records = read_licences(path)
    factory = make_session_factory(make_engine(url))
    with factory.begin() as session:
        save_licences(session, records)
    with factory() as session:
        back = load_licences(session)
    assert back == sorted(records, key=lambda r: r.licence_id)
    assert [r.is_block for r in back] == [True, False]
    # The database refuses a half block.
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), factory.begin() as session:
        session.execute(text("UPDATE licences SET f_high_hz = NULL WHERE licence_id = 'BL-1'"))
