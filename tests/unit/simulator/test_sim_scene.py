"""Scene files: validation errors that name the field and line; shipped scenes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import InputFormatError
from firmware_bridge.simulator import Scene, scene_path
from firmware_bridge.simulator.scene import IntermittentSchedule, parse_scene

GOOD = """\
start_time: 2026-01-05T01:00:00Z
receivers:
  - id: rx
    position: {lat: 21.85, lon: 106.76}
emitters:
  - id: e1
    position: {lat: 21.9, lon: 106.7}
    f_hz: 100.0e6
    modulation: {kind: nbfm, deviation_hz: 2500}
    erp_w: 5
"""


def test_good_scene_parses_with_defaults():
    cfg = parse_scene(GOOD)
    assert cfg.receivers[0].noise_figure_db == 6.0
    assert cfg.emitters[0].erp_dbm_value == pytest.approx(10 * math.log10(5000))
    assert cfg.start_ns == 1_767_574_800_000_000_000


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ("deviation_hz: 2500", "deviation_hz: -5", "emitters[0].modulation.deviation_hz", 9),
        ("kind: nbfm", "kind: qam", "emitters[0].modulation", 9),
        ("    erp_w: 5\n", "", "emitters[0]", 6),
        ("lat: 21.85", "lat: 95", "receivers[0].position.lat", 4),
        ("f_hz: 100.0e6", "f_hz: fast", "emitters[0].f_hz", 8),
        ("start_time: 2026-01-05T01:00:00Z", "start_time: 2026-01-05T01:00:00",
         "start_time", 1),
        ("    erp_w: 5\n", "    erp_w: 5\n    colour: red\n", "emitters[0].colour", 11),
    ],
)
def test_errors_name_the_field_and_line(old, new, field, line):
    text = GOOD.replace(old, new)
    assert text != GOOD
    with pytest.raises(InputFormatError) as info:
        parse_scene(text, source="s.yaml")
    err = info.value
    assert err.field == field
    assert err.line == line
    assert err.source == "s.yaml"
    assert "s.yaml" in str(err) and field in str(err)


def test_duplicate_ids_and_bad_schedules_are_refused():
    dup = GOOD + GOOD[GOOD.index("  - id: e1"):]
    with pytest.raises(InputFormatError, match="duplicate emitters id 'e1'"):
        parse_scene(dup)
    bad = GOOD + "    schedule: {kind: intermittent, period_s: 5, on_s: 9}\n"
    with pytest.raises(InputFormatError, match="on_s must not exceed period_s") as info:
        parse_scene(bad)
    assert info.value.field == "emitters[0].schedule"
    win = GOOD + "    schedule: {kind: windows, windows: [[5, 2]]}\n"
    with pytest.raises(InputFormatError, match="stop_s must exceed start_s"):
        parse_scene(win)


def test_yaml_syntax_error_gives_a_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace("f_hz: 100.0e6", "f_hz: [100.0e6"), encoding="utf-8")
    with pytest.raises(InputFormatError) as info:
        Scene.from_file(path)
    assert info.value.line is not None
    assert str(path) in str(info.value)
    with pytest.raises(InputFormatError, match="cannot read"):
        Scene.from_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize("name", ["basic", "lang_son_demo"])
def test_shipped_scenes_load(name):
    scene = Scene.from_file(scene_path(name))
    assert scene.emitters and scene.receivers
    assert Scene.from_file(name).name == scene.name  # shipped name resolves


def test_demo_scene_has_the_ids_others_rely_on():
    scene = Scene.from_file(scene_path("lang_son_demo"))
    assert {r.id for r in scene.receivers} == {"huu-nghi", "tan-thanh", "chi-ma", "field-kit"}
    ids = {e.id: e for e in scene.emitters}
    assert set(ids) == {
        "ls-fm-97-0", "vov1-mau-son-101-0", "vov2-mau-son-93-5", "ls-dvbt2-ch30",
        "cn-fm-96-3", "ttkd-dong-dang-60-5", "ttkd-tan-my-64-0", "unlicensed-163-45",
    }
    assert 54e6 <= ids["ttkd-dong-dang-60-5"].f_hz <= 68e6
    assert ids["ttkd-tan-my-64-0"].f_hz == 64.3e6  # licensed 64.0 MHz: off frequency
    assert 470e6 <= ids["ls-dvbt2-ch30"].f_hz <= 694e6
    assert ids["unlicensed-163-45"].schedule is not None
    assert ids["cn-fm-96-3"].position.lat > 22.0  # across the border


@settings(max_examples=100, deadline=None)
@given(
    period=st.floats(0.5, 100),
    duty=st.floats(0.05, 1.0),
    offset=st.floats(-50, 50),
    t0=st.floats(0, 500),
    span=st.floats(0.01, 300),
)
def test_intermittent_intervals_agree_with_on_air_pointwise(period, duty, offset, t0, span):
    sched = IntermittentSchedule(kind="intermittent", period_s=period, on_s=period * duty,
                                 offset_s=offset)
    intervals = sched.on_intervals_s(t0, t0 + span)
    total = sum(b - a for a, b in intervals)
    assert 0 <= total <= span + 1e-9
    for a, b in intervals:
        assert t0 <= a < b <= t0 + span
        mid = (a + b) / 2
        phase = (mid - offset) % period
        assert phase <= period * duty + 1e-9
    # Duty cycle over many periods.
    if span > 20 * period:
        assert total / span == pytest.approx(duty, abs=2 * period / span)
