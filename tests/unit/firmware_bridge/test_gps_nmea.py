"""NMEA parsing against the real gpsd logs and their gpsd-decoded answers (.chk)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import ReceiverNotFound
from firmware_bridge.gps import GpsReader, NmeaParser, parse_nmea_lines, read_nmea_file
from firmware_bridge.sigmf_io import sigmf_datetime_to_ns

GPSD_LOGS = [
    "bt451.log", "bu353s4.log", "garmin15x.log", "gp-320fw-2019-04-07-coldboot.log",
    "magellan-ec10.log", "mtk-3301.log", "myguide-3100.log", "ublox-neo-m9n-nmea.log",
]


def _gpsd_positions(chk: Path) -> dict[int, tuple[float, float]]:
    """gpsd's own decoding: TPV time -> (lat, lon) for reports with a position."""
    out = {}
    for line in chk.read_text().splitlines():
        if not line.startswith("{"):
            continue
        report = json.loads(line)
        if report.get("class") == "TPV" and "lat" in report and "time" in report:
            out[sigmf_datetime_to_ns(report["time"])] = (report["lat"], report["lon"])
    return out


@pytest.mark.parametrize("name", GPSD_LOGS)
def test_positions_agree_with_gpsd(real_data, name):
    path = real_data / "gpsd" / name
    fixes, stats = read_nmea_file(str(path))
    expected = _gpsd_positions(Path(str(path) + ".chk"))
    assert expected, "every log's .chk has at least one TPV with a position"
    ours: dict[int, list] = {}
    for fix in fixes:
        if fix.t_ns is not None and fix.position is not None:
            ours.setdefault(fix.t_ns, []).append(fix.position)
    for t_ns, (lat, lon) in expected.items():
        assert t_ns in ours, f"no fix at gpsd's time {t_ns}"
        assert any(abs(p.lat_deg - lat) < 1e-6 and abs(p.lon_deg - lon) < 1e-6
                   for p in ours[t_ns])
    assert stats.comments >= 1  # the '#' header of each gpsd log
    assert stats.sentences > 0


def test_bu353s4_first_fix(real_data):
    fixes, stats = read_nmea_file(str(real_data / "gpsd/bu353s4.log"))
    first = fixes[0]
    assert first.sentence == "GGA"
    assert first.position.lat_deg == pytest.approx(-37.784788333, abs=1e-8)
    assert first.position.lon_deg == pytest.approx(175.314896667, abs=1e-8)
    assert first.position.alt_m == pytest.approx(59.9)
    assert (first.fix_quality, first.n_satellites, first.hdop, first.valid) == (1, 8, 1.1, True)
    assert first.t_ns is None  # no date before the first RMC
    rmc = fixes[1]
    assert rmc.sentence == "RMC" and rmc.t_ns == sigmf_datetime_to_ns("2014-12-31T03:07:19Z")
    assert rmc.n_satellites == 8  # merged from the GGA of the same epoch
    assert stats.bad_checksum == stats.no_checksum == stats.garbage == 0


def test_coldboot_log_counts_broken_sentences(real_data):
    # "Many sentences have missing or broken checksums" (the log's own header).
    fixes, stats = read_nmea_file(str(real_data / "gpsd/gp-320fw-2019-04-07-coldboot.log"))
    assert stats.bad_checksum >= 20
    assert stats.no_checksum + stats.garbage >= 10
    assert any(f.valid for f in fixes)


def test_mtk_polyn_without_checksum_is_counted_not_used(real_data):
    _, stats = read_nmea_file(str(real_data / "gpsd/mtk-3301.log"))
    assert stats.no_checksum == 3  # PROVENANCE.md: 3 lines without '*hh'


def test_magellan_lower_case_checksums(real_data):
    fixes, stats = read_nmea_file(str(real_data / "gpsd/magellan-ec10.log"))
    assert stats.bad_checksum == 0
    assert stats.by_type.get("RMC", 0) > 0
    assert any(f.valid for f in fixes) and any(not f.valid for f in fixes)


def test_position_present_but_invalid(real_data):
    fixes, _ = read_nmea_file(str(real_data / "gpsd/myguide-3100.log"))
    assert any(f.position is not None and not f.valid for f in fixes)


