"""Who may do what: the role matrix, the user-auth dependency, role-bound transitions.

Every route of the API declares exactly one permission with ``Depends(Require(P))``
(or :data:`PUBLIC` for the login page and the token endpoint; station routes use the
station token dependency). ``tests/unit/api/test_role_matrix.py`` walks every route
and checks it against :data:`PERMISSIONS` for every role.

==================  =====  =========  =====  ========
permission          admin  inspector  field  official
==================  =====  =========  =====  ========
cases:read          x      x          x      x
cases:assign        x      x
cases:transition    x      x          x      x   (which moves: TRANSITIONS_BY_ROLE)
cases:note          x      x          x
evidence:add        x      x          x
registry:read       x      x          x      x   (licences, foreign stations, plans)
registry:write      x      x
stations:read       x      x          x      x
spectra:read        x      x          x
alarms:read         x      x
users:read          x
users:write         x
audit:read          x                        x
==================  =====  =========  =====  ========
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket, status
from fastapi.security import OAuth2PasswordBearer

from api.models import ROLES, User
from api.security import AuthError, LoginRateLimiter, TokenSigner
from api.users import UserService
from compliance.lifecycle import ALLOWED_TRANSITIONS

__all__ = [
    "AuthContext",
    "CurrentUser",
    "PERMISSIONS",
    "PUBLIC",
    "Require",
    "TRANSITIONS_BY_ROLE",
    "UserDep",
    "allowed_transitions",
    "auth_context",
    "current_user",
    "user_from_token",
]

PUBLIC = "public"
_ALL = frozenset(ROLES)
PERMISSIONS: dict[str, frozenset[str]] = {
    "cases:read": _ALL,
    "cases:assign": frozenset({"admin", "inspector"}),
    "cases:transition": _ALL,
    "cases:note": frozenset({"admin", "inspector", "field"}),
    "evidence:add": frozenset({"admin", "inspector", "field"}),
    "registry:read": _ALL,
    "registry:write": frozenset({"admin", "inspector"}),
    "stations:read": _ALL,
    "spectra:read": frozenset({"admin", "inspector", "field"}),
    "alarms:read": frozenset({"admin", "inspector"}),
    "users:read": frozenset({"admin"}),
    "users:write": frozenset({"admin"}),
    "audit:read": frozenset({"admin", "official"}),
}

_EVERY_MOVE = frozenset((a, b) for a, tos in ALLOWED_TRANSITIONS.items() for b in tos)
#: The case moves each role may make (the lifecycle itself is compliance.lifecycle's).
TRANSITIONS_BY_ROLE: dict[str, frozenset[tuple[str, str]]] = {
    "admin": _EVERY_MOVE,
    "inspector": _EVERY_MOVE,
    # The field team reports what it found on site.
    "field": frozenset({("field_verification", "enforcement"),
                        ("field_verification", "dismissed")}),
    # An official closes a case after enforcement.
    "official": frozenset({("enforcement", "closed")}),
}


def allowed_transitions(role: str, from_status: str) -> list[str]:
    """The statuses a user of ``role`` may move a case in ``from_status`` to."""
    moves = TRANSITIONS_BY_ROLE.get(role, frozenset())
    return [to for to in ALLOWED_TRANSITIONS.get(from_status, ()) if (from_status, to) in moves]


@dataclass(frozen=True, slots=True)
class CurrentUser:
    name: str
    role: str


class AuthContext:
    """Signer, rate limiter and user service of one app (built on first use)."""

    def __init__(self, request_app) -> None:  # noqa: ANN001 - FastAPI
        sessions = request_app.state.services.sessions
        self.users = UserService(sessions)
        self.signer = TokenSigner(sessions)
        self.limiter = LoginRateLimiter()


_context_lock = threading.Lock()


def auth_context(request: Request) -> AuthContext:
    app = request.app
    with _context_lock:
        ctx = getattr(app.state, "auth", None)
        if ctx is None:
            ctx = AuthContext(app)
            app.state.auth = ctx
    return ctx


_oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_UNAUTHORISED = {"WWW-Authenticate": "Bearer"}


def user_from_token(ctx: AuthContext, token: str | None) -> CurrentUser:
    """The user an access token belongs to, checked against the DB.

    Raises
    ------
    HTTPException
        401 when the token is missing, invalid, expired, or its user is disabled.
    """
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Cần đăng nhập / login required",
                            headers=_UNAUTHORISED)
    try:
        claims = ctx.signer.check(token, "access")
    except AuthError as err:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(err),
                            headers=_UNAUTHORISED) from err
    user: User | None = ctx.users.get(claims.user)
    if user is None or not user.active or user.token_version != claims.version:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "Tài khoản bị khoá / account disabled", headers=_UNAUTHORISED)
    return CurrentUser(user.name, user.role)


def current_user(
    request: Request, token: Annotated[str | None, Depends(_oauth2)]
) -> CurrentUser:
    """The logged-in user of the request (401 otherwise)."""
    return user_from_token(auth_context(request), token)


UserDep = Annotated[CurrentUser, Depends(current_user)]


class Require:
    """Dependency: the current user, who must hold ``permission`` (403 otherwise)."""

    def __init__(self, permission: str) -> None:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        self.permission = permission

    def __call__(self, user: UserDep) -> CurrentUser:
        if user.role not in PERMISSIONS[self.permission]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"Vai trò {user.role} không được phép / role {user.role} may not "
                f"({self.permission})",
            )
        return user


def ws_user(websocket: WebSocket, permission: str) -> CurrentUser | None:
    """The user of a WebSocket (token in the ``access_token`` query parameter), or
    ``None`` when missing, invalid or not allowed ``permission``."""
    app = websocket.app
    with _context_lock:
        ctx = getattr(app.state, "auth", None)
        if ctx is None:
            ctx = AuthContext(app)
            app.state.auth = ctx
    try:
        user = user_from_token(ctx, websocket.query_params.get("access_token"))
    except HTTPException:
        return None
    return user if user.role in PERMISSIONS[permission] else None
