"""The ``rfwatch`` command line (typer).

Each area registers its commands from its own module under ``rfwatch/commands/``,
so the areas can grow without touching one another. Errors that rfwatch raises
on purpose (``RfwatchError``) are printed as one line, in Vietnamese and English,
with exit status 2 — never as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from dsp.errors import RfwatchError
from rfwatch import state
from rfwatch.commands import (
    analyze,
    compliance,
    core,
    dashboards,
    doctor,
    exports,
    receivers,
    report,
    simulate,
    stations,
    users,
)
from rfwatch.settings import load_settings

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
    overrides = {"home": home} if home is not None else {}
    state.set_settings(load_settings(**overrides))


for _module in (core, doctor, receivers, simulate, analyze, compliance, stations, users,
                report, exports, dashboards):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except RfwatchError as err:
        from rich.text import Text

        err_console = Console(stderr=True, soft_wrap=True)
        # One line, and the message as plain text: a file name or value holding
        # "[...]" must not be read as markup, a newline must not split the line.
        message = " ".join(str(err).split()) or type(err).__name__
        err_console.print(Text.assemble(("Lỗi / Error: ", "bold red"), message),
                          highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        Console(stderr=True).print("Đã dừng / interrupted")
        sys.exit(130)
