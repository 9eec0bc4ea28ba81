"""The GS-232 rotator client against a pty that answers as a GS-232 controller does."""

from __future__ import annotations

import os
import pty
import threading

import pytest

from dsp.errors import ParameterError, ReceiverError, ReceiverLost, ReceiverNotFound
from firmware_bridge.rotator import Gs232Rotator, parse_azimuth
from firmware_bridge.simulator.rotator import SimulatedGs232


@pytest.fixture(params=["A", "B"])
def controller(request):
    sim = SimulatedGs232(azimuth_deg=10.0, speed_deg_s=720.0, answer_style=request.param)
    path = sim.serve_pty()
    yield sim, path
    sim.close()


def test_reads_azimuth_in_both_answer_styles(controller):
    sim, path = controller
    with Gs232Rotator(path) as rot:
        assert rot.azimuth_deg() == 10.0
    assert sim.commands == ["C"]


def test_turn_to_sends_three_digit_move_and_waits(controller):
    sim, path = controller
    with Gs232Rotator(path, tolerance_deg=1.0) as rot:
        reached = rot.turn_to(275.4, poll_s=0.02)
    assert abs(reached - 275) <= 1.0
    assert "M275" in sim.commands
    assert abs(sim.azimuth_deg - 275) <= 1.0


def test_stop_and_refused_command(controller):
    sim, path = controller
    with Gs232Rotator(path) as rot:
        rot.stop()
        with pytest.raises(ReceiverError, match="refused"):
            rot._command("Z", expect_data=False)
    assert sim.commands[:2] == ["S", "Z"]


def test_bad_azimuth_is_a_parameter_error(controller):
    _, path = controller
    with Gs232Rotator(path) as rot, pytest.raises(ParameterError, match="azimuth_deg"):
        rot.turn_to(400.0)


def test_silent_controller_is_lost_not_hung():
    master, slave = pty.openpty()
    try:
        rot = Gs232Rotator(os.ttyname(slave), timeout_s=0.2)
        with pytest.raises(ReceiverLost, match="no answer"):
            rot.azimuth_deg()
        rot.close()
    finally:
        os.close(master)
        os.close(slave)


def test_garbage_answer_names_the_port():
    master, slave = pty.openpty()
    path = os.ttyname(slave)

    def answer() -> None:
        os.read(master, 16)
        os.write(master, b"hello\r\n")

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    try:
        with Gs232Rotator(path, timeout_s=1.0) as rot, pytest.raises(ReceiverError, match=path):
            rot.azimuth_deg()
    finally:
        t.join(1)
        os.close(master)
        os.close(slave)


def test_missing_port_is_not_found():
    with pytest.raises(ReceiverNotFound, match="cannot open"):
        Gs232Rotator("/dev/does-not-exist-rotator").open()


def test_parse_azimuth_rejects_other_text():
    assert parse_azimuth(b"+0359\r\n") == 359.0
    with pytest.raises(ValueError):
        parse_azimuth(b"?>\r")
