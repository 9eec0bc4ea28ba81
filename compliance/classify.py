"""Classify each emission against the registry: licensed, foreign, exempt or unknown.

Order of precedence: a matching licence or foreign station wins over a licence-exempt
band; anything else is ``unknown``.

Matching (what must hold up in practice)
----------------------------------------
- A licence (or foreign station) is a *candidate* only when it explains the emission
  (:func:`compliance.registry.explains`): the emission overlaps the licensed channel
  and its centre is within the match window (default max(3 x tolerance, 1/4 raster);
  commune loudspeaker stations, often mis-tuned, a fixed 500 kHz; ``tolerances.yaml``).
  A licensee slightly off frequency is still that licensee (and gets
  ``frequency_out_of_tolerance``); anything further is unlicensed, with the nearest
  licence kept as ``adjacent`` for the inspector.
- Several candidates (frequency reuse, neighbouring channels, a domestic licence and a
  foreign station on the same channel): first those whose assigned frequency is within
  tolerance of the measurement, then the nearest to the monitoring site (haversine;
  the site is the receiving station), then our own licence before a foreign station,
  then the one in force on the day, then the closest in frequency.
- An emission straddling two channels is explained by neither licence: it is
  unlicensed, ``adjacent`` names the nearer, ``off_channel_raster`` both channels.
- Nothing here depends on the emission being continuous: an intermittent emitter is
  matched each time it is seen; the cases fold the sightings into one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from compliance.propagation import haversine_km
from compliance.records import ForeignStation, Licence
from compliance.reference import ExemptBand, ReferenceData
from compliance.registry import Registry, adjacent, explains
from dsp.types import Emission, GeoPosition

__all__ = [
    "EmitterClass",
    "Classification",
    "classify",
    "emission_date",
    "frequency_uncertainty_hz",
]

EmitterClass = Literal["licensed", "foreign", "exempt", "unknown"]


@dataclass(frozen=True, slots=True)
class Classification:
    """How one emission was classified, and against what."""

    emission: Emission
    emitter_class: EmitterClass
    licence: Licence | None = None
    foreign: ForeignStation | None = None
    exempt_band: ExemptBand | None = None
    distance_km: float | None = None
    #: For an emission no licence explains: the nearest licence in frequency, if any.
    adjacent: Licence | None = None

    @property
    def adjacent_licence_id(self) -> str | None:
        """The id of :attr:`adjacent` (``None`` when there is none)."""
        return self.adjacent.licence_id if self.adjacent is not None else None

    @property
    def licence_id(self) -> str | None:
        """The licence id (or the foreign station's id), if matched."""
        if self.licence is not None:
            return self.licence.licence_id
        if self.foreign is not None:
            return self.foreign.licence_id
        return None


def emission_date(emission: Emission) -> dt.date:
    """The UTC date of the emission's first sighting."""
    return dt.datetime.fromtimestamp(emission.t_first_ns / 1e9, tz=dt.UTC).date()


def frequency_uncertainty_hz(emission: Emission, reference: ReferenceData) -> float:
    """The measurement's own frequency uncertainty: one bin plus the receiver's ppm."""
    ppm = reference.tolerances.measurement.receiver_uncertainty_ppm
    return emission.f_resolution_hz + ppm * 1e-6 * emission.f_hz


def _candidates(
    emission: Emission,
    near: list[tuple[float, float, Licence | ForeignStation]],
    reference: ReferenceData,
    site: GeoPosition | None,
    on: dt.date,
) -> list[tuple[Licence | ForeignStation, float | None]]:
    uncertainty = frequency_uncertainty_hz(emission, reference)
    scored = []
    for f_assigned_hz, _bw_hz, station in near:
        offset = abs(emission.f_hz - f_assigned_hz)
        tolerance = reference.tolerances.tolerance_hz(station.service, f_assigned_hz)
        distance = (
            haversine_km(site, station.position)
            if site is not None and station.position is not None
            else None
        )
        is_licence = isinstance(station, Licence)
        in_force = station.in_force(on) if is_licence else True
        key = (
            offset > tolerance + uncertainty,
            distance if distance is not None else float("inf"),
            not is_licence,  # at equal distance (or no site) our own licence first
            not in_force,
            offset,
        )
        scored.append((key, station, distance))
    scored.sort(key=lambda item: item[0])
    return [(station, distance) for _key, station, distance in scored]


def _exempt_band(emission: Emission, reference: ReferenceData) -> ExemptBand | None:
    calibrated = emission.e_dbuv_m is not None or emission.power_unit == "dBm"
    slack = emission.f_resolution_hz
    for band in reference.exempt.bands:
        if not calibrated and not band.classify_without_calibration:
            continue
        if emission.f_low_hz >= band.f_low_hz - slack and emission.f_high_hz <= (
            band.f_high_hz + slack
        ):
            return band
    return None


def classify(
    emission: Emission,
    registry: Registry,
    reference: ReferenceData,
    *,
    site: GeoPosition | None = None,
    on: dt.date | None = None,
) -> Classification:
    """Classify one emission (see the module notes for the matching order).

    Parameters
    ----------
    emission:
        The emission as measured (``f_hz``, ``bw_99_hz`` in Hz).
    registry:
        Licences and foreign stations.
    reference:
        Tolerances, exempt bands and the rest (:func:`~compliance.reference.load_reference_data`).
    site:
        Position of the monitoring site, used to choose between licences.
    on:
        The date the licence must be in force; default the emission's UTC date.
    """
    day = on or emission_date(emission)
    factor = reference.tolerances.measurement.match_window_factor
    slack = frequency_uncertainty_hz(emission, reference)
    floors = reference.tolerances.measurement.match_window_min_hz
    neighbours = [*registry.licences_near(emission.f_hz, factor, slack, floors),
                  *registry.foreign_near(emission.f_hz, factor, slack, floors)]
    near = [n for n in neighbours if explains(n[2], emission, reference, slack)]
    ranked = _candidates(emission, near, reference, site, day)
    if ranked:
        station, distance = ranked[0]
        if isinstance(station, Licence):
            return Classification(emission, "licensed", licence=station, distance_km=distance)
        return Classification(emission, "foreign", foreign=station, distance_km=distance)
    band = _exempt_band(emission, reference)
    if band is not None:
        return Classification(emission, "exempt", exempt_band=band)
    return Classification(emission, "unknown",
                          adjacent=adjacent(emission, [n[2] for n in neighbours]))
