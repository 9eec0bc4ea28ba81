"""The ``rfwatch`` command line (typer).

Each area registers its commands from its own module under ``rfwatch/commands/``,
so the areas can grow without touching one another. Errors that rfwatch raises
on purpose (``RfwatchError``) are printed as one line, in Vietnamese and English,
with exit status 2 — never as a traceback. Commands import what they need when they
run (NumPy, SciPy, pydantic, the stores), so ``rfwatch --help`` and ``rfwatch
version`` start in a fraction of a second.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dsp.errors import RfwatchError
from rfwatch import state
from rfwatch.commands import (
    analyze,
    compliance,
    core,
    doctor,
    receivers,
    simulate,
    stations,
)

app = typer.Typer(
    name="rfwatch",
    help="rfwatch — giám sát tuân thủ phổ tần số vô tuyến / radio-spectrum compliance monitoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    home: Path | None = typer.Option(
        None, "--home", help="Thư mục dữ liệu / home folder of the embedded stores (RFWATCH_HOME)."
    ),
) -> None:
    # Settings are built when a command first needs them (pydantic is slow to import).
    state.set_overrides(**({"home": home} if home is not None else {}))


for _module in (core, doctor, receivers, simulate, analyze, compliance, stations):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except RfwatchError as err:
        from rich.console import Console

        err_console = Console(stderr=True, soft_wrap=True)
        err_console.print(f"[bold red]Lỗi / Error:[/] {err}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        from rich.console import Console

        Console(stderr=True).print("Đã dừng / interrupted")
        sys.exit(130)
