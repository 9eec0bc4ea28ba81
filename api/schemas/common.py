"""Schemas and response documentation shared by the routers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["ErrorPublic", "responses"]


class ErrorPublic(BaseModel):
    """An error answer: ``detail`` in Vietnamese / English."""

    detail: Any


_TEXT = {
    400: "Yêu cầu sai / bad request",
    401: "Chưa đăng nhập hoặc mã hết hạn / not logged in or token expired",
    403: "Vai trò không được phép / role not allowed",
    404: "Không tìm thấy / not found",
    409: "Xung đột / conflict (e.g. an illegal case transition)",
    413: "Tệp quá lớn / upload too large",
    422: "Dữ liệu không hợp lệ / invalid input",
    429: "Quá nhiều lần thử / too many attempts",
    503: "CSDL tạm thời không ghi được / the database refused the write for now (retry)",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a route can answer (401 and 403 of
    the auth dependency, 422 of validation included by every caller that needs them)."""
    return {code: {"model": ErrorPublic, "description": _TEXT[code]} for code in codes}


#: What every authenticated route can answer besides its success.
AUTHED = (401, 403, 422)
