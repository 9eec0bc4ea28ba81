"""``rfwatch users add|list|disable``: people's accounts of the centre's API.

``add`` reads the password from standard input (``--password-stdin``, one line), so
it never shows in the process list or the shell history.
"""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from dsp.errors import ParameterError

console = Console()
users_app = typer.Typer(help="Người dùng và vai trò / users and roles.", no_args_is_help=True)


def _service():  # noqa: ANN202 - api.users.UserService
    from api.users import UserService
    from rfwatch.commands.compliance import _session_factory

    return UserService(_session_factory())


def _actor() -> str:
    from rfwatch.commands.compliance import _actor as os_user

    return f"cli:{os_user()}"


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Tên đăng nhập / login name (a-z 0-9 . _ -)"),
    role: str = typer.Option(..., "--role", help="admin | inspector | field | official"),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Đọc mật khẩu từ stdin / password from stdin"),
) -> None:
    """Thêm người dùng / add a user."""
    if not password_stdin:
        raise ParameterError("cần --password-stdin / give the password on stdin with "
                             "--password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    user = _service().add(name, role, password, actor=_actor())
    console.print(f"Đã thêm / added {user.name} ({user.role})")


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON")) -> None:
    """Liệt kê người dùng / list users."""
    from compliance.cases import ns_to_iso

    users = _service().list()
    rows = [{"name": u.name, "role": u.role, "active": u.active,
             "created": ns_to_iso(u.created_ns),
             "disabled": None if u.disabled_ns is None else ns_to_iso(u.disabled_ns)}
            for u in users]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title="Người dùng / users")
    for col in ("name", "role", "active", "created", "disabled"):
        table.add_column(col)
    for r in rows:
        table.add_row(*["-" if v is None else str(v) for v in r.values()])
    console.print(table)


@users_app.command("disable")
def users_disable(name: str = typer.Argument(..., help="Tên đăng nhập / login name")) -> None:
    """Khoá người dùng / disable a user (their tokens stop working at once)."""
    user = _service().disable(name, actor=_actor())
    console.print(f"Đã khoá / disabled {user.name}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.add_typer(users_app, name="users")
