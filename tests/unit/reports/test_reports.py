"""Reports rendered for real: PDF through WeasyPrint read back with poppler's
pdftotext (key values and the Vietnamese headings) and pdffonts (fonts embedded),
page 1 turned into a PNG kept under ``test-artifacts/reports/`` (printed), and the
XLSX opened with openpyxl holding the same numbers as the PDF.

The centre's values are known exactly (see conftest.py): uptime 75.00 % and
100.00 %, occupancy 30.00 % / 50.00 % / 25.00 %, 5 unknown and 3 licensed emissions.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from reports.data import gather_inspection, gather_period
from reports.render import render
from reports.tables import inspection_document, period_document

from .conftest import T0, T1

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "reports"
RFWATCH = str(Path(sys.executable).with_name("rfwatch"))
HEADINGS_VI = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
               "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "KIỂM SOÁT VIÊN TẦN SỐ", "THỦ TRƯỞNG CƠ QUAN")


def _text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                         text=True, check=True)
    return " ".join(out.stdout.split())  # one space between words, whatever the layout


def _row(text: str, *cells: str) -> bool:
    """The cells appear in this order, with at most a few words between them (header
    cells that wrap onto two lines may come between a row's cells in the text)."""
    between = r"(?:\s+\S+){0,12}?\s+"
    return re.search(between.join(re.escape(c) for c in cells), text) is not None


def _page1_png(pdf: Path, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(ARTIFACTS / name)], check=True)
    png = ARTIFACTS / f"{name}.png"
    print(f"report page 1: {png}")
    return png


