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

from dsp.errors import ParameterError, RfwatchError
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
from rfwatch.logs import configure_logging, redact
from rfwatch.settings import load_settings

app = typer.Typer(
    name="rfwatch",
    help="rfwatch — giám sát tuân thủ phổ tần số vô tuyến / radio-spectrum compliance monitoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: flags show as flags (`--json`), not as `--json <bool>`.
    rich_markup_mode=None,
)


@app.callback()
def _root(
    home: Path | None = typer.Option(
        None, "--home", help="Thư mục dữ liệu / home folder of the embedded stores (RFWATCH_HOME)."
    ),
    log_level: str | None = typer.Option(
        None, "--log-level", help="Mức nhật ký / log level: DEBUG, INFO, WARNING, ERROR"
    ),
    log_json: bool = typer.Option(
        False, "--log-json", help="Nhật ký dạng JSON / log JSON lines (for services)"
    ),
) -> None:
    overrides: dict[str, object] = {"home": home} if home is not None else {}
    settings = load_settings(**overrides)
    level = (log_level or settings.log.level).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ParameterError(
            f"--log-level {log_level[:20]!r}: one of DEBUG, INFO, WARNING, ERROR"  # type: ignore[index]
        )
    configure_logging(level, "json" if log_json else settings.log.format)
    state.set_settings(settings)


for _module in (core, doctor, receivers, simulate, analyze, compliance, stations):
    _module.register(app)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main() -> None:
    """Console-script entry point.

    Every error a user can cause is one line on stderr and exit status 2: our own
    (``RfwatchError``), a bad option value or usage (click's), a settings value that
    pydantic refuses, input nested too deeply to read. Anything else is a bug: its
    traceback goes to the log (and stderr), exit status 1.
    """
    from pydantic import ValidationError

    err_console = Console(stderr=True, soft_wrap=True)

    def fail(text: str, code: int = 2) -> None:
        # No password or token in an error line either (URLs are often in them).
        err_console.print("[bold red]Lỗi / Error:[/]", highlight=False, end=" ")
        err_console.print(_one_line(redact(text)), highlight=False, markup=False)
        sys.exit(code)

    try:
        rv = app(standalone_mode=False)
    except RfwatchError as err:
        fail(str(err))
    except ValidationError as err:  # settings from the environment or rfwatch.toml
        first = err.errors(include_url=False, include_input=False)[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        fail(f"cài đặt không hợp lệ / invalid setting {loc}: {first.get('msg', '')}")
    except RecursionError:
        fail("dữ liệu lồng nhau quá sâu / input nested too deeply to read")
    except KeyboardInterrupt:
        Console(stderr=True).print("Đã dừng / interrupted")
        sys.exit(130)
    except Exception as err:
        # click's (or typer's own copy of click's) usage errors, by name: typer has
        # shipped both, and this must work with either.
        kinds = {c.__name__ for c in type(err).__mro__}
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
