"""Alembic revisions (a package so that a wheel ships them)."""
