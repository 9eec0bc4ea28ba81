"""Ground truth of a simulated scene: what each receiver should measure.

``EmitterTruth`` gives, per emitter and receiver tuning: the RF centre and the
apparent centre after the receiver's crystal error, the 99 % occupied bandwidth
(ITU-R SM.443 beta/2 = 0.5 %, computed from the generator's own spectrum), the power
at the receiver's input connector (dBm) and at the ADC (dBFS), the field strength at
the antenna, whether it is on air and in band, and where its IQ image falls.
``NoiseTruth`` gives the noise floor densities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EmitterTruth", "NoiseTruth", "occupied_bandwidth_hz"]


@dataclass(frozen=True, slots=True)
class EmitterTruth:
    """What one receiver at one tuning should see of one emitter.

    Attributes
    ----------
    emitter_id, label, modulation:
        From the scene file.
    f_hz:
        RF centre frequency (Hz) of the emitter.
    f_apparent_hz:
        Where the receiver shows it: ``f_hz / (1 + ppm_residual * 1e-6)`` (the RTL-SDR
        derives LO and sample clock from one crystal), rounded to the simulator's
        waveform grid (sample_rate / loop length, 4.46 Hz at 2.4 MS/s; whole-kHz
        offsets are exact when there is no crystal error).
    bw_99_hz:
        99 % occupied bandwidth of the whole emission (0 for CW).
    power_dbm:
        Mean power at the receiver's input connector (after antenna gain and cable
        loss): the dBm of the calibration ``dBFS = dBm + dbm_to_dbfs_offset_db``.
    power_antenna_dbm:
        The same at the antenna's terminals (before the cable loss).
    power_dbfs:
        Mean power of the part that reaches the ADC (the in-band part, after the
        anti-alias roll-off and the IQ-imbalance gain |mu|^2), in dBFS; ``-inf`` when
        nothing of it is in band.
    e_dbuv_m:
        Field strength at the receiving antenna (dBuV/m).
    distance_m, path_loss_db:
        Link geometry and loss.
    on_air:
        On air at the time asked (schedules).
    in_band:
        The apparent centre lies within +-sample_rate/2 of the tuned centre.
    fully_in_band:
        The whole 99 % band lies inside the flat part of the anti-alias filter
        (central 80 % of the sample rate).
    image_f_hz, image_power_dbfs:
        The IQ-imbalance mirror: ``2 f_center - f_apparent`` at ``power_dbfs - IRR``.
    """

    emitter_id: str
    label: str
    modulation: str
    f_hz: float
    f_apparent_hz: float
    bw_99_hz: float
    power_dbm: float
    power_antenna_dbm: float
    power_dbfs: float
    e_dbuv_m: float
    distance_m: float
    path_loss_db: float
    on_air: bool
    in_band: bool
    fully_in_band: bool
    image_f_hz: float
    image_power_dbfs: float


@dataclass(frozen=True, slots=True)
class NoiseTruth:
    """Noise at the ADC for one receiver and tuning (mid-band, before the roll-off).

    ``thermal_dbfs_hz`` = kT0 NF referred through the gain; ``quantisation_dbfs_hz`` =
    uniform 8-bit quantisation noise (step 1/128 on I and Q) spread over the sample
    rate; ``total_dbfs_hz`` their sum, the floor a periodogram shows away from signals.
    """

    thermal_dbm_hz: float
    thermal_dbfs_hz: float
    quantisation_dbfs_hz: float
    total_dbfs_hz: float
    gain_db: float
    sample_rate_hz: float


def occupied_bandwidth_hz(f_hz: np.ndarray, power: np.ndarray, beta: float = 0.01) -> float:
    """Occupied bandwidth (Hz): beta/2 of the power below and above the band edges.

    ``f_hz`` ascending bin centres, ``power`` linear power per bin. Edges are
    interpolated within the bin where the cumulative power crosses beta/2 and 1-beta/2.

    Examples
    --------
    >>> f = np.arange(-50.0, 51.0)
    >>> p = np.where(np.abs(f) <= 20, 1.0, 0.0)
    >>> round(occupied_bandwidth_hz(f, p), 2)
    40.59
    """
    p = np.asarray(power, dtype=np.float64)
    total = p.sum()
    if total <= 0:
        return 0.0
    cum = np.cumsum(p) / total
    step = float(f_hz[1] - f_hz[0]) if f_hz.size > 1 else 0.0
    # Cumulative power at the upper edge of each bin; interpolate linearly inside the bin.
    edges_hi = f_hz + step / 2

    def edge(level: float) -> float:
        i = int(np.searchsorted(cum, level))
        i = min(i, cum.size - 1)
        prev = cum[i - 1] if i > 0 else 0.0
        frac = (level - prev) / (cum[i] - prev) if cum[i] > prev else 0.5
        return float(edges_hi[i] - step + frac * step)

    lo = edge(beta / 2)
    hi = edge(1 - beta / 2)
    bw = hi - lo
    # A line (CW) confined to one bin has no measurable width.
    return 0.0 if bw <= step * 1.0001 and np.count_nonzero(p > 1e-12 * p.max()) <= 1 else bw
