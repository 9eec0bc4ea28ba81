"""The registry the rules match against: licences and foreign stations, from files or
from the relational database.
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

__all__ = [
    "Registry",
    "save_licences",
    "load_licences",
    "save_foreign_stations",
    "load_foreign_stations",
    "load_registry",
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
