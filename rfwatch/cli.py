"""The ``rfwatch`` command line (typer).

Each area registers its commands from its own module under ``rfwatch/commands/``,
so the areas can grow without touching one another. Errors that rfwatch raises
on purpose (``RfwatchError``) are printed as one line, in Vietnamese and English,
with exit status 2 — never as a traceback.

Start-up: commands import what they need when they run (NumPy, SciPy, pydantic, the
stores), and the typer app itself is built on first use (``app`` is looked up
lazily), so ``rfwatch --help`` costs typer and rich only, and a bare ``rfwatch
version`` is answered before typer is imported at all (typer's parameter handling
imports pydantic, about 0.1 s).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]  # noqa: F822 - app is built on first use (__getattr__)


@cache
def _build_app() -> typer.Typer:
    import typer

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

    app = typer.Typer(
        name="rfwatch",
        help="rfwatch — giám sát tuân thủ phổ tần số vô tuyến / radio-spectrum compliance "
        "monitoring.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @app.callback()
    def _root(
        home: Path | None = typer.Option(
            None, "--home",
            help="Thư mục dữ liệu / home folder of the embedded stores (RFWATCH_HOME).",
        ),
    ) -> None:
        # Settings are built when a command first needs them (pydantic is slow to import).
        state.set_overrides(**({"home": home} if home is not None else {}))

    for module in (core, doctor, receivers, simulate, analyze, compliance, stations, users,
                   report, exports, dashboards):
        module.register(app)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _build_app()
    raise AttributeError(f"module 'rfwatch.cli' has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    from dsp.errors import RfwatchError

    if sys.argv[1:] == ["version"]:
        # The same line as ``rfwatch.commands.core.version``, without building the app.
        import rfwatch

        print(f"rfwatch {rfwatch.__version__}")
        return
    try:
        _build_app()()
    except RfwatchError as err:
        from rich.console import Console
        from rich.text import Text

        err_console = Console(stderr=True, soft_wrap=True)
        # One line, and the message as plain text: a file name or value holding
        # "[...]" must not be read as markup, a newline must not split the line.
        message = " ".join(str(err).split()) or type(err).__name__
        err_console.print(Text.assemble(("Lỗi / Error: ", "bold red"), message),
                          highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        from rich.console import Console

        Console(stderr=True).print("Đã dừng / interrupted")
        sys.exit(130)
