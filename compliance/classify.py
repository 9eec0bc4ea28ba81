"""Classify each emission: licensed, foreign, band licence, exempt, not monitored or
unknown.

Order of precedence, each with its source in ``compliance/data``:

1. ``licensed`` / ``foreign``: a point licence or a foreign station matches (below);
2. ``band_licence``: the emission lies inside a mobile operator's block, from the
   registry (licence rows with ``f_low_hz``/``f_high_hz``) or ``band_licences.yaml``
   (TT 18/2020, TT 03/2024; 700/850/900 MHz UNSURE), in force on the day;
3. ``exempt``: inside a licence-exempt band (``exempt_bands.yaml``: TT 08/2021 SRD,
   PMR446, wireless microphones, ISM, personal FM) and plausible for that device;
4. ``not_monitored``: inside an enabled band of ``not_monitored.yaml`` (aeronautical,
   distress, maritime, amateur, the operator's restricted list), never
   ``unlicensed_emission``;
5. ``unknown``: anything else.

What the classification also carries for the rules (``compliance.rules``):
``distance_m`` (a distance estimate to the emitter: a field kit next to it or a
located emitter), ``site_border_km`` (the site's distance to the border line,
``border_vn_cn.yaml``, good to its ``accuracy_m``), ``co_channel_licences`` (our
licences on a foreign station's channel) and ``verify``: why the emission must be
verified in the field before anything is said (never a case on its own).

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

from compliance.border import distance_to_line_km
from compliance.propagation import free_space_field_dbuv_m, haversine_km
from compliance.records import ForeignStation, Licence
from compliance.reference import BandLicence, ExemptBand, NotMonitoredBand, ReferenceData
from compliance.registry import Registry, adjacent, explains
from dsp.types import Emission, GeoPosition

__all__ = [
    "EMITTER_CLASSES",
    "EmitterClass",
    "Classification",
    "classify",
    "emission_date",
    "frequency_uncertainty_hz",
    "is_calibrated",
]

EmitterClass = Literal["licensed", "foreign", "band_licence", "exempt", "not_monitored",
                       "unknown"]
#: Every class, in order of precedence.
EMITTER_CLASSES: tuple[str, ...] = ("licensed", "foreign", "band_licence", "exempt",
                                    "not_monitored", "unknown")


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
    band_licence: BandLicence | None = None
    not_monitored_band: NotMonitoredBand | None = None
    #: Estimated distance from the receiving antenna to the emitter, m (None: unknown).
    distance_m: float | None = None
    #: Distance of the monitoring site to the border line, km (None: no site or line).
    site_border_km: float | None = None
    #: Our licences whose channel overlaps a foreign station's channel.
    co_channel_licences: tuple[str, ...] = ()
    #: Why this emission needs a field check before anything is said (not a finding).
    verify: str | None = None

    @property
    def licence_id(self) -> str | None:
        """The licence id (the foreign station's, or the band licence's), if matched."""
        if self.licence is not None:
            return self.licence.licence_id
        if self.foreign is not None:
            return self.foreign.licence_id
        if self.band_licence is not None:
            return self.band_licence.id
        return None


def is_calibrated(emission: Emission) -> bool:
    """True when the emission's level is absolute (dBm, or a field strength)."""
    return emission.e_dbuv_m is not None or emission.power_unit == "dBm"


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


def _exempt_band(emission: Emission, reference: ReferenceData,
                 distance_m: float | None) -> tuple[ExemptBand | None, str | None]:
    """The exempt band explaining the emission, and why it must be verified (if so)."""
    calibrated = is_calibrated(emission)
    slack = emission.f_resolution_hz
    exempt = reference.exempt
    for band in exempt.bands:
        if not calibrated and not band.classify_without_calibration:
            continue
        if not (emission.f_low_hz >= band.f_low_hz - slack
                and emission.f_high_hz <= band.f_high_hz + slack):
            continue
        if band.explains_bw_up_to_hz is not None and (
                emission.bw_99_hz > band.explains_bw_up_to_hz):
            continue  # far wider than any device of this class
        e = emission.e_dbuv_m
        if e is None or band.max_erp_w is None or distance_m is not None:
            return band, None  # the rules judge the power with the distance estimate
        at_min = free_space_field_dbuv_m(band.max_erp_w, exempt.min_device_distance_m / 1e3)
        if e > at_min:
            continue  # too strong for this device even at the nearest plausible distance
        at_ref = free_space_field_dbuv_m(band.max_erp_w,
                                         exempt.limit_reference_distance_m / 1e3)
        if e > at_ref:
            return band, (
                f"{band.id}: {e:.1f} dBuV/m vượt mức của {band.max_erp_w:g} W ERP ở "
                f"{exempt.limit_reference_distance_m:g} m ({at_ref:.1f} dBuV/m); cần đo "
                f"khoảng cách tới thiết bị / above what {band.max_erp_w:g} W ERP gives at "
                f"{exempt.limit_reference_distance_m:g} m: a legal device nearer than that, "
                f"or one over its limit; measure its distance (field kit) to decide")
        return band, None
    return None, None


