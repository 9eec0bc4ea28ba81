"""The ``rfwatch`` command line (typer).

Each area registers its commands from its own module under ``rfwatch/commands/``,
so the areas can grow without touching one another. Every error a user can cause is
printed as one line, in Vietnamese and English, with exit status 2 — never as a
traceback (see :func:`main`).

Start-up: commands import what they need when they run (NumPy, SciPy, pydantic, the
stores), and the typer app itself is built on first use (``app`` is looked up
lazily), so ``rfwatch --help`` costs typer and rich only, and a bare ``rfwatch
version`` is answered before typer is imported at all (typer's parameter handling
imports pydantic, about 0.1 s). Logging is configured once, by the root callback,
when a command runs (``--log-level``, ``--log-json``; :mod:`rfwatch.logs`).
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
        # Plain help: flags show as flags (`--json`), not as `--json <bool>`.
        rich_markup_mode=None,
    )

    @app.callback()
    def _root(
        home: Path | None = typer.Option(
            None, "--home",
            help="Thư mục dữ liệu / home folder of the embedded stores (RFWATCH_HOME).",
        ),
        log_level: str | None = typer.Option(
            None, "--log-level", help="Mức nhật ký / log level: DEBUG, INFO, WARNING, ERROR"
        ),
        log_json: bool = typer.Option(
            False, "--log-json", help="Nhật ký dạng JSON / log JSON lines (for services)"
        ),
    ) -> None:
        from dsp.errors import ParameterError
        from rfwatch import state
        from rfwatch.logs import configure_logging
        from rfwatch.settings import load_settings

        overrides: dict[str, object] = {"home": home} if home is not None else {}
        settings = load_settings(**overrides)
        level = (log_level or settings.log.level).upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ParameterError(
                f"--log-level {str(log_level)[:20]!r}: one of DEBUG, INFO, WARNING, ERROR")
        configure_logging(level, "json" if log_json else settings.log.format)
        state.set_overrides(**overrides)
        state.set_settings(settings)

    for module in (core, doctor, receivers, simulate, analyze, compliance, stations, users,
                   report, exports, dashboards):
        module.register(app)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _build_app()
    raise AttributeError(f"module 'rfwatch.cli' has no attribute {name!r}")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main() -> None:
    """Console-script entry point.

    Every error a user can cause is one line on stderr and exit status 2: our own
    (``RfwatchError``), a bad option value or usage (click's), a settings value that
    pydantic refuses, input nested too deeply to read. Anything else is a bug: its
    traceback goes to the log (and stderr), exit status 1.
    """
    if sys.argv[1:] == ["version"]:
        # The same line as ``rfwatch.commands.core.version``, without building the app.
        import rfwatch

        print(f"rfwatch {rfwatch.__version__}")
        return

    from rich.console import Console

    from dsp.errors import RfwatchError

    err_console = Console(stderr=True, soft_wrap=True)

    def fail(text: str, code: int = 2) -> None:
        from rfwatch.logs import redact

        # One line, the message as plain text (a "[...]" in a file name is no markup),
        # and no password or token in it (URLs are often in error lines).
        err_console.print("[bold red]Lỗi / Error:[/]", highlight=False, end=" ")
        err_console.print(_one_line(redact(text)) or "?", highlight=False, markup=False)
        sys.exit(code)

    try:
        rv = _build_app()(standalone_mode=False)
    except RfwatchError as err:
        fail(str(err) or type(err).__name__)
    except RecursionError:
        fail("dữ liệu lồng nhau quá sâu / input nested too deeply to read")
    except KeyboardInterrupt:
        Console(stderr=True).print("Đã dừng / interrupted")
        sys.exit(130)
    except Exception as err:
        kinds = {c.__name__ for c in type(err).__mro__}
        if "ValidationError" in kinds and hasattr(err, "errors"):
            # settings from the environment or rfwatch.toml (pydantic)
            first = err.errors(include_url=False, include_input=False)[0]
            loc = ".".join(str(p) for p in first.get("loc", ()))
            fail(f"cài đặt không hợp lệ / invalid setting {loc}: {first.get('msg', '')}")
        # click's (or typer's own copy of click's) usage errors, by name: typer has
        # shipped both, and this must work with either.
        if "NoArgsIsHelpError" in kinds:  # `rfwatch` or `rfwatch central` alone
            ctx = getattr(err, "ctx", None)
            if ctx is not None:
                print(ctx.get_help())
            sys.exit(2)
        if "UsageError" in kinds:
            ctx = getattr(err, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            fail(f"{where}{err.format_message()} (--help)")  # type: ignore[attr-defined]
        if kinds & {"ClickException", "TyperException"}:
            fail(err.format_message())  # type: ignore[attr-defined]
        if "Abort" in kinds:
            Console(stderr=True).print("Đã dừng / interrupted")
            sys.exit(130)
        raise
    if isinstance(rv, int) and rv:
        sys.exit(rv)
