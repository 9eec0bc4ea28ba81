"""Rules: turn classified emissions into findings, each with its legal basis.

=========================== ===================== ===================================
kind                        applies to            fires when
=========================== ===================== ===================================
unlicensed_emission         unknown               always (no licence, foreign station
                                                  or exempt band explains it)
off_channel_raster          unknown               the centre is further from the
                                                  nearest channel centre of a plan
                                                  with a raster than the service's
                                                  tolerance + measurement uncertainty
licence_not_valid           licensed              the licence is expired, not yet
                                                  valid, suspended or revoked on the
                                                  emission's date
frequency_out_of_tolerance  licensed              abs(f - f_assigned) > RR Ap2 tolerance
                                                  + one bin + receiver ppm
bandwidth_exceeded          licensed              99 % bandwidth > necessary bandwidth
                                                  x (1 + margin) + 2 bins
power_exceeded              licensed, calibrated  E measured > free-space E from the
                                                  licence ERP at the site + margin
                                                  (needs the site and antenna position)
cross_border_over_trigger   foreign, calibrated   E measured > the band's trigger
exempt_limit_exceeded       exempt                99 % bandwidth > the band's channel
                                                  limit, or (calibrated) E measured >
                                                  free-space E of the maximum ERP at
                                                  the reference distance
=========================== ===================== ===================================

Margins, tolerances and triggers come from the editable reference data
(``compliance/data/*.yaml``); nothing here is a silent constant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from compliance.classify import (
    Classification,
    EmitterClass,
    classify,
    emission_date,
    frequency_uncertainty_hz,
)
from compliance.propagation import free_space_field_dbuv_m, haversine_km
from compliance.reference import ReferenceData
from compliance.registry import Registry
from dsp.types import Emission, GeoPosition

__all__ = ["Finding", "findings_for", "evaluate"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One breach found on one emission.

    ``measured`` and ``permitted`` are in ``unit`` (``Hz`` for frequency offsets and
    bandwidths, ``dBuV/m`` for field strength, the emission's power unit for
    ``unlicensed_emission``); either may be ``None`` where the kind has no such value.
    """

    kind: str
    emission: Emission
    emitter_class: EmitterClass
    licence_id: str | None
    measured: float | None
    permitted: float | None
    unit: str
    severity: str
    legal_basis: str
    station_id: str
    detail: str = ""

    @property
    def f_hz(self) -> float:
        """Centre frequency of the emission, Hz."""
        return self.emission.f_hz

    @property
    def t_ns(self) -> int:
        """UTC time of the emission's first sighting, ns."""
        return self.emission.t_first_ns


def _finding(
    kind: str,
    c: Classification,
    reference: ReferenceData,
    *,
    measured: float | None,
    permitted: float | None,
    unit: str,
    detail: str = "",
) -> Finding:
    return Finding(
        kind=kind,
        emission=c.emission,
        emitter_class=c.emitter_class,
        licence_id=c.licence_id,
        measured=measured,
        permitted=permitted,
        unit=unit,
        severity=reference.legal.kinds[kind].severity,
        legal_basis=reference.legal.cite(kind),
        station_id=c.emission.station_id,
        detail=detail,
    )


def _bw_limit_hz(necessary_bw_hz: float, e: Emission, reference: ReferenceData) -> float:
    margin = reference.tolerances.measurement.bandwidth_margin_fraction
    return necessary_bw_hz * (1.0 + margin) + 2.0 * e.f_resolution_hz


def _licensed(c: Classification, reference: ReferenceData, site: GeoPosition | None,
              on: dt.date) -> list[Finding]:
    e, lic = c.emission, c.licence
    assert lic is not None
    out: list[Finding] = []
    why = lic.why_not_in_force(on)
    if why is not None:
        out.append(_finding("licence_not_valid", c, reference, measured=None, permitted=None,
                            unit="", detail=f"{why}: status {lic.status}, valid "
                            f"{lic.valid_from}..{lic.valid_to or ''}, seen {on}"))
    offset = e.f_hz - lic.f_hz
    allowed = reference.tolerances.tolerance_hz(lic.service, lic.f_hz)
    permitted = allowed + frequency_uncertainty_hz(e, reference)
    if abs(offset) > permitted:
        out.append(_finding("frequency_out_of_tolerance", c, reference, measured=abs(offset),
                            permitted=permitted, unit="Hz",
                            detail=f"offset {offset:+.0f} Hz from {lic.f_hz:.0f} Hz; "
                            f"tolerance {allowed:.0f} Hz + measurement uncertainty"))
    bw_limit = _bw_limit_hz(lic.necessary_bw_hz, e, reference)
    if e.bw_99_hz > bw_limit:
        out.append(_finding("bandwidth_exceeded", c, reference, measured=e.bw_99_hz,
                            permitted=bw_limit, unit="Hz",
                            detail=f"necessary bandwidth {lic.necessary_bw_hz:.0f} Hz "
                            f"({lic.emission}) + margin"))
    if (e.e_dbuv_m is not None and site is not None and lic.position is not None
            and lic.erp_w):
        d_km = haversine_km(site, lic.position)
        if lic.antenna_height_m is not None:
            d_km = (d_km**2 + (lic.antenna_height_m / 1000.0) ** 2) ** 0.5
        predicted = free_space_field_dbuv_m(lic.erp_w, d_km)
        limit = predicted + reference.tolerances.measurement.power_margin_db
        if e.e_dbuv_m > limit:
            out.append(_finding("power_exceeded", c, reference, measured=e.e_dbuv_m,
                                permitted=limit, unit="dBuV/m",
                                detail=f"free-space field of {lic.erp_w:g} W ERP at "
                                f"{d_km:.2f} km is {predicted:.1f} dBuV/m"))
    return out


