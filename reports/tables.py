"""A report as titled tables and pictures: the one layout both PDF and XLSX draw.

Numbers stay numbers here, with the decimals each column is shown with
(:func:`fmt`); the PDF prints ``fmt(value)`` and the XLSX stores the value rounded
to the same decimals with a matching number format, so both say the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from reports import charts
from reports.data import InspectionReport, PeriodReport, SpectrumSeries
from reports.i18n import Lang, label, text

__all__ = ["Cell", "Document", "Figure", "Table", "fmt", "inspection_document",
           "period_document", "iso_utc", "VN_TZ"]

Cell = str | int | float | None
#: Vietnam's civil time (UTC+7, no daylight saving): the date of the record.
VN_TZ = dt.timezone(dt.timedelta(hours=7))


def iso_utc(t_ns: int | None) -> str:
    """``YYYY-MM-DD HH:MM:SSZ`` of UTC ns (``-`` for None)."""
    if t_ns is None:
        return "-"
    return dt.datetime.fromtimestamp(t_ns // 1_000_000_000, tz=dt.UTC).strftime(
        "%Y-%m-%d %H:%M:%SZ")


def fmt(value: Cell, decimals: int | None = None) -> str:
    """A cell as text: floats with ``decimals`` places, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, float) and decimals is not None:
        return f"{value:.{decimals}f}"
    return str(value)


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    #: Decimals of each column (None: shown as it is).
    decimals: list[int | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.decimals:
            self.decimals = [None] * len(self.headers)

    def text_rows(self) -> list[list[str]]:
        return [[fmt(v, d) for v, d in zip(row, self.decimals, strict=True)]
                for row in self.rows]


@dataclass
class Figure:
    key: str
    title: str
    png: bytes


@dataclass
class Document:
    """A report ready to draw: heading, tables, pictures, signature block."""

    lang: Lang
    title: str
    subtitle: str
    reference: str
    issued: dt.datetime
    tables: list[Table]
    figures: list[Figure]
    generated: str


def _heading_bits(lang: Lang, generated_ns: int) -> tuple[dt.datetime, str]:
    issued = dt.datetime.fromtimestamp(generated_ns / 1e9, tz=VN_TZ)
    return issued, text("generated", lang, t=iso_utc(generated_ns))


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100.0 * x, 2)


def _findings_table(lang: Lang, findings: Sequence[dict], *, with_case: bool = True) -> Table:
    table = Table(
        "findings", text("findings", lang),
        [text(k, lang) for k in ("col_case", "col_kind_finding", "col_station", "col_time",
                                 "col_f_mhz", "col_measured", "col_permitted", "col_unit",
                                 "col_severity", "col_legal")],
        [[f["case_id"], label("kind", f["kind"], lang), f["station"], iso_utc(f["t_ns"]),
          f["f_hz"] / 1e6, f["measured"], f["permitted"], f["unit"], f["severity"],
          f["legal_basis"]] for f in findings],
        [None, None, None, None, 4, 2, 2, None, None, None],
    )
    if not with_case:  # one case's record: the case is in the heading
        table.headers = table.headers[1:]
        table.rows = [r[1:] for r in table.rows]
        table.decimals = table.decimals[1:]
    return table


def _case_rows(lang: Lang, cases: Sequence) -> Table:
    return Table(
        "cases", text("cases", lang),
        [text(k, lang) for k in ("col_case", "col_status", "col_class", "col_f_mhz",
                                 "sum_bw", "sum_licence", "col_first", "col_last",
                                 "col_findings_n")],
        [[c.summary["id"], label("status", c.summary["status"], lang),
          label("class", c.summary["class"], lang), c.summary["f_hz"] / 1e6,
          c.summary["bw_hz"] / 1e3, c.summary["licence_id"] or c.summary["foreign_id"] or "-",
          iso_utc(int(c.summary["first_seen_ns"])), iso_utc(int(c.summary["last_seen_ns"])),
          len(c.findings)] for c in cases],
        [None, None, None, 4, 1, None, None, None, None],
    )


