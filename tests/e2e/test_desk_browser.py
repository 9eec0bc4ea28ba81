"""The inspector's desk in Chromium against the real server and stores: log in, an
alarm arrives, the waterfall updates, a case goes through its whole lifecycle."""

from __future__ import annotations

import hashlib
import time

import httpx
import numpy as np
import pytest

from dsp.types import Spectrum
from stations.batch import Batch, EmissionItem, LocationItem, SpectrumItem, new_batch_id

from .conftest import ARTIFACTS, PASSWORD

pytestmark = pytest.mark.browser
T0 = 1_772_413_200_000_000_000


def _batch(station: str, seq: int, *, emission: bool, location: bool = False) -> Batch:
    rng = np.random.default_rng(seq)
    power = rng.normal(-95, 2, 1024).astype("f4")
    power[400:410] = -40.0  # the emitter at 163.0 MHz
    t = T0 + seq * 10**9
    items: list = [SpectrumItem.from_spectrum(Spectrum(
        f_start_hz=162e6, f_step_hz=2.5e3, power_db=power, power_unit="dBFS", rbw_hz=3.75e3,
        t_start_ns=t, t_end_ns=t + 10**6, receiver_id="rx0"), band="vhf")]
    if emission:
        items.append(EmissionItem(
            band="vhf", receiver_id="rx0", f_hz=163.0e6, bw_99_hz=12e3, bw_xdb_hz=15e3,
            power_db=-40.0, peak_power_db=-38.0, snr_db=55.0, noise_floor_db=-95.0,
            power_unit="dBFS", f_resolution_hz=2.5e3, t_first_ns=t, t_last_ns=t))
    if location:
        items.append(LocationItem(f_hz=163.0e6, lat_deg=21.93, lon_deg=106.64, radius_m=900.0,
                                  n_points=40, path_loss_exponent=2.8, rms_error_db=3.1,
                                  t_ns=t + 1))
    return Batch(batch_id=new_batch_id(), station_id=station, seq=seq, created_t_ns=t,
                 items=items)


