"""The registry the rules match against: licences and foreign stations, from files or
from the relational database, and the rule of which licence explains an emission.

Which licence explains an emission (issue 10 §2)
------------------------------------------------
A licence (or foreign station) explains an emission only when both hold:

1. the emission overlaps the licensed channel, assigned frequency +- half the
   necessary bandwidth of the licence's designator; and
2. the emission's centre is within the match window of the assigned frequency (plus
   the measurement's own frequency uncertainty). The window is, by default, the larger
   of ``match_tolerance_factor`` (3) x the service's frequency tolerance and
   ``match_raster_fraction`` (1/4) x the channel raster of the service's plan at that
   frequency (``tolerances.yaml``).

So a pirate 100 kHz above a stereo FM licence (window 25 kHz), a wireless microphone
just below a DVB-T2 channel (window 2 MHz, no overlap) or an emission one 12.5 kHz
land-mobile channel away (window 6.5 kHz at 433 MHz) is *not* that licensee off
frequency: it is unlicensed, and the finding names the nearest licence as
``adjacent_licence`` for the inspector (:func:`adjacent`).

A service listed in ``match_window_min_hz`` (commune loudspeaker stations, whose
transmitters are known to stray within the band reserved for them) uses that fixed
window instead, and condition 1 is waived: such an emission is taken as the licensee
off frequency, to be confirmed in the field.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from compliance.importers import read_foreign_stations, read_licences
from compliance.models import ForeignStationRow, LicenceRow
from compliance.records import (
    FOREIGN_COLUMNS,
    LICENCE_BLOCK_COLUMNS,
    LICENCE_COLUMNS,
    ForeignStation,
    Licence,
)
from compliance.reference import ReferenceData
from dsp.types import Emission

__all__ = [
    "Registry",
    "save_licences",
    "load_licences",
    "save_foreign_stations",
    "load_foreign_stations",
    "load_registry",
    "match_window_hz",
    "explains",
    "adjacent",
]


class _FrequencyIndex:
    """Stations sorted by assigned frequency, for finding those near a frequency fast.

    Our own small index (bisect over a sorted list) because the central ingest matches
    every emission of every station against thousands of licences.
    """

    def __init__(self, stations: Sequence[Licence | ForeignStation]) -> None:
        entries = sorted(((s.f_hz, s.necessary_bw_hz, s) for s in stations),
                         key=lambda item: item[0])
        self._f_hz = [e[0] for e in entries]
        self._entries = entries
        self._max_bw_hz = max((e[1] for e in entries), default=0.0)

    def near(self, f_hz: float, factor: float, slack_hz: float,
             min_window_hz: Mapping[str, float] | None = None,
             ) -> list[tuple[float, float, Licence | ForeignStation]]:
        """(f_hz, necessary_bw_hz, station) of every station whose assigned frequency is
        within max(``factor`` x its necessary bandwidth, ``min_window_hz`` of its
        service) + ``slack_hz`` of ``f_hz``."""
        floors = min_window_hz or {}
        reach = max(factor * self._max_bw_hz, max(floors.values(), default=0.0)) + slack_hz
        lo = bisect.bisect_left(self._f_hz, f_hz - reach)
        hi = bisect.bisect_right(self._f_hz, f_hz + reach)
        return [
            e for e in self._entries[lo:hi]
            if abs(f_hz - e[0]) <= max(factor * e[1], floors.get(e[2].service, 0.0)) + slack_hz
        ]


@dataclass(frozen=True, slots=True)
class Registry:
    """Licences and foreign stations, as the rules see them."""

    licences: tuple[Licence, ...] = ()
    foreign: tuple[ForeignStation, ...] = ()
    _licence_index: _FrequencyIndex = field(init=False, repr=False, compare=False)
    _foreign_index: _FrequencyIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_licence_index", _FrequencyIndex(self.licences))
        object.__setattr__(self, "_foreign_index", _FrequencyIndex(self.foreign))

    def licences_near(self, f_hz: float, factor: float, slack_hz: float,
                      min_window_hz: Mapping[str, float] | None = None,
                      ) -> list[tuple[float, float, Licence]]:
        """Licences within max(``factor`` x their necessary bandwidth, the service's
        ``min_window_hz``) + ``slack_hz`` of ``f_hz``, as (assigned f_hz,
        necessary_bw_hz, licence)."""
        return self._licence_index.near(  # type: ignore[return-value]
            f_hz, factor, slack_hz, min_window_hz)

    def foreign_near(self, f_hz: float, factor: float, slack_hz: float,
                     min_window_hz: Mapping[str, float] | None = None,
                     ) -> list[tuple[float, float, ForeignStation]]:
        """Foreign stations near ``f_hz`` (see :meth:`licences_near`)."""
        return self._foreign_index.near(  # type: ignore[return-value]
            f_hz, factor, slack_hz, min_window_hz)

    @classmethod
    def from_files(cls, licences: Path | None, foreign: Path | None = None) -> Registry:
        """Read a licence file and optionally a foreign-station file (CSV or XLSX)."""
        return cls(
            licences=tuple(read_licences(licences)) if licences else (),
            foreign=tuple(read_foreign_stations(foreign)) if foreign else (),
        )


def _raster_hz(station: Licence | ForeignStation, reference: ReferenceData) -> float | None:
    """The channel raster of the plan of the station's service at its frequency."""
    for plan in reference.plans_at(station.f_hz):
        if plan.service == station.service and plan.raster_hz is not None:
            return plan.raster_hz
    return None


