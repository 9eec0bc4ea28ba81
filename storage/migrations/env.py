"""Alembic environment, run by :mod:`storage.migrations` (never imported directly).

Online mode only: the URL comes from ``config.attributes["url"]``. Importing this
file outside Alembic (e.g. ``pytest --doctest-modules storage``) does nothing.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from dsp.errors import StorageError
from storage.db import Base, make_engine


def run_migrations_online() -> None:
    """Run the migrations on the URL that :mod:`storage.migrations` passed in."""
    url = context.config.attributes["url"]
    engine = make_engine(url)
    is_sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            if is_sqlite:
                # Batch mode rebuilds a table (create copy, drop old, rename); with foreign
                # keys enforced that drop would cascade or fail. SQLite only honours this
                # pragma outside a transaction, so set it before the migration starts and
                # check the keys afterwards.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=is_sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            if is_sqlite:
                connection.commit()
                bad = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                if bad:
                    raise StorageError(
                        f"Khóa ngoại hỏng sau nâng cấp / foreign keys broken by the "
                        f"migration: {bad[:5]}"
                    )
    finally:
        engine.dispose()


# Alembic sets up its context proxy only while it runs an environment.
if hasattr(context, "config"):
    run_migrations_online()
