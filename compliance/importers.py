"""Import and export of the licence registry and the foreign-station list (CSV, XLSX).

Imports are all-or-nothing: every row is validated first and *all* bad rows are named
in one :class:`~dsp.errors.InputFormatError` (file, line, field, what is wrong); only
a file without errors yields records. The CSV format:

- text encoding: UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's "Unicode
  text") or without one (detected from the NUL bytes), else a Windows code page:
  cp1258 when the bytes look Vietnamese (its letters ă ơ ư đ or its combining tone
  marks), else cp1252 (a superset of Latin-1 for text). ``encoding=`` (``--encoding``
  on the command line) overrides the detection;
- comma separated (a tab-separated file, as Excel's "Unicode text" writes, is
  recognised from its header line), one header line;
- the header must contain the names of :data:`~compliance.records.LICENCE_COLUMNS`
  (``licence_id,licensee,station_name,service,f_hz,emission,erp_w,lat,lon,
  antenna_height_m,valid_from,valid_to,status``), or their Vietnamese aliases
  (:data:`~compliance.records.COLUMN_ALIASES`: ``Số giấy phép``, ``Tần số (Hz)``,
  ``Vĩ độ``, ...); extra columns are ignored, except the optional band-licence
  columns ``f_low_hz,f_high_hz`` (a block; ``f_hz`` may then be empty);
- ``f_hz`` in Hz (a value below 9 kHz, such as ``163.450``, is refused with a hint
  that it looks like MHz), ``erp_w`` in W, ``lat``/``lon`` in decimal degrees,
  ``valid_*`` ISO dates (``2026-01-31``; ``valid_to`` may be empty: no expiry),
  ``status`` one of ``valid|suspended|revoked``, ``service`` one of
  :data:`~compliance.services.SERVICES` (or a Vietnamese alias), ``emission`` an
  RR Appendix 1 designator (``16K0F3E``);
- ``erp_w``, ``lat``/``lon`` (together) and ``antenna_height_m`` may be empty.

The foreign-station list uses :data:`~compliance.records.FOREIGN_COLUMNS` (the same
minus ``licensee,status,valid_*``, plus ``country``). XLSX files hold the same
columns in the first sheet, header in row 1 (numbers keep the 16 significant digits
openpyxl writes; CSV keeps every digit).

Exports neutralise formula injection: a text cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is written with a leading ``'`` in CSV (a
spreadsheet shows it as text; :func:`read_licences` takes the ``'`` off again, so an
export reads back exactly) and as a string cell in XLSX.
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from compliance.records import (
    FOREIGN_COLUMNS,
    LICENCE_BLOCK_COLUMNS,
    LICENCE_COLUMNS,
    ForeignStation,
    Licence,
    canonical_column,
)
from dsp.errors import InputFormatError

__all__ = [
    "detect_encoding",
    "neutralise_formula",
    "read_licences",
    "write_licences",
    "read_foreign_stations",
    "write_foreign_stations",
]

R = TypeVar("R", bound=BaseModel)

#: At most this many row errors are spelled out in one message (the count is always given).
_MAX_LISTED = 50


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Bytes of cp1258 that are Vietnamese letters (Ă ă Đ đ Ơ ơ Ư ư), its combining
#: tone marks (0xCC 0xD2 0xDE 0xEC 0xF2) or the dong sign (0xFE): cp1252 has other
#: letters there.
_CP1258_MARKERS = frozenset(b"\xc3\xe3\xd0\xf0\xd5\xf5\xdd\xfd\xcc\xd2\xde\xec\xf2\xfe")


def _needs_quote(text: str) -> bool:
    if text[:1] in _FORMULA_START:
        return True
    return text[:1] == "'" and _needs_quote(text[1:])


def neutralise_formula(text: str) -> str:
    """``text`` as a spreadsheet shows it as text: a leading ``'`` before ``= + - @``.

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(1)"), neutralise_formula("Đài Lạng Sơn")
    ("'=HYPERLINK(1)", 'Đài Lạng Sơn')
    """
    return "'" + text if _needs_quote(text) else text


def _unquote(text: str) -> str:
    return text[1:] if text[:1] == "'" and _needs_quote(text[1:]) else text


def detect_encoding(data: bytes) -> str:
    """The text encoding of a CSV file's bytes (see the module notes).

    Examples
    --------
    >>> detect_encoding("Tần số".encode("utf-8")), detect_encoding(b"\\xff\\xfea\\x00")
    ('utf-8', 'utf-16')
    >>> detect_encoding("Société".encode("latin-1"))
    'cp1252'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:4096]
    if head and head.count(0) >= len(head) // 4:
        # UTF-16 without a BOM: every other byte of ASCII text is NUL.
        even_nul = head[0::2].count(0)
        return "utf-16-be" if even_nul > head[1::2].count(0) else "utf-16-le"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    if any(b in _CP1258_MARKERS for b in data):
        return "cp1258"
    return "cp1252"


