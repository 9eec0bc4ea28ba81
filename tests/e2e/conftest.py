"""End-to-end fixtures: the real centre served over HTTP, users, and Debian's Chromium
driven by Playwright (no browser download: ``/usr/bin/chromium`` or the path in
``PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH``). Screenshots go to ``test-artifacts/e2e``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.app import CentralConfig, CentralServices, create_app, open_central
from api.serve import BackgroundServer
from api.users import UserService
from centre.tokens import issue_token, register_station
from dsp.types import GeoPosition

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("RFWATCH_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts")) / "e2e"
PASSWORD = "kiểm-soát-viên-1"


def chromium_path() -> str:
    path = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH") or shutil.which("chromium")
    if not path:
        pytest.fail("Debian's chromium is missing: apt-get install chromium "
                    "(scripts/setup.sh test does it)", pytrace=False)
    return path


@dataclass
class Served:
    url: str
    services: CentralServices
    tokens: dict[str, str]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    home = tmp_path / "centre"
    services = open_central(CentralConfig(
        home=home, database_url=f"sqlite:///{home / 'rfwatch.db'}",
        timeseries={"backend": "embedded", "path": home / "timeseries.sqlite"}))
    tokens = {}
    with services.sessions.begin() as session:
        for sid, pos in (("ls-hn", GeoPosition(21.975, 106.706)),
                         ("ls-tt", GeoPosition(21.87, 106.72))):
            register_station(session, sid, name=f"Trạm {sid}", kind="fixed", position=pos)
            tokens[sid] = issue_token(session, sid)
    users = UserService(services.sessions)
    users.add("kiemsoat", "inspector", PASSWORD, actor="test")
    with BackgroundServer(create_app(services=services)) as server:
        yield Served(server.url, services, tokens)
    services.close()


@pytest.fixture
def browser_page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        offsite: list[str] = []
        page.on("request", lambda r: offsite.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
                else None)
        yield page
        browser.close()
        assert offsite == [], f"pages fetched assets from elsewhere: {offsite}"
