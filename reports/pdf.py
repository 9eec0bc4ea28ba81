"""A :class:`reports.tables.Document` as PDF through WeasyPrint (HTML + CSS).

The heading is that of a Vietnamese administrative record (Nghị định 30/2020/NĐ-CP,
Phụ lục I): the issuing body on the left, the national name and motto on the right,
the number under the body, place and date under the motto, then the title; the
signature block closes it. Fonts: DejaVu (installed by the set-up), which covers
every Vietnamese letter with its stacked diacritics. Pictures are embedded as PNG.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from reports.i18n import text
from reports.tables import Document, Table

__all__ = ["render_pdf", "to_html"]

_CSS = """
@page { size: A4; margin: 18mm 15mm 18mm 20mm;
        @bottom-right { content: counter(page) "/" counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Serif", serif; font-size: 10pt; color: #000; }
table.heading { width: 100%; border: none; margin-bottom: 6mm; }
table.heading td { border: none; text-align: center; vertical-align: top; padding: 0; }
.body-name { font-weight: bold; }
.national { font-weight: bold; }
.motto { font-weight: bold; text-decoration: underline; }
.date { font-style: italic; margin-top: 2mm; }
h1 { text-align: center; font-size: 14pt; margin: 4mm 0 1mm 0; }
.subtitle { text-align: center; margin-bottom: 5mm; }
h2 { font-size: 11.5pt; margin: 5mm 0 2mm 0; }
table.data { width: 100%; border-collapse: collapse; font-family: "DejaVu Sans", sans-serif;
             font-size: 7.5pt; margin-bottom: 3mm; }
table.data th, table.data td { border: 0.5pt solid #555; padding: 1mm 1.2mm;
                               vertical-align: top; overflow-wrap: break-word; }
table.data th { background: #e8e8e8; }
td.num { text-align: right; white-space: nowrap; }
td.long { word-break: break-all; }
figure { margin: 3mm 0; page-break-inside: avoid; text-align: center; }
figure img { max-width: 100%; }
figcaption { font-size: 8.5pt; font-style: italic; }
table.sign { width: 100%; margin-top: 10mm; page-break-inside: avoid; }
table.sign td { border: none; text-align: center; width: 50%; height: 30mm;
                vertical-align: top; }
.generated { font-size: 7pt; color: #555; margin-top: 6mm; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(t: Table, lang: str) -> str:
    head = "" if not any(t.headers) else (
        "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in t.headers) + "</tr>")
    body = []
    for raw, row in zip(t.rows, t.text_rows(), strict=True):
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if isinstance(r, int | float)
            # A path or a checksum is one long word: let it break anywhere, or the
            # table runs off the page.
            else f'<td class="long">{_e(v)}</td>' if max(map(len, v.split()), default=0) > 24
            else f"<td>{_e(v)}</td>"
            for r, v in zip(raw, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(t.headers)}">{_e(text("none", lang))}</td></tr>')
    return f'<h2>{_e(t.title)}</h2><table class="data">{head}{"".join(body)}</table>'


def to_html(doc: Document) -> str:
    """The report as one HTML page (pictures inline)."""
    lang = doc.lang
    d = doc.issued
    date_line = text("date_line", lang, place=text("place", lang), d=d.day, m=d.month,
                     y=d.year, iso=d.date().isoformat())
    heading = (
        '<table class="heading"><tr>'
        f'<td style="width:42%"><div>{_e(text("parent_body", lang))}</div>'
        f'<div class="body-name">{_e(text("issuing_body", lang))}</div>'
        f'<div>{_e(text("number", lang, ref=doc.reference))}</div></td>'
        f'<td><div class="national">{_e(text("national_name", lang))}</div>'
        f'<div class="motto">{_e(text("motto", lang))}</div>'
        f'<div class="date">{_e(date_line)}</div></td>'
        "</tr></table>"
    )
    parts = [heading, f"<h1>{_e(doc.title)}</h1>", f'<div class="subtitle">{_e(doc.subtitle)}'
             "</div>"]
    parts += [_table(t, lang) for t in doc.tables]
    if doc.figures:
        parts.append(f"<h2>{_e(text('figures', lang))}</h2>")
        for fig in doc.figures:
            b64 = base64.b64encode(fig.png).decode("ascii")
            parts.append(f'<figure><img src="data:image/png;base64,{b64}" alt="{_e(fig.key)}">'
                         f"<figcaption>{_e(fig.title)}</figcaption></figure>")
    hint = _e(text("sign_hint", lang))
    parts.append(
        '<table class="sign"><tr>'
        f'<td><b>{_e(text("sign_inspector", lang))}</b><br><i>{hint}</i></td>'
        f'<td><b>{_e(text("sign_head", lang))}</b><br><i>{hint}</i></td>'
        "</tr></table>"
    )
    parts.append(f'<div class="generated">{_e(doc.generated)}</div>')
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{_e(doc.title)}</title><style>{_CSS}</style></head><body>"
            + "".join(parts) + "</body></html>")


def render_pdf(doc: Document, path: Path) -> Path:
    """Write the report as PDF at ``path``."""
    from weasyprint import HTML

    HTML(string=to_html(doc)).write_pdf(str(path))
    return path