def _foreign(c: Classification, reference: ReferenceData) -> list[Finding]:
    e, station = c.emission, c.foreign
    assert station is not None
    if e.e_dbuv_m is None:
        return []
    trigger = reference.coordination.trigger_for(station.service, station.f_hz)
    if trigger is None or e.e_dbuv_m <= trigger.trigger_dbuv_m:
        return []
    return [_finding("cross_border_over_trigger", c, reference, measured=e.e_dbuv_m,
                     permitted=trigger.trigger_dbuv_m, unit="dBuV/m",
                     detail=f"{station.country} station {station.station_name}; trigger "
                     f"{trigger.id}" + (" (UNSURE)" if trigger.unsure else ""))]


def _exempt(c: Classification, reference: ReferenceData) -> list[Finding]:
    e, band = c.emission, c.exempt_band
    assert band is not None
    if e.e_dbuv_m is not None and band.max_erp_w is not None:
        d_km = reference.exempt.limit_reference_distance_m / 1000.0
        limit = free_space_field_dbuv_m(band.max_erp_w, d_km)
        if e.e_dbuv_m > limit:
            return [_finding("exempt_limit_exceeded", c, reference, measured=e.e_dbuv_m,
                             permitted=limit, unit="dBuV/m",
                             detail=f"{band.id}: {band.max_erp_w:g} W ERP at "
                             f"{reference.exempt.limit_reference_distance_m:g} m")]
    if band.max_bw_hz is not None:
        limit = _bw_limit_hz(band.max_bw_hz, e, reference)
        if e.bw_99_hz > limit:
            return [_finding("exempt_limit_exceeded", c, reference, measured=e.bw_99_hz,
                             permitted=limit, unit="Hz",
                             detail=f"{band.id}: channel limit {band.max_bw_hz:.0f} Hz")]
    return []


def _unknown(c: Classification, reference: ReferenceData) -> list[Finding]:
    e = c.emission
    measured, unit = (e.e_dbuv_m, "dBuV/m") if e.e_dbuv_m is not None else (
        e.power_db, e.power_unit)
    out = [_finding("unlicensed_emission", c, reference, measured=measured, permitted=None,
                    unit=unit, detail=f"{e.f_hz:.0f} Hz, {e.bw_99_hz:.0f} Hz wide")]
    uncertainty = frequency_uncertainty_hz(e, reference)
    for plan in reference.plans_at(e.f_hz):
        centre = plan.nearest_centre_hz(e.f_hz)
        if centre is None or plan.raster_hz is None:
            continue
        allowed = reference.tolerances.tolerance_hz(plan.service, e.f_hz) + uncertainty
        offset = e.f_hz - centre
        if abs(offset) <= allowed:
            continue
        other = centre + plan.raster_hz * (1 if offset > 0 else -1)
        straddles = min(centre, other) < e.f_hz < max(centre, other) and (
            e.f_low_hz < (centre + other) / 2 < e.f_high_hz)
        out.append(_finding("off_channel_raster", c, reference, measured=abs(offset),
                            permitted=allowed, unit="Hz",
                            detail=f"plan {plan.id}: nearest channel {centre:.0f} Hz, "
                            f"offset {offset:+.0f} Hz"
                            + (f"; straddles {centre:.0f} and {other:.0f} Hz"
                               if straddles else "")))
        break  # one plan is enough to call it off-raster
    return out


def findings_for(
    c: Classification,
    reference: ReferenceData,
    *,
    site: GeoPosition | None = None,
    on: dt.date | None = None,
) -> list[Finding]:
    """The findings of one classified emission (empty when it is in order).

    An emission flagged ``overload_suspect`` (the ADC clipped and it may be a
    distortion product of the receiver, dsp.overload) raises none: a finding an
    inspector cannot defend is worse than no finding.
    """
    if "overload_suspect" in c.emission.flags:
        return []
    if c.emitter_class == "licensed":
        return _licensed(c, reference, site, on or emission_date(c.emission))
    if c.emitter_class == "foreign":
        return _foreign(c, reference)
    if c.emitter_class == "exempt":
        return _exempt(c, reference)
    return _unknown(c, reference)


def evaluate(
    emissions: Iterable[Emission],
    registry: Registry,
    reference: ReferenceData,
    *,
    site: GeoPosition | None = None,
    on: dt.date | None = None,
) -> tuple[list[Classification], list[Finding]]:
    """Classify every emission and apply every rule.

    Returns the classifications (one per emission, same order) and all findings.
    """
    classifications: list[Classification] = []
    findings: list[Finding] = []
    for emission in emissions:
        c = classify(emission, registry, reference, site=site, on=on)
        classifications.append(c)
        findings.extend(findings_for(c, reference, site=site, on=on))
    return classifications, findings
