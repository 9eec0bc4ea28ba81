"""Write a report in the format its file name asks for: ``.pdf`` or ``.xlsx``."""

from __future__ import annotations

from pathlib import Path

from dsp.errors import ParameterError
from reports.tables import Document

__all__ = ["FORMATS", "render", "report_format"]

FORMATS = (".pdf", ".xlsx")


def report_format(path: Path) -> str:
    """``.pdf`` or ``.xlsx`` from the file name, else ParameterError naming ``--out``."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ParameterError(
            f"--out phải là .pdf hoặc .xlsx / --out must end in .pdf or .xlsx: {path}"
        )
    return suffix


def render(doc: Document, path: Path) -> Path:
    """Write ``doc`` to ``path`` as PDF or XLSX by its extension."""
    suffix = report_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        from reports.pdf import render_pdf

        return render_pdf(doc, path)
    from reports.xlsx import render_xlsx

    return render_xlsx(doc, path)
