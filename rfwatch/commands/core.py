"""Core commands: version, doctor, db upgrade."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

import rfwatch
from rfwatch import state

console = Console()

db_app = typer.Typer(
    name="db",
    help="Cơ sở dữ liệu quan hệ / the relational database.",
    no_args_is_help=True,
)


def version() -> None:
    """In phiên bản / print the version."""
    console.print(f"rfwatch {rfwatch.__version__}")


@db_app.command("upgrade")
def db_upgrade(
    url: str | None = typer.Option(
        None,
        "--url",
        help="URL SQLAlchemy của CSDL / SQLAlchemy URL of the database "
        "(mặc định / default: RFWATCH_DB_URL or sqlite:///<home>/rfwatch.db).",
    ),
    revision: str = typer.Option(
        "head", "--revision", help="Phiên bản đích / target revision."
    ),
) -> None:
    """Nâng cấp lược đồ CSDL / bring the database schema up to date (Alembic)."""
    from storage.migrations import current_revision, upgrade

    settings = state.get_settings()
    if url is None:
        url = settings.database_url
        # The default SQLite file lives in the home folder, which may not exist yet.
        Path(settings.home).mkdir(parents=True, exist_ok=True)
    upgrade(url, revision)
    console.print(
        f"CSDL ở phiên bản / database at revision: {current_revision(url)}", highlight=False
    )


def register(app: typer.Typer) -> None:
    app.command("version")(version)
    app.add_typer(db_app, name="db")
