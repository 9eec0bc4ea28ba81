"""Site configuration: valid files load, bad ones name the field at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import InputFormatError
from stations.config import load_site_config, parse_frequency_hz, parse_site_config

SITES = Path(__file__).resolve().parents[3] / "stations" / "sites"

GOOD = """
station: {id: ls-hn, name: "Hữu Nghị", kind: fixed, position: {lat_deg: 21.97, lon_deg: 106.70}}
receivers:
  - {id: rx0, spec: "rtlsdr:00000001", gain_db: 30}
  - {id: rx1, spec: "rtltcp:192.168.1.5:1234"}
tasks:
  - {type: sweep, name: fm, f_start_hz: 87.5 MHz, f_stop_hz: 108M, rbw_hz: 10k, every_s: 10}
  - type: channel_watch
    name: watch
    receiver: rx1
    every_s: 30
    channels: [{name: ch1, f_hz: 62.5e6, bw_hz: 12.5e3}]
  - {type: occupancy, name: occ, f_start_hz: 54e6, f_stop_hz: 68e6, channel_bw_hz: 25e3,
     interval_s: 300, every_s: 15}
  - {type: evidence, seconds: 1}
"""


def test_good_config_loads_with_units() -> None:
    cfg = parse_site_config(GOOD)
    assert cfg.station.name == "Hữu Nghị"
    sweep = cfg.tasks[0]
    assert (sweep.f_start_hz, sweep.f_stop_hz, sweep.rbw_hz) == (87.5e6, 108e6, 10e3)
    assert cfg.receiver_for(None).id == "rx0"
    assert cfg.receiver_for("rx1").spec == "rtltcp:192.168.1.5:1234"
    assert cfg.tasks[1].channels[0].f_hz == 62.5e6


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("f_stop_hz: 108M", "f_stop_hz: 80M", "tasks.0", "f_stop_hz must be above"),
        ("f_stop_hz: 108M", "f_stop_hz: lots", "tasks.0.f_stop_hz", "not a frequency"),
        ('"rtlsdr:00000001"', '"usb:1"', "receivers.0.spec", "unknown kind 'usb'"),
        ('"rtltcp:192.168.1.5:1234"', '"rtltcp:host:99999"', "receivers.1.spec", "out of range"),
        ("receiver: rx1", "receiver: rx9", "(root)", "rx9"),
        ("every_s: 10}", "every_s: -1}", "tasks.0.every_s", "greater than 0"),
        ("kind: fixed", "kind: tower", "station.kind", "fixed"),
        ("{type: evidence", "{type: teleport", "tasks.3", "teleport"),
        ("gain_db: 30}", "gain_db: 30, colour: red}", "receivers.0.colour", "Extra"),
    ],
)
def test_bad_field_is_named(old: str, new: str, field: str, words: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    with pytest.raises(InputFormatError, match=words) as info:
        parse_site_config(text, source="site.yaml")
    assert info.value.field == field
    assert info.value.source == "site.yaml"


def test_fixed_station_needs_position() -> None:
    text = GOOD.replace(", position: {lat_deg: 21.97, lon_deg: 106.70}", "")
    with pytest.raises(InputFormatError, match="needs station.position"):
        parse_site_config(text)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("station: {id: x\nreceivers: [\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="not valid YAML") as info:
        load_site_config(path)
    assert info.value.line is not None and info.value.source == str(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="cannot read"):
        load_site_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("path", sorted(SITES.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_site_files_are_valid(path: Path) -> None:
    cfg = load_site_config(path)
    assert cfg.tasks


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_frequency_parser_never_crashes(text: str) -> None:
    try:
        value = parse_frequency_hz(text)
    except ValueError:
        return
    assert isinstance(value, float) and value >= 0


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=1e-3, max_value=1e4), st.sampled_from(["k", "M", "G", "kHz", "MHz"]))
def test_frequency_units(value: float, unit: str) -> None:
    scale = {"k": 1e3, "kHz": 1e3, "M": 1e6, "MHz": 1e6, "G": 1e9}[unit]
    assert parse_frequency_hz(f"{value!r} {unit}") == pytest.approx(value * scale)
