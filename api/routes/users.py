"""Users (admin only) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from api.authz import CurrentUser, Require
from api.schemas.common import responses
from api.schemas.users import AuditPublic, UserCreate, UserPublic
from api.users import UserService, audit_entries
from compliance.cases import ns_to_iso
from dsp.errors import ParameterError

__all__ = ["router", "user_public"]

router = APIRouter(prefix="/api/v1", tags=["users"])


def user_public(u) -> UserPublic:  # noqa: ANN001 - api.models.User
    return UserPublic(name=u.name, role=u.role, active=u.active, created=ns_to_iso(u.created_ns),
                      disabled=None if u.disabled_ns is None else ns_to_iso(u.disabled_ns))


def _service(request: Request) -> UserService:
    return UserService(request.app.state.services.sessions)


@router.get("/users", response_model=list[UserPublic], responses=responses(401, 403))
def list_users(request: Request,
               _user: Annotated[CurrentUser, Depends(Require("users:read"))]) -> list[UserPublic]:
    """Danh sách người dùng / every user."""
    return [user_public(u) for u in _service(request).list()]


@router.post("/users", response_model=UserPublic, status_code=201,
             responses=responses(401, 403, 409, 422))
def add_user(request: Request, body: UserCreate,
             user: Annotated[CurrentUser, Depends(Require("users:write"))]) -> UserPublic:
    """Thêm người dùng / add a user."""
    try:
        created = _service(request).add(body.name, body.role, body.password, actor=user.name)
    except ParameterError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    return user_public(created)


@router.post("/users/{name}/disable", response_model=UserPublic,
             responses=responses(401, 403, 404, 422))
def disable_user(request: Request, name: str,
                 user: Annotated[CurrentUser, Depends(Require("users:write"))]) -> UserPublic:
    """Khoá người dùng / disable a user (their tokens stop working at once)."""
    try:
        return user_public(_service(request).disable(name, actor=user.name))
    except ParameterError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err


@router.get("/audit", response_model=list[AuditPublic], responses=responses(401, 403, 422))
def audit_log(
    request: Request,
    _user: Annotated[CurrentUser, Depends(Require("audit:read"))],
    subject: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditPublic]:
    """Nhật ký kiểm toán / the audit log (newest ``limit`` lines, oldest first)."""
    with request.app.state.services.sessions() as session:
        rows = audit_entries(session, subject, limit)
    return [AuditPublic(id=r.id, t=r.t.isoformat().replace("+00:00", "Z"), actor=r.actor,
                        action=r.action, subject=r.subject, detail=r.detail) for r in rows]
