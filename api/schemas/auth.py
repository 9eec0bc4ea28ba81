"""Schemas of login and tokens."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["MePublic", "RefreshCreate", "TokenPublic"]


class TokenPublic(BaseModel):
    """OAuth2 token answer (RFC 6749 section 5.1) plus a refresh token and the role."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds the access token is valid")
    refresh_token: str
    role: str
    user: str


class RefreshCreate(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=2000)


class MePublic(BaseModel):
    name: str
    role: str
    permissions: list[str]