def test_latest_valid_fix_survives_a_later_invalid_one():
    parser = NmeaParser()
    good = parser.feed("$GPRMC,030721.000,A,3747.0876,S,17518.8934,E,0.89,181.39,311214,,,A*71")
    parser.feed("$GPRMC,,V,,,,,,,,,,N*53")
    assert parser.latest_fix is not None and not parser.latest_fix.valid
    assert parser.latest_valid_fix == good


def test_garmin_dgps_quality(real_data):
    fixes, _ = read_nmea_file(str(real_data / "gpsd/garmin15x.log"))
    assert any(f.fix_quality == 2 for f in fixes)


def test_ublox_multi_gnss(real_data):
    fixes, stats = read_nmea_file(str(real_data / "gpsd/ublox-neo-m9n-nmea.log"))
    assert stats.sentences == 1403  # every line valid (PROVENANCE.md)
    assert stats.bad_checksum == 0
    assert all(f.valid for f in fixes)
    assert abs(fixes[-1].position.lat_deg - 38.1) < 0.1  # Novato, CA


def test_pynmea2_example_log(real_data):
    fixes, stats = read_nmea_file(str(real_data / "pynmea2/data.log"))
    assert len(fixes) == 1 and fixes[0].valid
    assert stats.garbage == 1  # "foobar"
    assert stats.sentences == 4


def test_empty_fields_give_no_position():
    fixes, _ = parse_nmea_lines(["$GPRMC,,V,,,,,,,,,,N*53", "$GPGGA,,,,,,0,00,,,M,,M,,*66"])
    assert [f.position for f in fixes] == [None, None]
    assert not any(f.valid for f in fixes)


def test_zda_gives_the_date():
    fixes, _ = parse_nmea_lines([
        "$GPZDA,201530.00,04,07,2002,00,00*60",
        "$GPGGA,201530.00,2150.000,N,10645.000,E,1,07,1.0,260.0,M,,M,,*75",
    ])
    assert fixes[0].t_ns == sigmf_datetime_to_ns("2002-07-04T20:15:30Z")


_junk = st.one_of(
    st.text(max_size=90),
    st.binary(max_size=90),
    st.builds(lambda body, cs: f"${body}*{cs}", st.text(max_size=70), st.text(max_size=3)),
    st.builds(lambda body: f"$GPGGA,{body}", st.text(alphabet="0123456789.,NSEWM-*", max_size=70)),
    st.builds(lambda body: f"$GPRMC,{body}", st.text(alphabet="0123456789.,AVNSEW*", max_size=70)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_junk, max_size=10))
def test_random_garbage_never_crashes(lines):
    parser = NmeaParser()
    for line in lines:
        parser.feed(line)
    s = parser.stats
    assert s.lines == len(lines)
    assert s.sentences + s.bad_checksum + s.no_checksum + s.garbage + s.unknown_sentences \
        + s.comments <= len(lines)


@pytest.mark.timeout(60)
def test_reader_over_loop_url(real_data):
    path = real_data / "gpsd/bu353s4.log"
    expected, _ = read_nmea_file(str(path))
    reader = GpsReader("loop://", timeout_s=0.05)
    got = []
    with reader:
        # loop:// holds only 4 KiB: write from another thread, as a device would.
        writer = threading.Thread(target=reader._port.write, args=(path.read_bytes(),),
                                  daemon=True)
        writer.start()
        for fix in reader:
            got.append(fix)
            if len(got) == len(expected):
                break
        writer.join(5)
        assert not writer.is_alive()
    assert got == expected


@pytest.mark.timeout(60)
def test_reader_thread_keeps_the_latest_fix(real_data):
    reader = GpsReader("loop://", timeout_s=0.05)
    reader.start()
    try:
        reader._port.write(b"junk\r\n$GPGGA,030719.000,3747.0873,S,17518.8938,E,1,08,1.1,"
                           b"59.9,M,23.7,M,,0000*7D\r\n")
        deadline = time.monotonic() + 5
        while reader.latest_fix is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reader.latest_fix is not None
        assert reader.latest_fix.n_satellites == 8
        assert reader.stats.garbage == 1
    finally:
        reader.close()
    assert not any(t.name == "gps:loop://" for t in threading.enumerate())


def test_reader_on_a_missing_port():
    with pytest.raises(ReceiverNotFound, match="/dev/does-not-exist"):
        GpsReader("/dev/does-not-exist").open()
