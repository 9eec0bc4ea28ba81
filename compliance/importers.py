"""Import and export of the licence registry and the foreign-station list (CSV, XLSX).

Imports are all-or-nothing: every row is validated first and *all* bad rows are named
in one :class:`~dsp.errors.InputFormatError` (file, line, field, what is wrong); only
a file without errors yields records. The CSV format:

- UTF-8 (a BOM, as Excel writes it, is accepted), comma separated, one header line;
- the header must contain exactly the names of :data:`~compliance.records.LICENCE_COLUMNS`
  (``licence_id,licensee,station_name,service,f_hz,emission,erp_w,lat,lon,
  antenna_height_m,valid_from,valid_to,status``); extra columns are ignored;
- ``f_hz`` in Hz, ``erp_w`` in W, ``lat``/``lon`` in decimal degrees,
  ``valid_*`` ISO dates (``2026-01-31``; ``valid_to`` may be empty: no expiry),
  ``status`` one of ``valid|suspended|revoked``, ``service`` one of
  :data:`~compliance.services.SERVICES` (or a Vietnamese alias), ``emission`` an
  RR Appendix 1 designator (``16K0F3E``);
- ``erp_w``, ``lat``/``lon`` (together) and ``antenna_height_m`` may be empty.

The foreign-station list uses :data:`~compliance.records.FOREIGN_COLUMNS` (the same
minus ``licensee,status,valid_*``, plus ``country``). XLSX files hold the same
columns in the first sheet, header in row 1 (numbers keep the 16 significant digits
openpyxl writes; CSV keeps every digit).
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from compliance.records import FOREIGN_COLUMNS, LICENCE_COLUMNS, ForeignStation, Licence
from dsp.errors import InputFormatError

__all__ = [
    "read_licences",
    "write_licences",
    "read_foreign_stations",
    "write_foreign_stations",
]

R = TypeVar("R", bound=BaseModel)

#: At most this many row errors are spelled out in one message (the count is always given).
_MAX_LISTED = 50


def _csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise InputFormatError(f"không mở được tệp / cannot open: {err.strerror}",
                               source=str(path)) from err
    text = handle.read()
    handle.close()
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        raise InputFormatError("tệp rỗng / empty file (no header line)",
                               source=str(path), line=1) from None
    except csv.Error as err:
        raise InputFormatError(f"CSV lỗi / malformed CSV: {err}", source=str(path),
                               line=1) from err
    header = [h.strip() for h in header]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                raise InputFormatError(f"CSV lỗi / malformed CSV: {err}", source=str(path),
                                       line=reader.line_num) from err
            if not any(v.strip() for v in values):
                continue  # blank lines are not rows
            if len(values) != len(header):
                yield reader.line_num, {"__width__": f"{len(values)} fields, header has "
                                        f"{len(header)}"}
                continue
            yield reader.line_num, dict(zip(header, values, strict=True))

    return header, rows()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if abs(value) >= 1 else repr(value)
    return str(value)


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise InputFormatError(f"không đọc được tệp XLSX / unreadable XLSX: {err}",
                               source=str(path)) from err
    sheet = book.worksheets[0]
    all_rows = list(sheet.iter_rows(values_only=True))
    book.close()
    if not all_rows:
        raise InputFormatError("bảng tính rỗng / empty sheet (no header row)",
                               source=str(path), line=1)
    header = [_cell_text(h).strip() for h in all_rows[0]]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for number, values in enumerate(all_rows[1:], start=2):
            texts = [_cell_text(v) for v in values]
            if not any(t.strip() for t in texts):
                continue
            texts += [""] * (len(header) - len(texts))
            yield number, dict(zip(header, texts[: len(header)], strict=True))

    return header, rows()


def _read(path: Path, model: type[R], columns: Sequence[str], key: str) -> list[R]:
    path = Path(path)
    is_xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    header, rows = _xlsx_rows(path) if is_xlsx else _csv_rows(path)
    unit = "row" if is_xlsx else "line"
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputFormatError(
            f"thiếu cột / missing column(s) {', '.join(missing)}; the header must contain "
            f"{','.join(columns)}",
            source=str(path),
            line=1,
            field=missing[0],
        )
    records: list[R] = []
    errors: list[tuple[int, str, str]] = []  # (line, field, message)
    seen: dict[str, int] = {}
    for line, row in rows:
        if "__width__" in row:
            errors.append((line, "", f"wrong number of fields ({row['__width__']})"))
            continue
        data = {c: row[c] for c in columns}
        try:
            record = model.model_validate(data)
        except ValidationError as err:
            for e in err.errors():
                field = ".".join(str(p) for p in e["loc"]) or "lat/lon"
                msg = e["msg"].removeprefix("Value error, ")
                errors.append((line, field, f"{msg} (got {data.get(field, '')!r})"
                               if field in data else msg))
            continue
        ident = getattr(record, key)
        if ident in seen:
            errors.append((line, key, f"duplicate {key} {ident!r} (first on {unit} "
                                      f"{seen[ident]})"))
            continue
        seen[ident] = line
        records.append(record)
    if errors:
        listed = "; ".join(
            f"{unit} {line}" + (f" field {field!r}" if field else "") + f": {msg}"
            for line, field, msg in errors[:_MAX_LISTED]
        )
        more = f"; … and {len(errors) - _MAX_LISTED} more" if len(errors) > _MAX_LISTED else ""
        bad_lines = len({e[0] for e in errors})
        raise InputFormatError(
            f"{bad_lines} dòng lỗi, không nhập gì / {bad_lines} bad {unit}(s), nothing "
            f"imported: {listed}{more}",
            source=str(path),
            line=errors[0][0],
            field=errors[0][1] or None,
        )
    return records


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _write(path: Path, records: Sequence[BaseModel], columns: Sequence[str]) -> None:
    path = Path(path)
    rows = [[_text(getattr(r, c)) for c in columns] for r in records]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(list(columns))
        for row, record in enumerate(records, start=2):
            for col, name in enumerate(columns, start=1):
                cell = sheet.cell(row=row, column=col, value=getattr(record, name))
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    # Text, not a formula: a name like "=X" must come back as written
                    # (and a registry export must never carry live formulas).
                    cell.data_type = "s"
        book.save(path)
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def read_licences(path: Path) -> list[Licence]:
    """Read and validate a licence CSV or XLSX file (all-or-nothing).

    Raises
    ------
    InputFormatError
        Naming the file and every bad line (row) and field; nothing is returned then.
    """
    return _read(path, Licence, LICENCE_COLUMNS, "licence_id")


def write_licences(path: Path, licences: Sequence[Licence]) -> None:
    """Write licences as CSV, or XLSX when ``path`` ends in ``.xlsx``."""
    _write(path, licences, LICENCE_COLUMNS)


def read_foreign_stations(path: Path) -> list[ForeignStation]:
    """Read and validate a foreign-station CSV or XLSX file (all-or-nothing)."""
    return _read(path, ForeignStation, FOREIGN_COLUMNS, "licence_id")


def write_foreign_stations(path: Path, stations: Sequence[ForeignStation]) -> None:
    """Write foreign stations as CSV, or XLSX when ``path`` ends in ``.xlsx``."""
    _write(path, stations, FOREIGN_COLUMNS)
