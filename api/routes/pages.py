"""The desk's web pages and the API docs, every asset served from the package.

Pages are static HTML shells (``api/static``); their scripts call the REST API with
the token from the login page. Vietnamese by default, English on a switch
(``api/static/i18n.js``). ``/docs`` is Swagger UI from the files that the
``fastapi-offline`` package ships (no CDN).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from api.authz import PUBLIC

__all__ = ["PAGES", "STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
PAGES = ("login", "alarms", "cases", "case", "live")
_PUBLIC = {"x-permission": PUBLIC}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json",
          ".png": "image/png", ".html": "text/html"}

router = APIRouter(tags=["pages"], include_in_schema=False)


def _swagger_dir() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:
        return None
    return Path(fastapi_offline.__file__).resolve().parent / "static"


@router.get("/", openapi_extra=_PUBLIC)
def root() -> RedirectResponse:
    return RedirectResponse("/ui/login")


@router.get("/ui/{page}", response_class=HTMLResponse, openapi_extra=_PUBLIC)
def page(page: str) -> FileResponse:
    if page not in PAGES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "không có trang / no such page")
    return FileResponse(STATIC_DIR / f"{page}.html", media_type="text/html; charset=utf-8")


@router.get("/ui/static/{name}", openapi_extra=_PUBLIC)
def static(name: str) -> FileResponse:
    path = (STATIC_DIR / name).resolve()
    if path.parent != STATIC_DIR or not path.is_file() or path.suffix not in _TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "không có tệp / no such file")
    return FileResponse(path, media_type=_TYPES[path.suffix])


@router.get("/docs", response_class=HTMLResponse, openapi_extra=_PUBLIC)
def docs() -> HTMLResponse:
    """Swagger UI with local assets (off when fastapi-offline is not installed)."""
    if _swagger_dir() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "tài liệu tắt / docs are off")
    return get_swagger_ui_html(openapi_url="/openapi.json", title="rfwatch API",
                               swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs/assets/swagger-ui.css",
                               swagger_favicon_url="/docs/assets/favicon.png")


@router.get("/docs/assets/{name}", openapi_extra=_PUBLIC)
def docs_asset(name: str) -> FileResponse:
    folder = _swagger_dir()
    if folder is None or name not in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "không có tệp / no such file")
    return FileResponse(folder / name, media_type=_TYPES[Path(name).suffix])
