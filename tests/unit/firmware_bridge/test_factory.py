"""open_receiver: receiver spec strings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import ConfigError, RfwatchError
from firmware_bridge.factory import open_receiver, parse_spec
from firmware_bridge.file_receiver import FileReceiver
from firmware_bridge.rtlsdr import RtlSdrReceiver
from firmware_bridge.rtltcp import RtlTcpReceiver


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("rtlsdr:", ("rtlsdr", 0, None)),
        ("rtlsdr:#2", ("rtlsdr", 2, None)),
        ("rtlsdr:00000001", ("rtlsdr", "00000001", None)),
        ("RTLSDR:#0", ("rtlsdr", 0, None)),
        ("rtltcp:127.0.0.1:1234", ("rtltcp", ("127.0.0.1", 1234), None)),
        ("rtltcp:sdr.local", ("rtltcp", ("sdr.local", 1234), None)),
        ("rtltcp:[::1]:5555", ("rtltcp", ("::1", 5555), None)),
        ("file:/data/x.sigmf-meta", ("file", "/data/x.sigmf-meta", None)),
        ("file:C:/odd:name.cu8", ("file", "C:/odd:name.cu8", None)),
        ("simulator:scene.yaml", ("simulator", "scene.yaml", None)),
        ("simulator:scene.yaml#huu_nghi", ("simulator", "scene.yaml", "huu_nghi")),
    ],
)
def test_parse_spec(spec, expected):
    assert tuple(parse_spec(spec)) == expected


@pytest.mark.parametrize(
    "spec",
    ["", "rtlsdr", "usb:0", "rtlsdr:#x", "rtlsdr:#-1", "rtltcp:", "rtltcp:host:http",
     "rtltcp:host:70000", "rtltcp:[::1", "file:", "simulator:", "simulator:#rx"],
)
def test_bad_specs_are_config_errors(spec):
    with pytest.raises(ConfigError, match="bad receiver spec"):
        open_receiver(spec)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_parse_spec_never_raises_anything_else(spec):
    try:
        parsed = parse_spec(spec)
    except ConfigError:
        return
    assert parsed.kind in ("rtlsdr", "rtltcp", "file", "simulator")


def test_builds_the_right_receivers_without_opening_them(real_data):
    assert isinstance(open_receiver("rtlsdr:#0", sample_rate_hz=2.4e6), RtlSdrReceiver)
    tcp = open_receiver("rtltcp:127.0.0.1:1", f_center_hz=98.5e6)
    assert isinstance(tcp, RtlTcpReceiver) and not tcp.is_open
    assert tcp.f_center_hz == 98.5e6
    path = real_data / "rtl_433/skylink_ha-434tl/g002_433.92M_250k.cu8"
    rx = open_receiver(f"file:{path}", tune_hz=433.9e6)
    assert isinstance(rx, FileReceiver)
    assert rx.f_center_hz == 433.9e6
    assert rx.receiver_id == f"file:{path}"


def test_file_spec_of_a_raw_file_needs_its_rate(real_data):
    with pytest.raises(RfwatchError, match="--rate"):
        open_receiver(f"file:{real_data / 'urh/enocean.complex'}")
    rx = open_receiver(f"file:{real_data / 'urh/enocean.complex'}", rate_hz=1e6,
                       f_center_hz=868.3e6)
    assert rx.sample_rate_hz == 1e6


def test_simulator_spec_with_a_missing_scene_is_a_clear_error(tmp_path):
    with pytest.raises(RfwatchError):
        open_receiver(f"simulator:{tmp_path / 'none.yaml'}#rx1")
