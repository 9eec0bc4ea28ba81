"""ORM classes of the API: users, signing keys, alarm acknowledgements, the audit log.

Tables from migration ``0007_users`` (the ``audit_log`` table itself is the
foundation's, ``0001_foundation``; ``0007_users`` makes it append-only in the
database, and :class:`AuditEntry` refuses UPDATE/DELETE in code as well).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from dsp.errors import RfwatchError
from storage.db import Base

__all__ = ["AlarmAck", "AuditEntry", "ROLES", "SigningKey", "User"]

#: The roles of people (stations authenticate with station tokens, not as users).
ROLES = ("admin", "inspector", "field", "official")


class User(Base):
    """A person who logs in: name, role, argon2 hash of the password."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    password_hash: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Bumped on disable: every token issued before carries the old version and fails.
    token_version: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_ns: Mapped[int] = mapped_column(sa.BigInteger)
    disabled_ns: Mapped[int | None] = mapped_column(sa.BigInteger)


class SigningKey(Base):
    """The HMAC key of the API's tokens, shared by every centre process through the DB."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    secret: Mapped[str] = mapped_column(sa.String(128))
    created_ns: Mapped[int] = mapped_column(sa.BigInteger)


class AlarmAck(Base):
    """A user acknowledged a case's alarms up to (and including) ``finding_id``."""

    __tablename__ = "alarm_acks"

    user_name: Mapped[str] = mapped_column(sa.ForeignKey("users.name"), primary_key=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.Integer)
    t_ns: Mapped[int] = mapped_column(sa.BigInteger)


class AuditEntry(Base):
    """One line of the append-only audit log: who (actor) did what (action) to what
    (subject, e.g. ``case:<id>`` or ``user:<name>``), with details as JSON."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    t: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(100))
    subject: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    detail: Mapped[dict | None] = mapped_column(sa.JSON)


def _refuse(_mapper: object, _conn: object, target: AuditEntry) -> None:
    raise RfwatchError(f"nhật ký kiểm toán chỉ được thêm / the audit log is append-only "
                       f"(entry {target.id})")


event.listen(AuditEntry, "before_update", _refuse)
event.listen(AuditEntry, "before_delete", _refuse)
