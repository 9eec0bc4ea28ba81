"""Users (add, list, disable, authenticate) and the append-only audit log.

Used by ``rfwatch users ...`` and by the API's auth and users routes. Every change
of a user is written to the audit log in the same transaction.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.models import ROLES, AuditEntry, User
from api.security import AuthError, hash_password, verify_password
from dsp.errors import ParameterError

__all__ = ["UserService", "audit", "audit_entries"]

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


def audit(session: Session, actor: str, action: str, subject: str | None,
          detail: dict | None = None) -> None:
    """Append one line to the audit log (in the caller's transaction)."""
    session.add(AuditEntry(t=datetime.now(UTC), actor=actor, action=action, subject=subject,
                           detail=detail or {}))


def audit_entries(
    session: Session, subject: str | None = None, limit: int = 500
) -> list[AuditEntry]:
    """The newest ``limit`` audit lines (of one subject), oldest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject is not None:
        stmt = stmt.where(AuditEntry.subject == subject)
    return list(reversed(list(session.scalars(stmt))))


class UserService:
    """People's accounts in the relational DB (schema at ``0007_users`` or later)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, name: str, role: str, password: str, *, actor: str) -> User:
        """Create a user.

        Raises
        ------
        ParameterError
            A bad name or role, or a name already taken.
        AuthError
            A password shorter than 8 characters.
        """
        if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
            raise ParameterError(f"tên người dùng không hợp lệ / user name {name!r}: use "
                                 "a-z, 0-9, '.', '_', '-' (1-64)")
        if role not in ROLES:
            raise ParameterError(f"vai trò không hợp lệ / role {role!r} not one of "
                                 f"{', '.join(ROLES)}")
        user = User(name=name, role=role, password_hash=hash_password(password), active=True,
                    token_version=0, created_ns=time.time_ns())
        try:
            with self._sessions.begin() as session:
                if session.get(User, name) is not None:
                    raise ParameterError(f"người dùng đã có / user {name!r} exists")
                session.add(user)
                audit(session, actor, "user.add", f"user:{name}", {"role": role})
        except IntegrityError as err:
            raise ParameterError(f"người dùng đã có / user {name!r} exists") from err
        return user

    def list(self) -> list[User]:
        with self._sessions() as session:
            return list(session.scalars(select(User).order_by(User.name)))

    def get(self, name: str) -> User | None:
        with self._sessions() as session:
            return session.get(User, name)

    def disable(self, name: str, *, actor: str) -> User:
        """Disable a user; every token issued to them stops working."""
        with self._sessions.begin() as session:
            user = session.get(User, name)
            if user is None:
                raise ParameterError(f"không có người dùng / no user {name!r}")
            user.active = False
            user.disabled_ns = time.time_ns()
            user.token_version += 1
            audit(session, actor, "user.disable", f"user:{name}")
            return user

    def set_password(self, name: str, password: str, *, actor: str) -> None:
        """A new password for an active or disabled user (re-enables the account and
        ends its tokens)."""
        password_hash = hash_password(password)
        with self._sessions.begin() as session:
            user = session.get(User, name)
            if user is None:
                raise ParameterError(f"không có người dùng / no user {name!r}")
            user.password_hash = password_hash
            user.active = True
            user.disabled_ns = None
            user.token_version += 1
            audit(session, actor, "user.password", f"user:{name}")

    def authenticate(self, name: str, password: str) -> User:
        """The active user whose password this is.

        Raises
        ------
        AuthError
            Unknown user, wrong password or a disabled account (one message for all).
        """
        user = self.get(name)
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or user is None or not user.active:
            raise AuthError("sai tên hoặc mật khẩu / wrong user name or password")
        return user
