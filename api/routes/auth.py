"""Login (OAuth2 password flow), token refresh, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status

from api.authz import PERMISSIONS, PUBLIC, AuthContext, Require, UserDep, auth_context
from api.schemas.auth import MePublic, RefreshCreate, TokenPublic
from api.schemas.common import responses
from api.security import AuthError
from api.users import audit

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
ContextDep = Annotated[AuthContext, Depends(auth_context)]


def _tokens(ctx: AuthContext, name: str, role: str, version: int) -> TokenPublic:
    access, ttl_s = ctx.signer.issue(name, role, version, "access")
    refresh, _ = ctx.signer.issue(name, role, version, "refresh")
    return TokenPublic(access_token=access, expires_in=ttl_s, refresh_token=refresh, role=role,
                       user=name)


@router.post("/token", response_model=TokenPublic, responses=responses(401, 422, 429),
             openapi_extra={"x-permission": PUBLIC})
def login(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
) -> TokenPublic:
    """Đăng nhập / log in with a user name and password (form fields, OAuth2).

    Failed logins are limited per user name and per address (429 with Retry-After).
    """
    address = request.client.host if request.client else "?"
    wait_s = ctx.limiter.retry_after(username, address)
    if wait_s:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"Thử lại sau {wait_s} s / too many attempts, retry in {wait_s} s",
                            headers={"Retry-After": str(wait_s)})
    try:
        user = ctx.users.authenticate(username, password)
    except AuthError as err:
        ctx.limiter.failed(username, address)
        with request.app.state.services.sessions.begin() as session:
            audit(session, username, "login.failed", f"user:{username}", {"address": address})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(err),
                            headers={"WWW-Authenticate": "Bearer"}) from err
    with request.app.state.services.sessions.begin() as session:
        audit(session, user.name, "login", f"user:{user.name}", {"address": address})
    return _tokens(ctx, user.name, user.role, user.token_version)


@router.post("/refresh", response_model=TokenPublic, responses=responses(401, 422),
             openapi_extra={"x-permission": PUBLIC})
def refresh(body: RefreshCreate, ctx: ContextDep) -> TokenPublic:
    """Đổi mã làm mới lấy mã truy cập mới / a new access token for a refresh token."""
    try:
        claims = ctx.signer.check(body.refresh_token, "refresh")
    except AuthError as err:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(err),
                            headers={"WWW-Authenticate": "Bearer"}) from err
    user = ctx.users.get(claims.user)
    if user is None or not user.active or user.token_version != claims.version:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Tài khoản bị khoá / account disabled",
                            headers={"WWW-Authenticate": "Bearer"})
    return _tokens(ctx, user.name, user.role, user.token_version)


@router.get("/me", response_model=MePublic, responses=responses(401, 403),
            dependencies=[Depends(Require("cases:read"))])
def me(user: UserDep) -> MePublic:
    """Người dùng hiện tại / the logged-in user and what they may do."""
    return MePublic(name=user.name, role=user.role,
                    permissions=sorted(p for p, roles in PERMISSIONS.items()
                                       if user.role in roles))
