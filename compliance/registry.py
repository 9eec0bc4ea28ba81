"""The registry the rules match against: licences and foreign stations, from files or
from the relational database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from compliance.importers import read_foreign_stations, read_licences
from compliance.models import ForeignStationRow, LicenceRow
from compliance.records import FOREIGN_COLUMNS, LICENCE_COLUMNS, ForeignStation, Licence

__all__ = [
    "Registry",
    "save_licences",
    "load_licences",
    "save_foreign_stations",
    "load_foreign_stations",
    "load_registry",
]


@dataclass(frozen=True, slots=True)
class Registry:
    """Licences and foreign stations, as the rules see them."""

    licences: tuple[Licence, ...] = ()
    foreign: tuple[ForeignStation, ...] = ()

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
    return _save(session, LicenceRow, licences, LICENCE_COLUMNS, replace)


def save_foreign_stations(
    session: Session, stations: Sequence[ForeignStation], *, replace: bool = False
) -> int:
    """Insert or update foreign stations by ``licence_id`` (caller's transaction)."""
    return _save(session, ForeignStationRow, stations, FOREIGN_COLUMNS, replace)


def load_licences(session: Session) -> list[Licence]:
    """All licences, ordered by id."""
    rows = session.scalars(select(LicenceRow).order_by(LicenceRow.licence_id))
    return [Licence.model_validate({c: getattr(r, c) for c in LICENCE_COLUMNS}) for r in rows]


def load_foreign_stations(session: Session) -> list[ForeignStation]:
    """All foreign stations, ordered by id."""
    rows = session.scalars(select(ForeignStationRow).order_by(ForeignStationRow.licence_id))
    return [
        ForeignStation.model_validate({c: getattr(r, c) for c in FOREIGN_COLUMNS}) for r in rows
    ]


def load_registry(session: Session) -> Registry:
    """The whole registry from the database."""
    return Registry(tuple(load_licences(session)), tuple(load_foreign_stations(session)))