def _band_licence(emission: Emission, registry: Registry, reference: ReferenceData,
                  on: dt.date) -> BandLicence | None:
    """The band licence whose block holds the whole emission (registry rows first)."""
    slack = frequency_uncertainty_hz(emission, reference)
    lo, hi = emission.f_low_hz + slack, emission.f_high_hz - slack
    for lic in registry.licences:
        if lic.is_block and lic.in_force(on) and lic.f_low_hz <= lo and hi <= lic.f_high_hz:
            return BandLicence(id=lic.licence_id, licensee=lic.licensee, service=lic.service,
                               f_low_hz=lic.f_low_hz, f_high_hz=lic.f_high_hz,
                               valid_from=lic.valid_from, valid_to=lic.valid_to,
                               source="registry")
    for block in reference.band_licences.blocks:
        if block.in_force(on) and block.f_low_hz <= lo and hi <= block.f_high_hz:
            return block
    return None


def _co_channel(foreign: ForeignStation, registry: Registry) -> tuple[str, ...]:
    """Our licences (points or blocks) whose channel overlaps the foreign station's."""
    half = foreign.necessary_bw_hz / 2.0
    lo, hi = foreign.f_hz - half, foreign.f_hz + half
    out = []
    for lic in registry.licences:
        if lic.is_block:
            a, b = lic.f_low_hz, lic.f_high_hz
        else:
            a, b = lic.f_hz - lic.necessary_bw_hz / 2.0, lic.f_hz + lic.necessary_bw_hz / 2.0
        if a < hi and lo < b:  # type: ignore[operator]
            out.append(lic.licence_id)
    return tuple(out)


def _foreign_verify(emission: Emission, foreign: ForeignStation, reference: ReferenceData,
                    border_km: float | None, co_channel: tuple[str, ...]) -> str | None:
    """Why a foreign station over its trigger needs verifying rather than a finding."""
    trigger = reference.coordination.trigger_for(foreign.service, foreign.f_hz)
    e = emission.e_dbuv_m
    if e is None or trigger is None or e <= trigger.trigger_dbuv_m or not co_channel:
        return None
    zone = reference.coordination.border_zone_km
    if border_km is None:
        return (f"{e:.1f} dBuV/m > {trigger.trigger_dbuv_m:g} dBuV/m nhưng không biết vị trí "
                f"điểm đo / above the trigger, but the site's position is not known: the "
                f"field at the border cannot be judged")
    if border_km > zone:
        return (f"{e:.1f} dBuV/m > {trigger.trigger_dbuv_m:g} dBuV/m đo cách biên giới "
                f"{border_km:.1f} km / above the trigger, but measured {border_km:.1f} km "
                f"from the border (> {zone:g} km): not the field at the border; measure "
                f"at the border")
    return None


def classify(
    emission: Emission,
    registry: Registry,
    reference: ReferenceData,
    *,
    site: GeoPosition | None = None,
    on: dt.date | None = None,
    distance_m: float | None = None,
) -> Classification:
    """Classify one emission (see the module notes for the order and the matching).

    Parameters
    ----------
    emission:
        The emission as measured (``f_hz``, ``bw_99_hz`` in Hz).
    registry:
        Licences (point and band licences) and foreign stations.
    reference:
        Tolerances, exempt bands and the rest (:func:`~compliance.reference.load_reference_data`).
    site:
        Position of the monitoring site, used to choose between licences and for the
        distance to the border.
    on:
        The date the licence must be in force; default the emission's UTC date.
    distance_m:
        An estimate of the distance from the receiving antenna to the emitter, m (a
        field kit next to it, or a located emitter); ``None`` when unknown.
    """
    day = on or emission_date(emission)
    factor = reference.tolerances.measurement.match_window_factor
    slack = frequency_uncertainty_hz(emission, reference)
    floors = reference.tolerances.measurement.match_window_min_hz
    # Band licences are matched by their block, never as a point licence at its centre.
    neighbours = [*(n for n in registry.licences_near(emission.f_hz, factor, slack, floors)
                    if not n[2].is_block),
                  *registry.foreign_near(emission.f_hz, factor, slack, floors)]
    near = [n for n in neighbours if explains(n[2], emission, reference, slack)]
    ranked = _candidates(emission, near, reference, site, day)
    if ranked:
        station, distance = ranked[0]
        if isinstance(station, Licence):
            return Classification(emission, "licensed", licence=station, distance_km=distance,
                                   distance_m=distance_m)
        border_km = (distance_to_line_km(site, reference.border)
                     if site is not None and reference.border is not None else None)
        co_channel = _co_channel(station, registry)
        return Classification(
            emission, "foreign", foreign=station, distance_km=distance, distance_m=distance_m,
            site_border_km=border_km, co_channel_licences=co_channel,
            verify=_foreign_verify(emission, station, reference, border_km, co_channel))
    block = _band_licence(emission, registry, reference, day)
    if block is not None:
        return Classification(emission, "band_licence", band_licence=block,
                              distance_m=distance_m)
    band, verify = _exempt_band(emission, reference, distance_m)
    if band is not None:
        return Classification(emission, "exempt", exempt_band=band, distance_m=distance_m,
                              verify=verify)
    quiet = reference.not_monitored.band_for(emission.f_low_hz, emission.f_high_hz,
                                             emission.f_resolution_hz)
    if quiet is not None:
        return Classification(emission, "not_monitored", not_monitored_band=quiet,
                              distance_m=distance_m)
    return Classification(emission, "unknown", distance_m=distance_m,
                          adjacent=adjacent(emission, [n[2] for n in neighbours]))