def _heatmap(series: SpectrumSeries, lang: Lang) -> Figure:
    title = f"{series.station_id} ({series.band})"
    return Figure(f"heatmap_{series.station_id}", f"{text('fig_heatmap', lang)} — {title}",
                  charts.heatmap_png(series.f_hz, series.t_ns, series.power, lang,
                                     unit=series.unit, title=title))


def period_document(report: PeriodReport, lang: Lang) -> Document:
    """The tables and pictures of a periodic report."""
    issued, generated = _heading_bits(lang, report.generated_ns)
    t0, t1 = iso_utc(report.t_start_ns), iso_utc(report.t_end_ns)
    summary = Table(
        "summary", text("summary", lang), ["", ""],
        [
            [text("sum_period", lang), f"{t0} — {t1}"],
            [text("sum_stations", lang), len(report.stations)],
            [text("sum_uptime", lang) + " (%)", _pct(report.mean_uptime)],
            [text("sum_emissions", lang), report.n_emissions],
            [text("sum_cases", lang), len(report.cases)],
            [text("sum_open", lang), report.n_open],
            [text("sum_findings", lang), report.n_findings],
        ],
    )
    summary.decimals = [None, 2]
    stations = Table(
        "stations", text("stations", lang),
        [text(k, lang) for k in ("col_station", "col_name", "col_kind", "col_uptime",
                                 "col_gaps", "col_gap_s", "col_first", "col_last")],
        [[s.station.id, s.station.name, label("station_kind", s.station.kind, lang),
          _pct(s.uptime_fraction), len(s.gaps),
          round(s.gap_total_s, 1), iso_utc(s.t_first_ns), iso_utc(s.t_last_ns)]
         for s in report.stations],
        [None, None, None, 2, None, 1, None, None],
    )
    occupancy = Table(
        "occupancy", text("occupancy", lang),
        [text(k, lang) for k in ("col_station", "col_band", "col_mean_occ", "col_max_occ",
                                 "col_samples")],
        [[o.station_id, o.band, _pct(o.mean_fraction), _pct(o.max_fraction), o.n_samples]
         for o in report.occupancy],
        [None, None, 2, 2, None],
    )
    classes = Table(
        "classes", text("classes", lang),
        [text(k, lang) for k in ("col_class", "col_count", "col_stations")],
        [[label("class", c.emitter_class, lang), c.n_emissions, c.n_stations]
         for c in report.classes],
    )
    findings = [f for c in report.cases for f in c.findings]
    figures = [_heatmap(s, lang) for s in report.heatmaps]
    estimates = [e for c in report.cases for e in c.locations]
    if report.track or estimates:
        figures.append(Figure("map", text("fig_map", lang), charts.map_png(
            [s.station for s in report.stations], report.track, estimates, lang)))
    return Document(
        lang=lang,
        title=text("period_title", lang),
        subtitle=text("period_subtitle", lang, t0=t0, t1=t1)
        + (f" — {report.station_filter}" if report.station_filter else ""),
        reference=f"BC-{issued:%Y%m%d}",
        issued=issued,
        tables=[summary, stations, occupancy, classes, _case_rows(lang, report.cases),
                _findings_table(lang, findings)],
        figures=figures,
        generated=generated,
    )


