"""GpsReader over a real pseudo-terminal pair, fed by a writer thread like a GPS puck."""

from __future__ import annotations

import os
import threading
import time

import pytest

from firmware_bridge.gps import GpsReader, read_nmea_file

pytestmark = pytest.mark.timeout(120)

SENTINEL = b"$GPGGA,235959.000,2150.0000,N,10645.0000,E,1,07,1.0,260.0,M,,M,,*41"
SENTINEL_LON = 106.75


def _writer(fd: int, data: bytes, chunk: int = 97, pause_s: float = 0.0005) -> threading.Thread:
    """Write in odd-sized chunks so lines arrive split, as on a real UART."""

    def run() -> None:
        for i in range(0, len(data), chunk):
            os.write(fd, data[i : i + chunk])
            time.sleep(pause_s)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


@pytest.mark.parametrize("name", ["bu353s4.log", "gp-320fw-2019-04-07-coldboot.log"])
def test_real_log_over_a_pty(real_data, pty_pair, name):
    master, path = pty_pair
    log_path = real_data / "gpsd" / name
    expected, expected_stats = read_nmea_file(str(log_path))
    # A last, distinctive fix marks the end of the log.
    data = log_path.read_bytes() + b"\r\n" + SENTINEL + b"\r\n"
    got = []
    with GpsReader(path, baudrate=4800, timeout_s=0.1) as reader:
        writer = _writer(master, data)
        for fix in reader:
            got.append(fix)
            if fix.position is not None and fix.position.lon_deg == SENTINEL_LON:
                break
        writer.join(30)
        stats = reader.stats
    assert got[:-1] == expected
    # Same counts as the file parser (the '#' header lines are junk on a serial line).
    assert stats.bad_checksum == expected_stats.bad_checksum
    if name == "bu353s4.log":
        assert stats.sentences == expected_stats.sentences + 1
    else:
        # The cold-boot log has sentences merged with a bare CR between them: a file
        # splits them (splitlines), a serial line (readline on LF) does not, so the
        # sentence counts may differ slightly; the fixes may not.
        assert abs(stats.sentences - (expected_stats.sentences + 1)) <= 3


def test_background_thread_with_garbage_and_a_late_fix(pty_pair):
    master, path = pty_pair
    seen = []
    reader = GpsReader(path, timeout_s=0.05, on_fix=seen.append).start()
    try:
        os.write(master, b"\x00\xff\xfe garbage \r\n$GPGGA,broken*00\r\n")
        os.write(master, b"$GPRMC,030721.000,A,3747.0876,S,17518.8934,E,0.89,181.39,"
                         b"311214,,,A*71\r\n")
        deadline = time.monotonic() + 10
        while reader.latest_fix is None and time.monotonic() < deadline:
            time.sleep(0.01)
        fix = reader.latest_fix
        assert fix is not None and fix.valid
        assert fix.position.lat_deg == pytest.approx(-(37 + 47.0876 / 60))
        assert seen == [fix]
        stats = reader.stats
        assert stats.garbage == 1 and stats.bad_checksum == 1
    finally:
        reader.close()
    assert reader.error is None
