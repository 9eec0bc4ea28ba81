"""RTL-SDR dongles through pyrtlsdr — the only module that imports ``rtlsdr``.

pyrtlsdr is imported inside the functions, never at module import, so that the rest
of rfwatch (and ``rfwatch doctor``) works where the library is missing or broken.
pyrtlsdr 0.5.1 does not import against Debian's librtlsdr 0.6.0 (``undefined symbol:
rtlsdr_set_dithering``); ``pyrtlsdrlib`` bundles a librtlsdr and libusb that work
(../shared/INFRA.md). Library errors are turned into ours where they enter:

- no device / wrong serial / device busy at :meth:`RtlSdrReceiver.open` ->
  :class:`ReceiverNotFound` (what was looked for, and how to check);
- a USB error during a read (the dongle was unplugged, or the bus reset) ->
  :class:`ReceiverLost`, which the station agent catches to reopen with back-off.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsp.errors import ReceiverError, ReceiverLost, ReceiverNotFound
from dsp.types import IQBlock
from firmware_bridge.receiver import R820T_GAINS_DB, Receiver, ReceiverCapabilities

__all__ = [
    "DeviceInfo",
    "ProbeResult",
    "RtlSdrReceiver",
    "RTL_SAMPLE_RATE_RANGES_HZ",
    "list_devices",
    "probe",
    "validate_sample_rate",
    "HOW_TO_CHECK",
]

#: Complex sample rates librtlsdr accepts (Hz, inclusive; rtlsdr_set_sample_rate).
RTL_SAMPLE_RATE_RANGES_HZ: tuple[tuple[float, float], ...] = ((225_001.0, 300_000.0),
                                                              (900_001.0, 3_200_000.0))

#: librtlsdr ``enum rtlsdr_tuner`` -> (name, f_min_hz, f_max_hz).
_TUNERS: dict[int, tuple[str, float, float]] = {
    0: ("unknown", 24e6, 1766e6),
    1: ("E4000", 52e6, 2200e6),
    2: ("FC0012", 22e6, 948.6e6),
    3: ("FC0013", 22e6, 1100e6),
    4: ("FC2580", 146e6, 924e6),
    5: ("R820T", 24e6, 1766e6),
    6: ("R828D", 24e6, 1766e6),
}

HOW_TO_CHECK = (
    "kiểm tra / check: `rtl_test -t` sees the dongle; it is plugged in (`lsusb` shows "
    "0bda:2838); the DVB-T kernel driver is blacklisted (`echo 'blacklist dvb_usb_rtl28xxu' "
    "> /etc/modprobe.d/blacklist-rtl.conf`); no other program (rtl_tcp, rtl_power) holds it"
)


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One attached dongle as librtlsdr lists it."""

    index: int
    serial: str
    name: str
    manufacturer: str = ""
    product: str = ""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What ``rfwatch doctor`` needs: does the library load, which dongles are there."""

    library_ok: bool
    library_message: str
    devices: list[DeviceInfo] = field(default_factory=list)


def validate_sample_rate(rate_hz: float) -> float:
    """Return ``rate_hz`` if librtlsdr accepts it, else raise ``ReceiverError``.

    >>> validate_sample_rate(2.4e6)
    2400000.0
    """
    if not any(lo <= rate_hz <= hi for lo, hi in RTL_SAMPLE_RATE_RANGES_HZ):
        raise ReceiverError(
            f"tốc độ lấy mẫu không hợp lệ / invalid RTL-SDR sample rate {rate_hz:.0f} S/s: "
            "allowed 225001–300000 and 900001–3200000 S/s (2.4M is safe, >2.56M may drop)"
        )
    return float(rate_hz)


def _import_rtlsdr() -> Any:
    """Import pyrtlsdr, turning every way it can fail into one ReceiverError."""
    try:
        import rtlsdr
    except (ImportError, OSError, AttributeError) as err:
        raise ReceiverError(
            f"không nạp được librtlsdr / cannot load librtlsdr through pyrtlsdr: {err}; "
            "install `pyrtlsdr==0.5.1 pyrtlsdrlib` (Debian's librtlsdr 0.6.0 lacks "
            "rtlsdr_set_dithering)"
        ) from err
    if getattr(rtlsdr, "RtlSdr", None) is None:
        raise ReceiverError("pyrtlsdr loaded without librtlsdr (RTLSDR_CLIENT_MODE is set?)")
    return rtlsdr


def _usb_strings(lib: Any, index: int) -> tuple[str, str, str]:
    from ctypes import c_ubyte

    manufacturer = (c_ubyte * 256)()
    product = (c_ubyte * 256)()
    serial = (c_ubyte * 256)()
    if lib.rtlsdr_get_device_usb_strings(index, manufacturer, product, serial) != 0:
        return "", "", ""

    def text(buf: Any) -> str:
        return bytes(b for b in buf if b).decode("ascii", "replace")

    return text(manufacturer), text(product), text(serial)


def list_devices() -> list[DeviceInfo]:
    """Dongles attached now (empty list if none). ``ReceiverError`` if no library."""
    _import_rtlsdr()
    from rtlsdr.librtlsdr import librtlsdr as lib

    devices = []
    for index in range(int(lib.rtlsdr_get_device_count())):
        raw_name = lib.rtlsdr_get_device_name(index)
        name = raw_name.decode("ascii", "replace") if isinstance(raw_name, bytes) else str(raw_name)
        manufacturer, product, serial = _usb_strings(lib, index)
        devices.append(DeviceInfo(index, serial, name, manufacturer, product))
    return devices


def probe() -> ProbeResult:
    """Check the library and list dongles; never raises (for ``rfwatch doctor``)."""
    try:
        devices = list_devices()
    except ReceiverError as err:
        return ProbeResult(False, str(err), [])
    from importlib.metadata import PackageNotFoundError, version

    try:
        lib_version = f"pyrtlsdr {version('pyrtlsdr')}"
    except PackageNotFoundError:
        lib_version = "pyrtlsdr"
    return ProbeResult(True, f"{lib_version}: librtlsdr loads", devices)


class RtlSdrReceiver(Receiver):
    """An RTL-SDR dongle.

    Parameters
    ----------
    device:
        Device index (``int``) or serial number (``str``, as written by ``rtl_eeprom``).
    f_center_hz, sample_rate_hz, gain_db, ppm:
        Initial settings applied at :meth:`open`; ``gain_db=None`` is automatic gain.
        A manual gain is snapped to the nearest step of the tuner's own table.
    """

    def __init__(
        self,
        device: int | str = 0,
        *,
        f_center_hz: float = 100e6,
        sample_rate_hz: float = 2.4e6,
        gain_db: float | None = None,
        ppm: float = 0.0,
        receiver_id: str | None = None,
    ) -> None:
        self.device = device
        self._f_center_hz = float(f_center_hz)
        self._sample_rate_hz = validate_sample_rate(sample_rate_hz)
        self._gain_db = gain_db
        self._ppm = float(ppm)
        self._sdr: Any = None
        self._caps: ReceiverCapabilities | None = None
        self._serial = device if isinstance(device, str) else ""
        self.receiver_id = receiver_id or (
            f"rtlsdr:{device}" if isinstance(device, str) else f"rtlsdr:#{device}"
        )

    def _describe(self) -> str:
        if isinstance(self.device, str):
            return f"serial {self.device!r}"
        return f"index {self.device}"

    def _resolve_index(self) -> int:
        devices = list_devices()
        if not devices:
            raise ReceiverNotFound(
                f"Không tìm thấy RTL-SDR / No RTL-SDR found (looked for {self._describe()}); "
                + HOW_TO_CHECK
            )
        if isinstance(self.device, str):
            for dev in devices:
                if dev.serial == self.device:
                    return dev.index
            serials = ", ".join(repr(d.serial) for d in devices)
            raise ReceiverNotFound(
                f"Không có RTL-SDR số sê-ri {self.device!r} / no RTL-SDR with serial "
                f"{self.device!r}; attached: {serials} (`rfwatch devices` lists them)"
            )
        if not 0 <= self.device < len(devices):
            raise ReceiverNotFound(
                f"Không có RTL-SDR #{self.device} / no RTL-SDR at index {self.device}; "
                f"{len(devices)} attached (`rfwatch devices` lists them)"
            )
        self._serial = devices[self.device].serial
        return self.device

    @property
    def capabilities(self) -> ReceiverCapabilities:
        if self._caps is not None:
            return self._caps
        return ReceiverCapabilities(24e6, 1766e6, R820T_GAINS_DB, RTL_SAMPLE_RATE_RANGES_HZ,
                                    "R820T (assumed until opened)")

    def open(self) -> None:
        if self._sdr is not None:
            return
        rtlsdr = _import_rtlsdr()
        index = self._resolve_index()
        try:
            sdr = rtlsdr.RtlSdr(device_index=index)
        except OSError as err:
            raise ReceiverNotFound(
                f"không mở được RTL-SDR {self._describe()} / cannot open the RTL-SDR: {err}; "
                + HOW_TO_CHECK
            ) from err
        try:
            tuner_type = int(sdr.get_tuner_type())
            name, f_min, f_max = _TUNERS.get(tuner_type, _TUNERS[0])
            gains = tuple(float(g) for g in sdr.valid_gains_db) or R820T_GAINS_DB
            self._caps = ReceiverCapabilities(f_min, f_max, gains, RTL_SAMPLE_RATE_RANGES_HZ, name)
            self._sdr = sdr
            self._apply_all()
        except OSError as err:
            sdr.close()
            self._sdr = None
            raise ReceiverError(f"RTL-SDR {self._describe()} refused a setting: {err}") from err

    def _apply_all(self) -> None:
        sdr = self._sdr
        sdr.set_sample_rate(self._sample_rate_hz)
        sdr.set_center_freq(round(self._f_center_hz))
        if self._ppm:
            sdr.set_freq_correction(round(self._ppm))
        self._apply_gain()

    def _apply_gain(self) -> None:
        if self._gain_db is None:
            self._sdr.set_gain("auto")
        else:
            self._gain_db = self.capabilities.nearest_gain_db(self._gain_db)
            self._sdr.set_manual_gain_enabled(True)
            self._sdr.set_gain(self._gain_db)

    def close(self) -> None:
        if self._sdr is not None:
            try:
                self._sdr.close()
            except OSError:
                pass  # it may already be gone; there is nothing left to release
            self._sdr = None

    @property
    def is_open(self) -> bool:
        return self._sdr is not None

    def _call(self, what: str, fn: Any, *args: Any) -> None:
        if self._sdr is None:
            return  # applied at open()
        try:
            fn(*args)
        except OSError as err:
            raise ReceiverLost(f"RTL-SDR {self._describe()}: {what} failed ({err})") from err

    def tune(self, f_hz: float) -> None:
        cap = self.capabilities
        if not cap.f_min_hz <= f_hz <= cap.f_max_hz:
            raise ReceiverError(
                f"tần số {f_hz:.0f} Hz ngoài dải bộ thu {cap.tuner} / outside the tuner's range "
                f"{cap.f_min_hz:.0f}–{cap.f_max_hz:.0f} Hz"
            )
        self._f_center_hz = float(f_hz)
        if self._sdr is not None:
            self._call("tune", self._sdr.set_center_freq, round(f_hz))

    @property
    def f_center_hz(self) -> float:
        return self._f_center_hz

    def set_sample_rate(self, rate_hz: float) -> None:
        self._sample_rate_hz = validate_sample_rate(rate_hz)
        if self._sdr is not None:
            self._call("set sample rate", self._sdr.set_sample_rate, self._sample_rate_hz)

    @property
    def sample_rate_hz(self) -> float:
        return self._sample_rate_hz

    def set_gain(self, gain_db: float | None) -> None:
        self._gain_db = None if gain_db is None else self.capabilities.nearest_gain_db(gain_db)
        if self._sdr is not None:
            try:
                self._apply_gain()
            except OSError as err:
                raise ReceiverLost(f"RTL-SDR {self._describe()}: set gain failed ({err})") from err

    @property
    def gain_db(self) -> float | None:
        return self._gain_db

    def set_ppm(self, ppm: float) -> None:
        if round(ppm) == round(self._ppm):
            self._ppm = float(ppm)
            return  # librtlsdr returns an error for an unchanged correction
        self._ppm = float(ppm)
        if self._sdr is not None:
            self._call("set ppm", self._sdr.set_freq_correction, round(ppm))

    def read(self, n_samples: int) -> IQBlock:
        if self._sdr is None:
            raise ReceiverError(f"chưa mở / receiver not open: {self.receiver_id}")
        if n_samples <= 0:
            raise ReceiverError(f"n_samples must be > 0, got {n_samples}")
        t_start_ns = time.time_ns()
        try:
            raw = self._sdr.read_bytes(2 * n_samples)
        except OSError as err:  # LibUSBError is an OSError; so is pyrtlsdr's short read
            self._sdr = None  # pyrtlsdr closed the handle already
            raise ReceiverLost(
                f"mất RTL-SDR {self._describe()} / the RTL-SDR went away mid-stream: {err}"
            ) from err
        # pyrtlsdr reuses its buffer between reads, so copy.
        samples = np.frombuffer(raw, dtype=np.uint8).copy()
        return IQBlock(
            samples=samples,
            f_center_hz=self._f_center_hz,
            sample_rate_hz=self._sample_rate_hz,
            gain_db=self._gain_db,
            t_start_ns=t_start_ns,
            receiver_id=self.receiver_id,
            overload=bool(samples.min() == 0 or samples.max() == 255),
        )

    @property
    def serial(self) -> str:
        """The dongle's serial number (known after :meth:`open` when opened by index)."""
        return self._serial
