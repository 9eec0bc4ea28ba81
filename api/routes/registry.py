"""The registry: licences (list, import, export), foreign stations, channel plans."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi.responses import Response

from api import centre_access
from api.authz import CurrentUser, Require
from api.schemas.common import responses
from api.schemas.registry import ChannelPlanPublic, ForeignPublic, ImportPublic, LicencePublic
from api.users import audit
from compliance.reference import load_reference_data
from dsp.errors import InputFormatError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["registry"])
_MAX_IMPORT_BYTES = 32 * 1024 * 1024


@router.get("/licences", response_model=list[LicencePublic], responses=responses(401, 403, 422))
def list_licences(request: Request,
                  _user: Annotated[CurrentUser, Depends(Require("registry:read"))],
                  f_min_hz: Annotated[float | None, Query(ge=0, le=1e12)] = None,
                  f_max_hz: Annotated[float | None, Query(ge=0, le=1e12)] = None) -> list[dict]:
    """Giấy phép / licences (optionally within a frequency range)."""
    from compliance.registry import load_licences

    with centre_access.sessions(request)() as session:
        records = load_licences(session)
    return [r.model_dump(mode="json") for r in records
            if (f_min_hz is None or r.f_hz >= f_min_hz)
            and (f_max_hz is None or r.f_hz <= f_max_hz)]


@router.post("/licences/import", response_model=ImportPublic,
             responses=responses(401, 403, 413, 422))
def import_licences(
    request: Request,
    user: Annotated[CurrentUser, Depends(Require("registry:write"))],
    file: Annotated[UploadFile, File(description="CSV or XLSX with the licence header")],
    replace: Annotated[bool, Form()] = False,
) -> ImportPublic:
    """Nhập giấy phép / import licences (all-or-nothing; 422 names the line and field)."""
    from compliance.importers import read_licences
    from compliance.registry import save_licences

    data = file.file.read(_MAX_IMPORT_BYTES + 1)
    if len(data) > _MAX_IMPORT_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "tệp quá lớn / file too large")
    name = Path(file.filename or "licences.csv").name
    suffix = ".xlsx" if name.lower().endswith(".xlsx") else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            records = read_licences(path)
        except InputFormatError as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                str(err).replace(str(path), name)) from err
    with centre_access.sessions(request).begin() as session:
        n = save_licences(session, records, replace=replace)
        audit(session, user.name, "licences.import", "licences",
              {"file": name, "n": n, "replace": replace})
    return ImportPublic(imported=n, replaced=replace)


@router.get("/licences/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-"
                                         "officedocument.spreadsheetml.sheet": {}},
                             "description": "the licences as CSV or XLSX"},
                       **responses(401, 403, 422)})
def export_licences(request: Request,
                    _user: Annotated[CurrentUser, Depends(Require("registry:read"))],
                    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv") -> Response:
    """Xuất giấy phép / export licences (the import header)."""
    from compliance.importers import write_licences
    from compliance.registry import load_licences

    with centre_access.sessions(request)() as session:
        records = load_licences(session)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"licences.{format}"
        write_licences(path, records)
        data = path.read_bytes()
    media = ("text/csv; charset=utf-8" if format == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="licences.{format}"'})


@router.get("/foreign-stations", response_model=list[ForeignPublic],
            responses=responses(401, 403))
def list_foreign(request: Request,
                 _user: Annotated[CurrentUser, Depends(Require("registry:read"))]) -> list[dict]:
    """Đài nước ngoài / foreign stations near the border."""
    from compliance.registry import load_foreign_stations

    with centre_access.sessions(request)() as session:
        return [r.model_dump(mode="json") for r in load_foreign_stations(session)]


def _centres(plan, limit: int = 2000) -> list[float]:  # noqa: ANN001 - ChannelPlan
    if plan.raster_hz is None:
        return []
    lo = plan.first_centre_hz if plan.first_centre_hz is not None else plan.f_low_hz
    hi = plan.last_centre_hz if plan.last_centre_hz is not None else plan.f_high_hz
    first = plan.nearest_centre_hz(lo)
    out = []
    f = first
    while f is not None and f <= hi + 1e-6 and len(out) < limit:
        if f >= lo - 1e-6:
            out.append(f)
        f += plan.raster_hz
    return out


@router.get("/channel-plans", response_model=list[ChannelPlanPublic],
            responses=responses(401, 403))
def list_plans(_user: Annotated[CurrentUser, Depends(Require("registry:read"))]
               ) -> list[ChannelPlanPublic]:
    """Quy hoạch kênh / channel plans and their channel centres."""
    return [ChannelPlanPublic(
        id=p.id, name=p.name, service=p.service, f_low_hz=p.f_low_hz, f_high_hz=p.f_high_hz,
        raster_hz=p.raster_hz, channel_bw_hz=p.channel_bw_hz, max_power_w=p.max_power_w,
        unsure=p.unsure, source=p.source, centres_hz=_centres(p),
    ) for p in load_reference_data().channel_plans]