def match_window_hz(station: Licence | ForeignStation, reference: ReferenceData) -> float:
    """How far (Hz) from the assigned frequency an emission's centre may be for the
    station to explain it: max(factor x tolerance, fraction x raster), or the service's
    fixed ``match_window_min_hz`` where one is configured."""
    m = reference.tolerances.measurement
    fixed = m.match_window_min_hz.get(station.service)
    if fixed is not None:
        return fixed
    tolerance = reference.tolerances.tolerance_hz(station.service, station.f_hz)
    raster = _raster_hz(station, reference)
    return max(m.match_tolerance_factor * tolerance,
               m.match_raster_fraction * raster if raster is not None else 0.0)


def explains(station: Licence | ForeignStation, emission: Emission, reference: ReferenceData,
             slack_hz: float = 0.0) -> bool:
    """True when ``station`` explains ``emission`` (see the module notes).

    Parameters
    ----------
    station:
        A licence or a foreign station (assigned ``f_hz``, designator's necessary
        bandwidth).
    emission:
        The measured emission (``f_hz``, ``f_low_hz``..``f_high_hz``, Hz).
    reference:
        Tolerances, match-window settings and channel plans.
    slack_hz:
        The measurement's own frequency uncertainty, Hz, added to the window and to the
        channel edges.
    """
    offset_hz = abs(emission.f_hz - station.f_hz)
    if offset_hz > match_window_hz(station, reference) + slack_hz:
        return False
    if station.service in reference.tolerances.measurement.match_window_min_hz:
        return True
    half_hz = station.necessary_bw_hz / 2.0
    return (emission.f_high_hz > station.f_hz - half_hz - slack_hz
            and emission.f_low_hz < station.f_hz + half_hz + slack_hz)


def adjacent(emission: Emission, near: Sequence[Licence | ForeignStation]) -> Licence | None:
    """The licence nearest ``emission`` in frequency among ``near`` (the neighbours the
    registry found), for ``adjacent_licence``; ``None`` when there is none."""
    licences = [s for s in near if isinstance(s, Licence)]
    if not licences:
        return None
    return min(licences, key=lambda s: (abs(emission.f_hz - s.f_hz), s.licence_id))


def _save(session: Session, row_type: type, records: Sequence, columns: Sequence[str],
          replace: bool) -> int:
    if replace:
        session.execute(delete(row_type))
    for record in records:
        session.merge(row_type(**{c: getattr(record, c) for c in columns}))
    return len(records)


def save_licences(session: Session, licences: Sequence[Licence], *, replace: bool = False) -> int:
    """Insert or update licences by ``licence_id`` (all in the caller's transaction).

    With ``replace`` the table is emptied first. Returns the number written.
    """
    return _save(session, LicenceRow, licences, LICENCE_COLUMNS + LICENCE_BLOCK_COLUMNS,
                 replace)


def save_foreign_stations(
    session: Session, stations: Sequence[ForeignStation], *, replace: bool = False
) -> int:
    """Insert or update foreign stations by ``licence_id`` (caller's transaction)."""
    return _save(session, ForeignStationRow, stations, FOREIGN_COLUMNS, replace)


def load_licences(session: Session) -> list[Licence]:
    """All licences, ordered by id."""
    rows = session.scalars(select(LicenceRow).order_by(LicenceRow.licence_id))
    columns = LICENCE_COLUMNS + LICENCE_BLOCK_COLUMNS
    return [Licence.model_validate({c: getattr(r, c) for c in columns}) for r in rows]


def load_foreign_stations(session: Session) -> list[ForeignStation]:
    """All foreign stations, ordered by id."""
    rows = session.scalars(select(ForeignStationRow).order_by(ForeignStationRow.licence_id))
    return [
        ForeignStation.model_validate({c: getattr(r, c) for c in FOREIGN_COLUMNS}) for r in rows
    ]


def load_registry(session: Session) -> Registry:
    """The whole registry from the database."""
    return Registry(tuple(load_licences(session)), tuple(load_foreign_stations(session)))
