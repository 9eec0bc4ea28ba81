"""Rules: turn classified emissions into findings, each with its legal basis.

=========================== ===================== ===================================
kind                        applies to            fires when
=========================== ===================== ===================================
unlicensed_emission         unknown               always (no licence, foreign station
                                                  or exempt band explains it);
                                                  ``adjacent_licence`` names the
                                                  nearest licence
off_channel_raster          unknown (information  the centre is further from the
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
cross_border_over_trigger   foreign, calibrated   E measured > the band's trigger, the
                                                  site within border_zone_km of the
                                                  border line, and a licence of ours
                                                  on the station's channel
exempt_limit_exceeded       exempt                99 % bandwidth > the band's channel
                                                  limit; off the band's channel rasters
                                                  (PMR446); or (calibrated, with a
                                                  distance estimate) the ERP implied
                                                  by E and the distance > the band's
                                                  maximum + power margin
(none)                      band_licence,         inside an operator's block, or a
                            not_monitored         band not monitored (aeronautical,
                                                  distress, maritime, amateur, the
                                                  restricted list)
=========================== ===================== ===================================

Margins, tolerances and triggers come from the editable reference data
(``compliance/data/*.yaml``); nothing here is a silent constant.

Legal basis
-----------
Each finding carries a :class:`~compliance.reference.Citation` (instrument, article,
clause, point) copied from the catalogue of the instrument in force on the Vietnamese
calendar date (UTC+7) of the emission's *last* sighting: an offence still going on at
the change of instrument falls under the new one (``legal_basis.yaml``). The citation
is a copy: a later edit of the catalogue never changes a finding already made.

Its ``matter`` says what the finding opens: a violation case (``sanction``), a
coordination matter with the neighbouring administration (``coordination``: a foreign
station over a coordination trigger is no domestic offence), or nothing on its own
(``information``: ``off_channel_raster``, a note for the inspector beside
``unlicensed_emission``).
Units and calibration: every finding names its ``unit``. On an uncalibrated
measurement (``dBFS``: no field strength) no field-strength finding is raised
(``cross_border_over_trigger``, the power part of ``exempt_limit_exceeded``; ``power_exceeded``
likewise needs ``e_dbuv_m``), and the bandwidth finding of an exempt band says that the
power was not checked. Where a power verdict needs what a single measurement cannot
give (a distance to an exempt device, the field at the border), the classification's
``verify`` says so instead (:mod:`compliance.classify`): marked for verification, not a
case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from compliance.classify import (
    Classification,
    EmitterClass,
    classify,
    emission_date,
    frequency_uncertainty_hz,
)
from compliance.propagation import free_space_field_dbuv_m, haversine_km
from compliance.reference import Citation, ReferenceData
from compliance.registry import Registry
from dsp.types import Emission, GeoPosition

__all__ = ["Finding", "findings_for", "evaluate", "legal_date", "VIETNAM_TZ"]

#: Vietnam's civil time (UTC+7, no daylight saving): the dates of the legal texts.
VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


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
    #: The legal basis as cited when the finding was made (``legal_basis`` is its text).
    citation: Citation | None = None
    #: For an unlicensed emission: the nearest licence in frequency, for the inspector.
    adjacent_licence: str | None = None

    @property
    def matter(self) -> str:
        """``"sanction"``, ``"coordination"`` or ``"information"`` (see the module notes)."""
        return self.citation.matter if self.citation is not None else "sanction"

    @property
    def f_hz(self) -> float:
        """Centre frequency of the emission, Hz."""
        return self.emission.f_hz

    @property
    def t_ns(self) -> int:
        """UTC time of the emission's first sighting, ns."""
        return self.emission.t_first_ns


def legal_date(emission: Emission) -> dt.date:
    """The date, in Vietnam (UTC+7), of the emission's last sighting: the date that
    chooses the instrument (an offence still going on then falls under the instrument
    in force then)."""
    return dt.datetime.fromtimestamp(emission.t_last_ns / 1e9, tz=VIETNAM_TZ).date()