def _send(http: httpx.Client, served, batch: Batch) -> dict:  # noqa: ANN001
    r = http.post("/api/v1/ingest/batches", content=batch.model_dump_json(),
                  headers={"Authorization": f"Bearer {served.tokens[batch.station_id]}",
                           "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()


def test_login_alarm_waterfall_and_case_lifecycle(served, browser_page) -> None:  # noqa: ANN001
    page = browser_page
    http = httpx.Client(base_url=served.url, timeout=10)
    # Log in (Vietnamese by default).
    page.goto(f"{served.url}/ui/login")
    assert page.locator("#login-button").inner_text() == "Đăng nhập"
    page.fill("#username", "kiemsoat")
    page.fill("#password", PASSWORD)
    page.screenshot(path=str(ARTIFACTS / "login.png"))
    page.click("#login-button")
    page.wait_for_url("**/ui/alarms")
    page.wait_for_selector("#push-state[data-state=open]")

    # A new emitter is ingested: the alarm shows up without reloading, within 2 s.
    t0 = time.perf_counter()
    case_id = _send(http, served, _batch("ls-hn", 1, emission=True))["case_ids"][0]
    page.wait_for_selector(f"#alarms tr[data-case-id='{case_id}']", timeout=2000)
    assert time.perf_counter() - t0 < 2.0
    row = page.locator(f"#alarms tr[data-case-id='{case_id}']")
    assert "Vụ việc mới" in row.inner_text() and "Phát không phép" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "alarms.png"))
    # Acknowledged, it leaves this inspector's list (and stays gone on reload).
    row.locator("button.ack").click()
    page.wait_for_selector(f"#alarms tr[data-case-id='{case_id}']", state="detached")
    page.reload()
    page.wait_for_selector("#push-state[data-state=open]")
    assert page.locator(f"#alarms tr[data-case-id='{case_id}']").count() == 0

    # The live view: frames arrive and the waterfall's newest row is painted.
    page.goto(f"{served.url}/ui/live?station=ls-hn&band=vhf")
    page.wait_for_selector("#ws-state[data-state=open]")
    for seq in range(2, 8):
        _send(http, served, _batch("ls-hn", seq, emission=False))
        time.sleep(0.05)
    page.wait_for_function("Number(document.getElementById('frame-count').textContent) >= 6")
    lit = page.evaluate("""() => {
        const c = document.getElementById('waterfall').getContext('2d');
        const rows = [0, 5].map(y => Array.from(c.getImageData(0, y, 1000, 1).data));
        return rows.map(d => d.filter((v, i) => i % 4 !== 3 && v > 0).length);
    }""")
    assert lit[0] > 0 and lit[1] > 0, "the waterfall's newest rows are painted"
    box = page.locator("#spectrum").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + 50)
    readout = page.locator("#readout").inner_text()
    assert "MHz" in readout and "dBFS" in readout
    f_mhz = float(readout.split()[0])
    assert abs(f_mhz - (162.0 + 0.4 * 1023 * 2.5e-3)) < 0.01
    # Clicking the emission shows its measurements.
    x = box["x"] + box["width"] * (163.0e6 - 162e6) / (1023 * 2.5e3)
    page.mouse.click(x, box["y"] + 30)
    detail = page.locator("#emission-detail").inner_text()
    assert "163.0000 MHz" in detail and "SNR 55.0 dB" in detail and "Không xác định" in detail
    page.screenshot(path=str(ARTIFACTS / "live.png"))

    # A field kit's position estimate joins the case; then the case list.
    _send(http, served, _batch("ls-tt", 9, emission=True, location=True))
    page.goto(f"{served.url}/ui/cases")
    page.wait_for_selector(f"#cases tr[data-case-id='{case_id}']")
    row = page.locator(f"#cases tr[data-case-id='{case_id}']")
    assert case_id in row.inner_text()  # the full id, not cut
    assert "Mới" in row.locator("[data-status]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "cases.png"))

    # The case page: findings, map, and the lifecycle to closed.
    row.locator("a").click()
    page.wait_for_selector("#findings tbody tr")
    assert "Điều" in page.locator("#findings").inner_text()  # the legal basis
    page.wait_for_selector("#map polyline.border", state="attached")
    assert page.locator("#map polyline.border").count() >= 1
    assert page.locator("#map circle.drive-fit").count() == 1
    # the case's location (the fit joined with the sites' levels) and its 95 % ellipse
    page.wait_for_selector("#map ellipse.uncertainty", state="attached")
    assert page.locator("#map circle.estimate").count() == 1
    assert page.locator("#map g.site").count() == 2
    # Evidence uploaded from the page is listed with its SHA-256.
    photo = b"\x89PNG anh hien truong / site photo" * 100
    page.select_option("#upload-kind", "photo")
    page.set_input_files("#upload-file", files=[{"name": "hien-truong.png",
                                                   "mimeType": "image/png", "buffer": photo}])
    page.click("#upload-form button")
    sha = hashlib.sha256(photo).hexdigest()
    page.wait_for_selector(f"#evidence td.sha:text-is('{sha}')")
    for to, label in (("triaged", "Đã phân loại"), ("field_verification", "Xác minh hiện trường"),
                      ("enforcement", "Xử lý vi phạm"), ("closed", "Đã đóng")):
        page.select_option("#to-status", to)
        page.fill("#reason", f"chuyển sang {to}")
        page.click("#move")
        page.wait_for_selector(f"#case-status [data-status={to}]")
        assert page.locator("#case-status").inner_text() == label
    assert page.locator("#transition-form").is_hidden()
    history = page.locator("#history").inner_text()
    assert history.count("kiemsoat\ttransition") == 4
    assert history.count("kiemsoat\tevidence_added") == 1
    audit = page.locator("#audit").inner_text()
    assert audit.count("case.transition") == 4 and "case.evidence" in audit
    page.screenshot(path=str(ARTIFACTS / "case.png"), full_page=True)
    # English on the switch.
    page.click("#lang-switch")
    page.wait_for_selector("#case-status [data-status=closed]")
    assert page.locator("#case-status").inner_text() == "Closed"
    page.screenshot(path=str(ARTIFACTS / "case-en.png"), full_page=True)
    http.close()
