"""A field kit's own copy of the registry, and the check it makes on the spot.

The kit keeps the licences and foreign stations in its station folder
(``<home>/stations/<id>/registry/licences.csv`` and ``foreign.csv``, the import
files' format), filled either from the centre when online (:func:`pull_snapshot`,
``GET /api/v1/stations/{id}/registry`` with the station's own token) or from files
(:func:`import_snapshot`). :class:`FieldChecker` classifies each emission against it
with :func:`compliance.classify.classify` and :func:`compliance.rules.findings_for`,
offline, for the live panel and the log. It opens no case: the centre classifies
again on ingest, and that check is the one that opens cases.

Reference data (tolerances, channel plans, exempt bands) is the package's own, the
same files the centre ships with.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import ValidationError

from compliance.classify import classify
from compliance.importers import (
    read_foreign_stations,
    read_licences,
    write_foreign_stations,
    write_licences,
)
from compliance.records import ForeignStation, Licence
from compliance.reference import ReferenceData, load_reference_data
from compliance.registry import Registry
from compliance.rules import findings_for
from dsp.errors import ConfigError, InputFormatError, RfwatchError
from dsp.types import GeoPosition
from stations.batch import EmissionItem, check_station_id

__all__ = [
    "FOREIGN_FILE",
    "LICENCES_FILE",
    "REGISTRY_PATH",
    "FieldChecker",
    "FieldVerdict",
    "SnapshotInfo",
    "import_snapshot",
    "load_snapshot",
    "pull_snapshot",
    "registry_dir",
    "write_snapshot",
]

log = logging.getLogger(__name__)

LICENCES_FILE = "licences.csv"
FOREIGN_FILE = "foreign.csv"
INFO_FILE = "snapshot.json"
#: The centre's endpoint (``{station_id}`` filled in).
REGISTRY_PATH = "/api/v1/stations/{station_id}/registry"


def registry_dir(home: Path, station_id: str) -> Path:
    """The folder of a station's registry snapshot under the rfwatch home."""
    check_station_id(station_id)
    return Path(home) / "stations" / station_id / "registry"


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """Where a snapshot came from and what it holds."""

    source: str
    n_licences: int
    n_foreign: int


def write_snapshot(folder: Path, licences: list[Licence], foreign: list[ForeignStation],
                   *, source: str) -> SnapshotInfo:
    """Replace the snapshot in ``folder`` (each file written aside, then renamed in,
    so a kit that stops half-way keeps its old snapshot whole)."""
    folder.mkdir(parents=True, exist_ok=True)
    info = SnapshotInfo(source=source, n_licences=len(licences), n_foreign=len(foreign))
    tmp_l, tmp_f = folder / ("." + LICENCES_FILE), folder / ("." + FOREIGN_FILE)
    write_licences(tmp_l, licences)
    write_foreign_stations(tmp_f, foreign)
    tmp_i = folder / ("." + INFO_FILE)
    written = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    tmp_i.write_text(json.dumps({"source": source, "written_utc": written,
                                 "n_licences": info.n_licences, "n_foreign": info.n_foreign}),
                     encoding="utf-8")
    os.replace(tmp_l, folder / LICENCES_FILE)
    os.replace(tmp_f, folder / FOREIGN_FILE)
    os.replace(tmp_i, folder / INFO_FILE)
    return info


def import_snapshot(folder: Path, licences: Path, foreign: Path | None = None) -> SnapshotInfo:
    """Fill the snapshot from a licence file (and a foreign-station file), offline.

    Raises
    ------
    InputFormatError
        Naming the file, line and field (nothing is replaced then).
    """
    records = read_licences(licences)
    stations = read_foreign_stations(foreign) if foreign is not None else []
    return write_snapshot(folder, records, stations, source=f"import {Path(licences).name}")


def pull_snapshot(folder: Path, *, url: str, token: str, station_id: str,
                  client: httpx.Client | None = None, timeout_s: float = 30.0) -> SnapshotInfo:
    """Fill the snapshot from the centre (``url``), with the station's own token.

    ``client``: an ``httpx.Client`` (a fresh one by default; tests pass the app's).

    Raises
    ------
    RfwatchError
        One line: the centre unreachable, the token refused, or an answer that is not
        a registry (the old snapshot is kept then).
    """
    check_station_id(station_id)
    own = client is None
    http = client or httpx.Client(timeout=timeout_s)
    target = url.rstrip("/") + REGISTRY_PATH.format(station_id=station_id)
    try:
        r = http.get(target, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as err:
        raise RfwatchError(
            f"không tới được trung tâm / cannot reach the centre at {url}: "
            f"{type(err).__name__}") from err
    finally:
        if own:
            http.close()
    if r.status_code in (401, 403):
        raise ConfigError(
            f"Trung tâm từ chối mã truy cập / the centre refused the token of {station_id} "
            f"(HTTP {r.status_code})")
    if r.status_code != 200:
        raise RfwatchError(f"trung tâm trả lời / the centre answered HTTP {r.status_code}")
    try:
        body = r.json()
        licences = [Licence.model_validate(x) for x in body["licences"]]
        foreign = [ForeignStation.model_validate(x) for x in body["foreign"]]
    except (ValueError, KeyError, TypeError, ValidationError) as err:
        raise InputFormatError(
            f"{target}: không phải sổ đăng ký / not a registry: {str(err).splitlines()[0][:200]}"
        ) from err
    return write_snapshot(folder, licences, foreign, source=f"centre {url}")


def load_snapshot(folder: Path) -> Registry | None:
    """The snapshot's registry, or ``None`` when the folder holds none."""
    lic = folder / LICENCES_FILE
    if not lic.is_file():
        return None
    foreign = folder / FOREIGN_FILE
    return Registry.from_files(lic, foreign if foreign.is_file() else None)


@dataclass(frozen=True, slots=True)
class FieldVerdict:
    """What the kit made of one emission: its class and the kinds of its findings."""

    emitter_class: str
    finding_kinds: tuple[str, ...]


class FieldChecker:
    """Classify emissions against a registry snapshot, offline (no case is opened)."""

    def __init__(self, registry: Registry, reference: ReferenceData | None = None,
                 *, description: str = "") -> None:
        self.registry = registry
        self.reference = reference if reference is not None else load_reference_data()
        #: What the live panel says of the snapshot.
        self.description = description or (
            f"{len(registry.licences)} giấy phép / licences, "
            f"{len(registry.foreign)} đài nước ngoài / foreign stations")

    @classmethod
    def from_folder(cls, folder: Path) -> FieldChecker | None:
        """The checker of the snapshot in ``folder``; ``None`` when there is none."""
        registry = load_snapshot(folder)
        if registry is None:
            return None
        source = ""
        info = folder / INFO_FILE
        if info.is_file():
            try:
                meta = json.loads(info.read_text(encoding="utf-8"))
                source = ", ".join(str(meta[k])[:80] for k in ("source", "written_utc")
                                   if meta.get(k))
            except (ValueError, AttributeError, TypeError):
                source = ""
        checker = cls(registry)
        if source:
            checker.description += f" ({source})"
        return checker

    def check(self, item: EmissionItem, station_id: str) -> FieldVerdict:
        """The class and finding kinds of one emission item, as the centre would see it."""
        emission = item.to_emission(station_id)
        p = item.position
        site = None if p is None else GeoPosition(p.lat_deg, p.lon_deg, p.alt_m)
        c = classify(emission, self.registry, self.reference, site=site)
        kinds = tuple(sorted({f.kind for f in findings_for(c, self.reference, site=site)}))
        return FieldVerdict(c.emitter_class, kinds)
