"""A :class:`reports.tables.Document` as an Excel workbook (openpyxl).

One sheet per table (the first also carries the heading lines), numbers stored as
numbers rounded to the decimals the PDF shows, with a matching number format; one
sheet with the pictures.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.i18n import text
from reports.tables import Document

__all__ = ["render_xlsx", "SHEET_TITLES"]

#: Sheet names (Excel allows 31 characters, no Vietnamese limits).
SHEET_TITLES = {
    "summary": "summary", "stations": "stations", "occupancy": "occupancy",
    "classes": "classes", "cases": "cases", "findings": "findings", "history": "history",
    "evidence": "evidence", "licence": "licence",
}


def render_xlsx(doc: Document, path: Path) -> Path:
    """Write the report as XLSX at ``path``."""
    lang = doc.lang
    wb = Workbook()
    first = True
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8E8E8")
    for table in doc.tables:
        ws = wb.active if first else wb.create_sheet()
        ws.title = SHEET_TITLES.get(table.key, table.key)[:31]
        row = 1
        if first:
            for line in (text("national_name", lang), text("motto", lang),
                         text("issuing_body", lang), doc.title, doc.subtitle,
                         text("number", lang, ref=doc.reference), doc.generated):
                ws.cell(row=row, column=1, value=line).font = bold
                row += 1
            row += 1
            first = False
        ws.cell(row=row, column=1, value=table.title).font = Font(bold=True, size=12)
        row += 1
        if any(table.headers):
            for col, header in enumerate(table.headers, start=1):
                cell = ws.cell(row=row, column=col, value=header)
                cell.font = bold
                cell.fill = fill
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
        for values in table.rows:
            for col, (value, decimals) in enumerate(zip(values, table.decimals, strict=True),
                                                    start=1):
                if isinstance(value, float) and decimals is not None:
                    cell = ws.cell(row=row, column=col, value=round(value, decimals))
                    cell.number_format = "0" if decimals == 0 else "0." + "0" * decimals
                else:
                    ws.cell(row=row, column=col, value=value)
            row += 1
        for col in range(1, len(table.headers) + 1):
            ws.column_dimensions[get_column_letter(col)].width = 18
    if doc.figures:
        ws = wb.create_sheet("figures")
        row = 1
        for fig in doc.figures:
            ws.cell(row=row, column=1, value=fig.title).font = bold
            img = Image(io.BytesIO(fig.png))
            img.anchor = f"A{row + 1}"
            ws.add_image(img)
            row += 2 + int(img.height / 20) + 1
    wb.save(str(path))
    return path