def _decode(path: Path, encoding: str | None) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputFormatError(f"không mở được tệp / cannot open: {err.strerror}",
                               source=str(path)) from err
    chosen = encoding or detect_encoding(data)
    try:
        text = data.decode(chosen)
    except LookupError as err:
        raise InputFormatError(f"không biết bảng mã / unknown encoding {encoding!r} "
                               "(e.g. utf-8, utf-16, cp1258, cp1252)",
                               source=str(path), field="encoding") from err
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputFormatError(
            f"không giải mã được theo {chosen} / cannot decode as {chosen} at byte "
            f"{err.start}; give the file's encoding with --encoding (utf-8, utf-16, "
            f"cp1258, cp1252)", source=str(path), line=line, field="encoding") from err
    text = text.removeprefix("\ufeff")
    if chosen.replace("-", "").lower() in ("cp1258", "windows1258"):
        # cp1258 writes Vietnamese tones as combining marks: compose them (NFC) so that
        # names compare equal to the same names typed elsewhere.
        text = unicodedata.normalize("NFC", text)
    return text


def _csv_rows(path: Path, encoding: str | None = None,
              ) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    text = _decode(path, encoding)
    lines = text.splitlines(keepends=True)
    first = lines[0] if lines else ""
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputFormatError("tệp rỗng / empty file (no header line)",
                               source=str(path), line=1) from None
    except csv.Error as err:
        raise InputFormatError(f"CSV lỗi / malformed CSV: {err}", source=str(path),
                               line=1) from err
    header = [canonical_column(h) for h in header]

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
            yield reader.line_num, dict(zip(header, [_unquote(v) for v in values],
                                            strict=True))

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
    header = [canonical_column(_cell_text(h)) for h in all_rows[0]]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for number, values in enumerate(all_rows[1:], start=2):
            texts = [_cell_text(v) for v in values]
            if not any(t.strip() for t in texts):
                continue
            texts += [""] * (len(header) - len(texts))
            yield number, dict(zip(header, texts[: len(header)], strict=True))

    return header, rows()


def _model_error_field(msg: str, data: dict[str, str]) -> str:
    """The field a whole-row error is about: the column its message starts with."""
    first = msg.split(" ", 1)[0]
    return first if first in data else "lat/lon"


def _read(path: Path, model: type[R], columns: Sequence[str], key: str,
          optional: Sequence[str] = (), encoding: str | None = None) -> list[R]:
    path = Path(path)
    is_xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    header, rows = _xlsx_rows(path) if is_xlsx else _csv_rows(path, encoding)
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
        data.update({c: row[c] for c in optional if c in row})
        try:
            record = model.model_validate(data)
        except ValidationError as err:
            for e in err.errors():
                msg = e["msg"].removeprefix("Value error, ")
                field = ".".join(str(p) for p in e["loc"]) or _model_error_field(msg, data)
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
    return neutralise_formula(str(value))


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
                if isinstance(cell.value, str) and cell.value[:1] in _FORMULA_START:
                    # Text, not a formula: a name like "=X" must come back as written
                    # (and a registry export must never carry live formulas).
                    cell.data_type = "s"
        book.save(path)
        return
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def read_licences(path: Path, *, encoding: str | None = None) -> list[Licence]:
    """Read and validate a licence CSV or XLSX file (all-or-nothing).

    ``encoding`` overrides the detection for CSV (see the module notes).

    Raises
    ------
    InputFormatError
        Naming the file and every bad line (row) and field; nothing is returned then.
    """
    return _read(path, Licence, LICENCE_COLUMNS, "licence_id", LICENCE_BLOCK_COLUMNS,
                 encoding)


def write_licences(path: Path, licences: Sequence[Licence]) -> None:
    """Write licences as CSV, or XLSX when ``path`` ends in ``.xlsx``.

    The band-licence columns ``f_low_hz,f_high_hz`` follow the fixed header only when
    some licence is a block, so a file of plain licences keeps the fixed header.
    """
    blocks = any(getattr(r, "is_block", False) for r in licences)
    _write(path, licences, LICENCE_COLUMNS + (LICENCE_BLOCK_COLUMNS if blocks else ()))


def read_foreign_stations(path: Path, *, encoding: str | None = None) -> list[ForeignStation]:
    """Read and validate a foreign-station CSV or XLSX file (all-or-nothing)."""
    return _read(path, ForeignStation, FOREIGN_COLUMNS, "licence_id", encoding=encoding)


def write_foreign_stations(path: Path, stations: Sequence[ForeignStation]) -> None:
    """Write foreign stations as CSV, or XLSX when ``path`` ends in ``.xlsx``."""
    _write(path, stations, FOREIGN_COLUMNS)
