"""Grafana dashboards: ``rfwatch dashboards build`` and ``rfwatch dashboards push``.

``build`` writes the dashboard JSON that Grafana's file provisioning reads (the
repository keeps a copy in ``dashboards/json``); ``push`` creates or updates them in
a running Grafana through its HTTP API with a service-account token.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

console = Console()
dashboards_app = typer.Typer(help="Bảng Grafana / Grafana dashboards.", no_args_is_help=True)


@dashboards_app.command("build")
def dashboards_build(
    out: Path | None = typer.Option(None, "--out", help="Thư mục / folder (default: the "
                                    "package's dashboards/json)"),
) -> None:
    """Ghi JSON các bảng / write the dashboards' JSON for file provisioning."""
    from dashboards.definitions import JSON_DIR, write_json

    for path in write_json(out or JSON_DIR):
        console.print(str(path))


@dashboards_app.command("push")
def dashboards_push(
    grafana: str = typer.Option(..., "--grafana", help="URL của Grafana / Grafana's URL"),
    token: str | None = typer.Option(
        None, "--token", help="Token tài khoản dịch vụ / service-account token "
        "(or GRAFANA_TOKEN)"),
    timeout_s: float = typer.Option(10.0, "--timeout", help="Giây / seconds per request"),
) -> None:
    """Đẩy các bảng lên Grafana / create or update the dashboards in a Grafana."""
    from dashboards.definitions import all_dashboards
    from dashboards.push import FOLDER_UID, push_dashboards

    result = push_dashboards(grafana, token or os.environ.get("GRAFANA_TOKEN"),
                             all_dashboards(), timeout_s=timeout_s)
    console.print(f"Grafana {result.grafana_version or '?'}; thư mục / folder {FOLDER_UID}"
                  + (" (mới tạo / created)" if result.folder_created else ""))
    for uid, url, version in result.dashboards:
        console.print(f"  {uid}  v{version}  {url}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(dashboards_app, name="dashboards")