def _finding(
    kind: str,
    c: Classification,
    reference: ReferenceData,
    *,
    measured: float | None,
    permitted: float | None,
    unit: str,
    detail: str = "",
    adjacent_licence: str | None = None,
) -> Finding:
    citation = reference.legal.citation(kind, legal_date(c.emission))
    return Finding(
        kind=kind,
        emission=c.emission,
        emitter_class=c.emitter_class,
        licence_id=c.licence_id,
        measured=measured,
        permitted=permitted,
        unit=unit,
        severity=citation.severity,
        legal_basis=citation.text,
        station_id=c.emission.station_id,
        detail=detail,
        citation=citation,
        adjacent_licence=adjacent_licence,
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
        return []  # uncalibrated (dBFS): no field strength, no trigger to compare with
    trigger = reference.coordination.trigger_for(station.service, station.f_hz)
    if trigger is None or e.e_dbuv_m <= trigger.trigger_dbuv_m:
        return []
    if not c.co_channel_licences:
        return []  # no assignment of ours on the channel: nothing to protect
    zone = reference.coordination.border_zone_km
    if c.site_border_km is None or c.site_border_km > zone:
        return []  # not the field at the border: c.verify says so
    accuracy_km = reference.border.accuracy_m / 1000.0 if reference.border else 0.0
    basis = (" (UNSURE: mức phủ sóng BS.412, không phải ngưỡng can nhiễu / a BS.412 "
             "coverage level, not an interference trigger)"
             if trigger.basis == "coverage_level" else "")
    return [_finding("cross_border_over_trigger", c, reference, measured=e.e_dbuv_m,
                     permitted=trigger.trigger_dbuv_m, unit="dBuV/m",
                     detail=f"{station.country} station {station.station_name}; trigger "
                     f"{trigger.id}" + (" (UNSURE)" if trigger.unsure else "") + basis
                     + f"; site {c.site_border_km:.1f} +- {accuracy_km:.1f} km from the "
                     f"border line; our licence(s) on the channel: "
                     f"{', '.join(c.co_channel_licences)}")]


def _exempt(c: Classification, reference: ReferenceData) -> list[Finding]:
    e, band = c.emission, c.exempt_band
    assert band is not None
    if band.channels:
        centre = band.nearest_channel_hz(e.f_hz)
        assert centre is not None
        allowed = (reference.tolerances.tolerance_hz("land_mobile", e.f_hz)
                   + frequency_uncertainty_hz(e, reference))
        if abs(e.f_hz - centre) > allowed:
            return [_finding("exempt_limit_exceeded", c, reference,
                             measured=abs(e.f_hz - centre), permitted=allowed, unit="Hz",
                             detail=f"{band.id}: ngoài kênh / off its channels, nearest "
                             f"{centre:.0f} Hz, offset {e.f_hz - centre:+.0f} Hz")]
    if e.e_dbuv_m is not None and band.max_erp_w is not None and c.distance_m is not None:
        # A distance estimate: the field says what ERP the device radiates.
        margin = reference.tolerances.measurement.power_margin_db
        limit = free_space_field_dbuv_m(band.max_erp_w, c.distance_m / 1000.0) + margin
        if e.e_dbuv_m > limit:
            return [_finding("exempt_limit_exceeded", c, reference, measured=e.e_dbuv_m,
                             permitted=limit, unit="dBuV/m",
                             detail=f"{band.id}: {band.max_erp_w:g} W ERP at the estimated "
                             f"{c.distance_m:g} m gives "
                             f"{limit - margin:.1f} dBuV/m (+ {margin:g} dB margin)")]
    if band.max_bw_hz is not None:
        limit = _bw_limit_hz(band.max_bw_hz, e, reference)
        if e.bw_99_hz > limit:
            power_note = ("" if e.e_dbuv_m is not None else
                          "; chưa hiệu chuẩn, công suất không được kiểm tra / uncalibrated "
                          f"({e.power_unit}): power not checked")
            return [_finding("exempt_limit_exceeded", c, reference, measured=e.bw_99_hz,
                             permitted=limit, unit="Hz",
                             detail=f"{band.id}: channel limit {band.max_bw_hz:.0f} Hz"
                             + power_note)]
    return []


def _unknown(c: Classification, reference: ReferenceData) -> list[Finding]:
    e = c.emission
    measured, unit = (e.e_dbuv_m, "dBuV/m") if e.e_dbuv_m is not None else (
        e.power_db, e.power_unit)
    detail = f"{e.f_hz:.0f} Hz, {e.bw_99_hz:.0f} Hz wide"
    if unit == "dBFS":
        # the level says the emission is there, not how strong it is at the antenna
        detail += ("; chưa hiệu chuẩn (dBFS): không đánh giá công suất / uncalibrated "
                   "(dBFS): no power or field-strength verdict")
    near = c.adjacent
    if near is not None:
        detail += (f"; giấy phép gần nhất / nearest licence {near.licence_id} "
                   f"({near.licensee}) at {near.f_hz:.0f} Hz, offset {e.f_hz - near.f_hz:+.0f} Hz"
                   ": not explained by it")
    out = [_finding("unlicensed_emission", c, reference, measured=measured, permitted=None,
                    unit=unit, detail=detail, adjacent_licence=c.adjacent_licence_id)]
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
    if c.emitter_class in ("band_licence", "not_monitored"):
        return []  # explained by an operator's block, or a band not monitored
    return _unknown(c, reference)


def evaluate(
    emissions: Iterable[Emission],
    registry: Registry,
    reference: ReferenceData,
    *,
    site: GeoPosition | None = None,
    on: dt.date | None = None,
    distance_m: Callable[[Emission], float | None] | None = None,
) -> tuple[list[Classification], list[Finding]]:
    """Classify every emission and apply every rule.

    ``distance_m`` (optional) gives a distance estimate to the emitter of an emission
    (m, or ``None``): a field kit next to it, or a located emitter.

    Returns the classifications (one per emission, same order) and all findings.
    """
    classifications: list[Classification] = []
    findings: list[Finding] = []
    for emission in emissions:
        c = classify(emission, registry, reference, site=site, on=on,
                     distance_m=distance_m(emission) if distance_m is not None else None)
        classifications.append(c)
        findings.extend(findings_for(c, reference, site=site, on=on))
    return classifications, findings
