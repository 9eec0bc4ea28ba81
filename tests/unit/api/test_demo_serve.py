"""``rfwatch demo --serve``: the URL and a demo inspector's credentials that work."""

from __future__ import annotations

import io
import re

import httpx
from rich.console import Console

from api.app import create_app
from api.serve import BackgroundServer
from rfwatch.demo import DEMO_INSPECTOR, serve_until_interrupted


def test_serve_prints_url_and_working_credentials(desk) -> None:  # noqa: ANN001
    out = io.StringIO()
    seen: dict = {}
    with BackgroundServer(create_app(services=desk.services)) as server:

        def use_the_printed_credentials() -> None:
            text = out.getvalue()
            url = re.search(r"(http://\S+)/ui/login", text).group(1)
            password = re.search(r"password: (\S+)", text).group(1)
            with httpx.Client(base_url=url) as http:
                page = http.get("/ui/login")
                tok = http.post("/api/v1/auth/token",
                                data={"username": DEMO_INSPECTOR, "password": password})
                seen.update(page=page.status_code, login=tok.status_code, role=tok.json()["role"])

        first = serve_until_interrupted(server.url, desk.services, Console(file=out, width=200),
                                        wait=use_the_printed_credentials)
        assert seen == {"page": 200, "login": 200, "role": "inspector"}
        # A second --serve gives the same account a new password; the old one stops working.
        second = serve_until_interrupted(server.url, desk.services,
                                         Console(file=io.StringIO(), width=200), wait=lambda: None)
        assert second != first
        with httpx.Client(base_url=server.url) as http:
            old = http.post("/api/v1/auth/token", data={"username": DEMO_INSPECTOR,
                                                        "password": first})
            assert old.status_code == 401
