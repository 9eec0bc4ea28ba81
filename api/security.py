"""Passwords (argon2id), the API's signed tokens, and the login rate limit.

Tokens are JWTs signed with HMAC-SHA256 (PyJWT) by a key kept in the relational DB
(``signing_keys``), so every centre process sharing the DB accepts every other's
tokens. An access token lives :data:`ACCESS_TTL_S` seconds; a refresh token
:data:`REFRESH_TTL_S` seconds and only buys new access tokens. Both carry the user's
``token_version``: disabling a user bumps it, so tokens issued before stop working
at once (each request checks the user against the DB).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.models import SigningKey
from dsp.errors import RfwatchError

__all__ = [
    "ACCESS_TTL_S",
    "AuthError",
    "LoginRateLimiter",
    "REFRESH_TTL_S",
    "TokenClaims",
    "TokenSigner",
    "hash_password",
    "verify_password",
]

ACCESS_TTL_S = 15 * 60
REFRESH_TTL_S = 12 * 3600
_ALGORITHM = "HS256"
_hasher = PasswordHasher()
#: Verified against when a user does not exist, so a wrong name costs as much time as
#: a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(RfwatchError):
    """A credential or token was refused."""


def hash_password(password: str) -> str:
    """An argon2id hash (salted, with its parameters) of ``password``."""
    if len(password) < 8:
        raise AuthError("mật khẩu cần ít nhất 8 ký tự / a password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (``None``: no such user)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: who, which kind, the user's token version."""

    user: str
    role: str
    kind: str  # "access" | "refresh"
    version: int
    expires_s: int


class TokenSigner:
    """Issue and check tokens with the key from the DB (created on first use)."""

    def __init__(self, sessions: sessionmaker[Session],
                 clock: Callable[[], float] = time.time) -> None:
        self._sessions = sessions
        self._clock = clock
        self._key: str | None = None
        self._lock = threading.Lock()

    def _secret(self) -> str:
        with self._lock:
            if self._key is None:
                with self._sessions.begin() as session:
                    row = session.scalars(select(SigningKey).order_by(SigningKey.id)).first()
                    if row is None:
                        row = SigningKey(secret=secrets.token_urlsafe(48),
                                         created_ns=time.time_ns())
                        session.add(row)
                    self._key = row.secret
            return self._key

    def issue(self, user: str, role: str, version: int, kind: str = "access") -> tuple[str, int]:
        """A signed token and its lifetime in seconds."""
        ttl_s = ACCESS_TTL_S if kind == "access" else REFRESH_TTL_S
        now = int(self._clock())
        claims = {"sub": user, "role": role, "typ": kind, "ver": version,
                  "iat": now, "exp": now + ttl_s, "jti": secrets.token_hex(8)}
        return jwt.encode(claims, self._secret(), algorithm=_ALGORITHM), ttl_s

    def check(self, token: str, kind: str = "access") -> TokenClaims:
        """The claims of a valid, unexpired token of ``kind``.

        Raises
        ------
        AuthError
            Bad signature, expired, malformed, or of the other kind.
        """
        try:
            claims = jwt.decode(token, self._secret(), algorithms=[_ALGORITHM],
                                options={"require": ["sub", "exp", "typ", "ver"]},
                                leeway=0)
        except jwt.ExpiredSignatureError as err:
            raise AuthError("mã truy cập đã hết hạn / token expired") from err
        except jwt.PyJWTError as err:
            raise AuthError("mã truy cập không hợp lệ / token not valid") from err
        if claims.get("typ") != kind:
            raise AuthError(f"cần mã loại {kind} / a {kind} token is needed")
        return TokenClaims(str(claims["sub"]), str(claims.get("role", "")), kind,
                           int(claims["ver"]), int(claims["exp"]))


class LoginRateLimiter:
    """At most ``max_failures`` failed logins per user name and per client address in
    any ``window_s`` seconds; beyond that logins are refused until the window slides.

    >>> t = [0.0]; rl = LoginRateLimiter(max_failures=2, window_s=60, clock=lambda: t[0])
    >>> rl.failed("ana", "10.0.0.1"); rl.failed("ana", "10.0.0.1"); rl.retry_after("ana", "x")
    60
    >>> t[0] = 61.0; rl.retry_after("ana", "x")
    0
    """

    def __init__(self, *, max_failures: int = 5, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def retry_after(self, user: str, address: str) -> int:
        """Seconds until another try is allowed (0: allowed now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in (f"u:{user}", f"a:{address}"):
                q = self._prune(key, now)
                if len(q) >= self.max_failures:
                    wait = max(wait, q[0] + self.window_s - now)
        return int(wait + 0.999) if wait > 0 else 0

    def failed(self, user: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (f"u:{user}", f"a:{address}"):
                self._prune(key, now).append(now)
