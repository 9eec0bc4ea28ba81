"""The bearing task: turn a directional antenna on its rotator and find the emitter.

At each azimuth of the sweep the rotator turns (:class:`firmware_bridge.rotator.
Gs232Rotator`), the receiver reads one block at the emission's frequency, and the
band power of the emission is measured (:func:`dsp.spectrum.band_power_db` on a Welch
spectrum); :func:`dsp.bearing.estimate_bearing` fits the antenna's pattern to the
levels. The result is a :class:`dsp.geolocation.BearingObservation` for the
location, with the fit behind it. Levels at different azimuths are compared, so the
receiver's gain must be fixed during the sweep (AGC would flatten the pattern): the
task sets it and restores it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsp.bearing import BearingEstimate, estimate_bearing
from dsp.errors import ParameterError
from dsp.geolocation import BearingObservation
from dsp.iq import block_to_complex64
from dsp.spectrum import band_power_db, welch_spectrum
from dsp.types import GeoPosition
from firmware_bridge.receiver import Receiver
from firmware_bridge.rotator import Gs232Rotator

__all__ = ["BearingResult", "measure_bearing"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BearingResult:
    """The observation for the location, the fit, and the raw sweep (deg, dB)."""

    observation: BearingObservation
    estimate: BearingEstimate
    azimuth_deg: tuple[float, ...]
    level_db: tuple[float, ...]


def measure_bearing(
    receiver: Receiver,
    rotator: Gs232Rotator,
    *,
    site_position: GeoPosition,
    f_hz: float,
    bw_hz: float,
    azimuths_deg: Sequence[float] = tuple(range(0, 360, 15)),
    gain_db: float = 30.0,
    n_samples: int = 65_536,
    beamwidth_deg: float = 60.0,
    front_to_back_db: float = 20.0,
    site_id: str = "",
) -> BearingResult:
    """Sweep the rotator over ``azimuths_deg`` and estimate the bearing of ``f_hz``.

    ``bw_hz`` is the band whose power is measured (the emission's 99 % bandwidth).
    The receiver is tuned 1/4 of its sample rate above ``f_hz`` so the emission is
    clear of the DC spike.
    """
    if bw_hz <= 0:
        raise ParameterError(f"bw_hz must be > 0, got {bw_hz!r}")
    if len(azimuths_deg) < 4:
        raise ParameterError(f"need at least 4 azimuths, got {len(azimuths_deg)}")
    old_gain = receiver.gain_db
    receiver.set_gain(gain_db)
    rate = receiver.sample_rate_hz
    receiver.tune(f_hz + rate / 4)
    levels = []
    where = []
    try:
        for az in azimuths_deg:
            where.append(rotator.turn_to(float(az)))
            block = receiver.read(n_samples)
            spec = welch_spectrum(block_to_complex64(block), sample_rate_hz=block.sample_rate_hz,
                                  f_center_hz=block.f_center_hz, fft_size=1024)
            levels.append(band_power_db(spec, f_hz - bw_hz / 2, f_hz + bw_hz / 2))
    finally:
        receiver.set_gain(old_gain)
    est = estimate_bearing(np.array(where), np.array(levels), beamwidth_deg=beamwidth_deg,
                           front_to_back_db=front_to_back_db)
    log.info("bearing %s at %.4f MHz: %.1f deg +- %.1f", site_id, f_hz / 1e6,
             est.bearing_deg, est.sigma_deg)
    obs = BearingObservation(site_position, est.bearing_deg, est.sigma_deg, site_id=site_id)
    return BearingResult(obs, est, tuple(where), tuple(levels))
