"""Alembic migrations of the relational database, run programmatically.

No ``alembic.ini`` is needed: :func:`_config` points Alembic at this folder and
hands it the URL. Revisions live in ``versions/`` and are chained by their ids
(``0001_foundation`` <- ``0002_compliance`` <- ``0003_stations`` <- ...). Each one
must run on SQLite (use ``op.batch_alter_table`` to change existing tables, since
SQLite cannot ALTER most things in place) and on PostgreSQL.

Examples
--------
>>> from storage.migrations import upgrade, current_revision  # doctest: +SKIP
>>> upgrade("sqlite:///var/rfwatch.db")  # doctest: +SKIP
>>> current_revision("sqlite:///var/rfwatch.db")  # doctest: +SKIP
'0003_stations'
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from dsp.errors import StorageError
from storage.db import make_engine

log = logging.getLogger(__name__)

__all__ = ["current_revision", "downgrade", "head_revision", "upgrade"]

_HERE = Path(__file__).resolve().parent


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    # The URL travels as an attribute, not an ini option: '%' in passwords would
    # otherwise be taken for ConfigParser interpolation.
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (default: the newest).

    Raises
    ------
    StorageError
        When the database cannot be reached or a migration fails.
    """
    try:
        command.upgrade(_config(url), revision)
    except (SQLAlchemyError, CommandError) as err:
        raise StorageError(
            f"Nâng cấp CSDL thất bại / database upgrade failed ({_redact(url)}): "
            f"{_first_line(err)}"
        ) from err
    log.info("database %s at %s", _redact(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` down to ``revision`` (``"base"``: empty)."""
    try:
        command.downgrade(_config(url), revision)
    except (SQLAlchemyError, CommandError) as err:
        raise StorageError(
            f"Hạ cấp CSDL thất bại / database downgrade failed ({_redact(url)}): "
            f"{_first_line(err)}"
        ) from err


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` if never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as err:
        raise StorageError(
            f"Không đọc được phiên bản CSDL / cannot read the database revision "
            f"({_redact(url)}): {_first_line(err)}"
        ) from err
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision shipped in ``versions/``."""
    return ScriptDirectory.from_config(_config("")).get_current_head()


def _first_line(err: Exception) -> str:
    """The first line of an error (SQLAlchemy appends the SQL and a help link)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _redact(url: str) -> str:
    """``url`` without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a message must never fail on a bad URL
        return "<url>"
