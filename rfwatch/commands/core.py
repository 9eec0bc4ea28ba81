"""Core commands: version, doctor, db upgrade."""

from __future__ import annotations

import typer
from rich.console import Console

import rfwatch

console = Console()


def version() -> None:
    """In phiên bản / print the version."""
    console.print(f"rfwatch {rfwatch.__version__}")


def register(app: typer.Typer) -> None:
    app.command("version")(version)