@pytest.fixture(scope="module")
def rendered(centre, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    period = gather_period(centre.sessions, centre.ts, T0, T1, clock_ns=T1)
    inspection = gather_inspection(centre.sessions, centre.ts, centre.unknown_case,
                                   clock_ns=T1)
    licensed = gather_inspection(centre.sessions, centre.ts, centre.licensed_case,
                                 clock_ns=T1)
    files = {
        "period_vi_pdf": render(period_document(period, "vi"), out / "period.pdf"),
        "period_vi_xlsx": render(period_document(period, "vi"), out / "period.xlsx"),
        "period_en_pdf": render(period_document(period, "en"), out / "period-en.pdf"),
        "inspection_pdf": render(inspection_document(inspection, "vi"), out / "insp.pdf"),
        "inspection_xlsx": render(inspection_document(inspection, "vi"), out / "insp.xlsx"),
        "licensed_pdf": render(inspection_document(licensed, "vi"), out / "lic.pdf"),
    }
    return files


def test_period_pdf_has_the_heading_and_the_known_values(rendered) -> None:
    text = _text(rendered["period_vi_pdf"])
    for heading in (*HEADINGS_VI, "BÁO CÁO GIÁM SÁT PHỔ TẦN SỐ ĐỊNH KỲ",
                    "Trạm giám sát, thời gian hoạt động và gián đoạn",
                    "Mức chiếm dụng theo băng tần (ITU-R SM.1880)", "Phát xạ theo loại"):
        assert heading in text, heading
    assert "Lạng Sơn, ngày 02 tháng 03 năm 2026" in text  # 02:00 UTC is 09:00 in Vietnam
    # st-a: one 900 s gap -> 75.00 %; st-b all hour; the kit sent no health.
    assert _row(text, "st-a", "Trạm st-a", "cố định", "75.00", "1", "900.0")
    assert _row(text, "st-b", "Trạm st-b", "cố định", "100.00", "0", "0.0")
    assert _row(text, "kit", "Bộ đo di động", "di động", "0.00", "1", "3600.0")
    assert _row(text, "st-a", "vhf", "30.00", "50.00", "3")
    assert _row(text, "st-b", "vhf", "25.00", "25.00", "1")
    assert _row(text, "không xác định", "5", "1") and _row(text, "có giấy phép", "3", "1")


def test_period_pdf_embeds_fonts_with_vietnamese_and_page_1_is_kept(rendered) -> None:
    fonts = subprocess.run(["pdffonts", str(rendered["period_vi_pdf"])], capture_output=True,
                           text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts), fonts  # every font embedded
    assert any("DejaVu" in line for line in fonts)
    png = _page1_png(rendered["period_vi_pdf"], "period-vi-page1")
    from PIL import Image

    with Image.open(png) as img:
        assert img.size[0] > 800 and img.size[1] > 1100  # A4 at 110 dpi
        gray = img.convert("L")
        dark = sum(gray.histogram()[:128])
        assert dark > 5000  # text and tables, not a blank page


def test_xlsx_holds_the_same_numbers_as_the_pdf(rendered) -> None:
    text = _text(rendered["period_vi_pdf"])
    wb = openpyxl.load_workbook(rendered["period_vi_xlsx"])
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in [c.value for c in wb["summary"]["A"]]
    checked = 0
    for sheet in ("summary", "stations", "occupancy", "classes", "cases"):
        for row in wb[sheet].iter_rows():
            for cell in row:
                if isinstance(cell.value, float):
                    decimals = len(cell.number_format.split(".")[1]) if "." in (
                        cell.number_format) else 0
                    shown = f"{cell.value:.{decimals}f}"
                elif isinstance(cell.value, int) and not isinstance(cell.value, bool):
                    shown = str(cell.value)
                else:
                    continue
                assert shown in text, f"{sheet}!{cell.coordinate} = {shown} not in the PDF"
                checked += 1
    assert checked >= 25
    uptime = {r[0]: r[3] for r in wb["stations"].iter_rows(values_only=True)
              if r[0] in ("st-a", "st-b", "kit")}
    assert uptime == {"st-a": 75.0, "st-b": 100.0, "kit": 0.0}
    occ = {(r[0], r[1]): (r[2], r[3]) for r in wb["occupancy"].iter_rows(values_only=True)
           if r[0] in ("st-a", "st-b")}
    assert occ == {("st-a", "vhf"): (30.0, 50.0), ("st-b", "vhf"): (25.0, 25.0)}
    assert "figures" in wb.sheetnames and len(wb["figures"]._images) >= 2


def test_english_report(rendered) -> None:
    text = _text(rendered["period_en_pdf"])
    for phrase in ("SOCIALIST REPUBLIC OF VIETNAM", "PERIODIC SPECTRUM MONITORING REPORT",
                   "Stations, uptime and gaps", "Occupancy by band", "Emissions by class",
                   "SM.1880"):
        assert phrase in text, phrase
    assert _row(text, "unknown", "5", "1") and _row(text, "licensed", "3", "1")
    assert "CỘNG HÒA" not in text


def test_inspection_record_of_the_unknown_emitter(rendered, centre) -> None:
    text = _text(rendered["inspection_pdf"])
    for heading in (*HEADINGS_VI, "BIÊN BẢN KIỂM TRA TẦN SỐ VÔ TUYẾN ĐIỆN", "Các vi phạm",
                    "Lịch sử xử lý", "Chứng cứ", "Hình ảnh chứng cứ"):
        assert heading in text, heading
    assert f"Số: {centre.unknown_case}/BB-STTTT" in text
    assert "163.45" in text and "phát xạ không có giấy phép" in text
    assert "21.93000, 106.64000 ± 850 m" in text  # the field kit's estimate
    assert "Nghị định" in text  # the legal basis of the finding
    _page1_png(rendered["inspection_pdf"], "inspection-vi-page1")
    wb = openpyxl.load_workbook(rendered["inspection_xlsx"])
    summary = {r[0]: r[1] for r in wb["summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Tần số (MHz)"] == 163.45
    assert summary["Vụ việc"] == centre.unknown_case
    findings = [r for r in wb["findings"].iter_rows(values_only=True)
                if r[0] == "phát xạ không có giấy phép"]
    assert {r[1] for r in findings} == {"st-a", "st-b"}


def test_inspection_record_shows_measured_against_permitted(rendered, centre) -> None:
    text = _text(rendered["licensed_pdf"])
    assert "vượt dung sai tần số" in text and "LS-TEST-1" in text
    assert _row(text, "LS-TEST-1", "Công ty Thử nghiệm", "Trạm gốc", "150.0000", "16K0F3E")
    # measured against permitted, with the unit (pdftotext's reading order across the
    # table's columns depends on their widths, so the values are found as a pair)
    assert re.search(r"3000\.00\s+1200\.00 Hz", text), text


def test_report_command_end_to_end_and_bad_input(centre, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFWATCH_")}
    env.update(centre.env)
    out = tmp_path / "r.pdf"
    ok = subprocess.run([RFWATCH, "report", "inspection", "--case", centre.licensed_case,
                         "--out", str(out), "--lang", "en"], env=env, capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "RADIO FREQUENCY INSPECTION RECORD" in _text(out)
    for args, needle in (
        (["inspection", "--case", "NOPE", "--out", str(tmp_path / "x.pdf")], "NOPE"),
        (["inspection", "--case", "x", "--out", str(tmp_path / "x.docx")], "--out"),
        (["period", "--from", "2026-03-02", "--to", "2026-03-02", "--out",
          str(tmp_path / "x.pdf"), "--lang", "fr"], "--lang"),
        (["period", "--from", "2026-13-02", "--to", "2026-03-02", "--out",
          str(tmp_path / "x.pdf")], "--from"),
        (["period", "--from", "2026-03-02", "--to", "2026-03-02", "--station", "zz",
          "--out", str(tmp_path / "x.pdf")], "--station"),
    ):
        bad = subprocess.run([RFWATCH, "report", *args], env=env, capture_output=True,
                             text=True, timeout=120)
        assert bad.returncode == 2, (args, bad.stderr)
        assert needle in bad.stderr and "Traceback" not in bad.stderr
        assert not (tmp_path / "x.pdf").exists()