def inspection_document(report: InspectionReport, lang: Lang) -> Document:
    """The tables and pictures of the post-inspection record of one case."""
    from compliance.designator import parse_designator
    from dsp.errors import RfwatchError

    issued, generated = _heading_bits(lang, report.generated_ns)
    c = report.case.summary
    est = report.case.locations[-1] if report.case.locations else None
    if est is None:
        where = "-"
    elif est.semi_minor_m is None:  # a field kit's fit only
        where = f"{est.lat_deg:.5f}, {est.lon_deg:.5f} ± {est.radius_m:.0f} m"
    else:  # the case's location: 95 % ellipse and the border verdict
        p = "-" if est.p_vietnam is None else f"{est.p_vietnam:.3f}"
        where = (f"{est.lat_deg:.5f}, {est.lon_deg:.5f}; 95 %: {est.radius_m:.0f} × "
                 f"{est.semi_minor_m:.0f} m; {label('verdict', est.verdict, lang)} "
                 f"(P(VN) = {p})")
    summary = Table(
        "summary", text("summary", lang), ["", ""],
        [
            [text("sum_case", lang), c["id"]],
            [text("sum_status", lang), label("status", c["status"], lang)],
            [text("sum_class", lang), label("class", c["class"], lang)],
            [text("sum_f", lang) + " (MHz)", c["f_hz"] / 1e6],
            [text("sum_bw", lang) + " (kHz)", c["bw_hz"] / 1e3],
            [text("sum_licence", lang), c["licence_id"] or c["foreign_id"] or "-"],
            [text("sum_first", lang), iso_utc(int(c["first_seen_ns"]))],
            [text("sum_last", lang), iso_utc(int(c["last_seen_ns"]))],
            [text("sum_station_list", lang), ", ".join(c["stations"])],
            [text("sum_assignee", lang), c["assignee"] or "-"],
            [text("sum_findings", lang), len(report.case.findings)],
            [text("sum_location", lang), where],
        ],
    )
    # Different rows, different decimals: format the two numbers here, as in the PDF.
    summary.rows[3][1] = round(float(c["f_hz"]) / 1e6, 4)
    summary.rows[4][1] = round(float(c["bw_hz"]) / 1e3, 1)
    history = Table(
        "history", text("history", lang),
        [text(k, lang) for k in ("col_time", "col_actor", "col_action", "col_status",
                                 "col_detail")],
        [[iso_utc(h["t_ns"]), h["actor"], h["action"],
          (f"{label('status', h['from_status'], lang)} → {label('status', h['to_status'], lang)}"
           if h["to_status"] else "-"), h["detail"]] for h in report.case.history],
    )
    evidence = Table(
        "evidence", text("evidence", lang),
        [text(k, lang) for k in ("col_evidence_kind", "col_time", "col_sha", "col_note")],
        [[e["kind"], iso_utc(e["t_ns"]), e["sha256"], e["note"]] for e in report.case.evidence],
    )
    tables = [summary]
    if report.licence is not None:
        lic = report.licence
        tables.append(Table(
            "licence", text("licence", lang),
            [text(k, lang) for k in ("sum_licence", "col_licensee", "col_station_name",
                                     "col_f_mhz", "col_emission", "col_erp", "col_valid",
                                     "col_status")],
            [[lic["licence_id"], lic["licensee"], lic["station_name"],
              float(lic["f_hz"]) / 1e6, lic["emission"], lic["erp_w"],  # type: ignore[arg-type]
              f"{lic['valid_from']} — {lic['valid_to'] or '…'}", lic["status"]]],
            [None, None, None, 4, None, 1, None, None],
        ))
    figures: list[Figure] = []
    lic_f = lic_bw = None
    if report.licence is not None:
        lic_f = float(report.licence["f_hz"])  # type: ignore[arg-type]
        try:
            lic_bw = parse_designator(str(report.licence["emission"])).necessary_bw_hz
        except RfwatchError:
            lic_bw = None
    # The spectrum from the IQ evidence where there is some (a few hundred Hz per bin),
    # else from the stored sweeps (256 bins over the band).
    for s in report.evidence_spectra or report.spectra:
        figures.append(Figure(f"spectrum_{s.station_id}", text("fig_spectrum", lang),
                              charts.spectrum_png(s, lang, f_hz=float(c["f_hz"]),
                                                  bw_hz=float(c["bw_hz"]),
                                                  licence_f_hz=lic_f, licence_bw_hz=lic_bw)))
    for s in report.spectra:
        figures.append(Figure(f"waterfall_{s.station_id}", text("fig_waterfall", lang),
                              charts.waterfall_png(s, lang, f_hz=float(c["f_hz"]),
                                                   bw_hz=float(c["bw_hz"]))))
    figures.append(Figure("map", text("fig_map", lang), charts.map_png(
        [s for s in report.stations if s.id in c["stations"]], report.track,
        report.case.locations, lang)))
    return Document(
        lang=lang,
        title=text("inspection_title", lang),
        subtitle=text("inspection_subtitle", lang, case=c["id"]),
        reference=f"{c['id']}/BB-STTTT",
        issued=issued,
        tables=[*tables, _findings_table(lang, report.case.findings, with_case=False),
                history, evidence],
        figures=figures,
        generated=generated,
    )
