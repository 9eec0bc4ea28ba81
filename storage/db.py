"""The relational database: SQLAlchemy 2 engine, session factory and declarative base.

SQLite is the default (a file in the home folder); PostgreSQL is used by URL
(``postgresql+psycopg://...``). The schema is created and changed only by the
Alembic migrations in ``storage/migrations`` (``rfwatch db upgrade``); the ORM
classes of each area (e.g. ``compliance/models.py``) derive from :class:`Base`.
"""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

__all__ = ["Base", "make_engine", "make_session_factory"]

#: Deterministic constraint names, so migrations can refer to them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every ORM class of rfwatch."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects
    cur = dbapi_conn.cursor()
    # Enforce foreign keys (off by default in SQLite) and let readers run during writes.
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {}
    if url.startswith("postgresql"):
        # Fail in seconds, not minutes, when the server is unreachable (doctor, CLI).
        connect_args["connect_timeout"] = 10
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)
