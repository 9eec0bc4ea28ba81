"""How RtlSdrReceiver turns pyrtlsdr's errors into ours.

No dongle is attached here, so the USB library (pyrtlsdr's ``RtlSdr`` class and the
device list) is replaced by a stand-in that behaves as the real one does when a
dongle is present, busy, or pulled out mid-stream (``LibUSBError``, an ``OSError``,
as ../shared/INFRA.md records). Only that third-party edge is replaced; everything
of ours runs as it is.
"""

from __future__ import annotations

import numpy as np
import pytest
import rtlsdr
from rtlsdr.rtlsdr import LibUSBError

import firmware_bridge.rtlsdr as fb_rtlsdr
from dsp.errors import ReceiverLost, ReceiverNotFound
from firmware_bridge.rtlsdr import DeviceInfo, RtlSdrReceiver


class UsbDongle:
    """Stands in for ``rtlsdr.RtlSdr``: records calls, fails when told to."""

    instances: list[UsbDongle] = []
    reads_before_unplug: int | None = None
    busy = False

    def __init__(self, device_index: int = 0) -> None:
        if UsbDongle.busy:
            raise LibUSBError(-6, f"Could not open SDR (device index = {device_index})")
        self.device_index = device_index
        self.calls: list[tuple] = []
        self.valid_gains_db = [g / 10 for g in (0, 9, 14, 27, 37, 77, 87, 125, 144, 157, 166,
                                                197, 207, 229, 254, 280, 297, 328, 338, 364,
                                                372, 386, 402, 421, 434, 439, 445, 480, 496)]
        self.reads = 0
        self.closed = False
        UsbDongle.instances.append(self)

    def get_tuner_type(self) -> int:
        return 5

    def __getattr__(self, name: str):
        if name.startswith("set_"):
            return lambda *args: self.calls.append((name, *args))
        raise AttributeError(name)

    def read_bytes(self, n: int) -> bytearray:
        self.reads += 1
        if UsbDongle.reads_before_unplug is not None and self.reads > UsbDongle.reads_before_unplug:
            self.closed = True  # pyrtlsdr closes the handle itself on a failed read
            raise LibUSBError(-4, f"Could not read {n} bytes")
        buf = bytearray(np.full(n, 128, dtype=np.uint8).tobytes())
        buf[0] = 255 if self.reads == 2 else 128
        return buf

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def dongle(monkeypatch):
    UsbDongle.instances = []
    UsbDongle.reads_before_unplug = None
    UsbDongle.busy = False
    monkeypatch.setattr(rtlsdr, "RtlSdr", UsbDongle)
    monkeypatch.setattr(fb_rtlsdr, "list_devices", lambda: [
        DeviceInfo(0, "00000001", "Generic RTL2832U OEM"),
        DeviceInfo(1, "LS-BORDER-2", "Generic RTL2832U OEM"),
    ])
    return UsbDongle


def test_open_applies_settings_and_snaps_gain(dongle):
    with RtlSdrReceiver(1, f_center_hz=433.92e6, sample_rate_hz=1.024e6, gain_db=30.0,
                        ppm=-12) as rx:
        usb = dongle.instances[-1]
        assert usb.device_index == 1
        assert rx.capabilities.tuner == "R820T"
        assert rx.gain_db == 29.7
        assert ("set_sample_rate", 1.024e6) in usb.calls
        assert ("set_center_freq", 433_920_000) in usb.calls
        assert ("set_freq_correction", -12) in usb.calls
        assert ("set_gain", 29.7) in usb.calls
        assert rx.serial == "LS-BORDER-2"
        rx.set_gain(None)
        assert usb.calls[-1] == ("set_gain", "auto")
    assert usb.closed


def test_open_by_serial(dongle):
    with RtlSdrReceiver("LS-BORDER-2") as rx:
        assert dongle.instances[-1].device_index == 1
        assert rx.receiver_id == "rtlsdr:LS-BORDER-2"


def test_unknown_serial_lists_what_is_attached(dongle):
    with pytest.raises(ReceiverNotFound, match="'00000001', 'LS-BORDER-2'"):
        RtlSdrReceiver("NOPE").open()
    with pytest.raises(ReceiverNotFound, match="2 attached"):
        RtlSdrReceiver(5).open()


def test_busy_dongle_is_not_found_with_advice(dongle):
    dongle.busy = True
    with pytest.raises(ReceiverNotFound, match="no other program") as err:
        RtlSdrReceiver(0).open()
    assert isinstance(err.value.__cause__, LibUSBError)


def test_reads_blocks_with_time_and_overload(dongle):
    with RtlSdrReceiver(0, sample_rate_hz=2.4e6) as rx:
        first = rx.read(1024)
        second = rx.read(1024)
    assert first.samples.dtype == np.uint8 and first.samples.size == 2048
    assert not first.overload and second.overload
    assert second.t_start_ns >= first.t_start_ns
    assert first.receiver_id == "rtlsdr:#0"


def test_unplugged_mid_stream_is_receiver_lost_and_can_reopen(dongle):
    dongle.reads_before_unplug = 2
    rx = RtlSdrReceiver(0)
    rx.open()
    rx.read(512)
    rx.read(512)
    with pytest.raises(ReceiverLost, match="went away mid-stream") as err:
        rx.read(512)
    assert isinstance(err.value.__cause__, LibUSBError)
    assert not rx.is_open
    dongle.reads_before_unplug = None
    rx.open()  # the station agent reopens with back-off
    assert rx.read(512).samples.size == 1024
    rx.close()
