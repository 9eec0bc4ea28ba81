"""Cases: filter and page, show, assign, transition, notes, evidence up and down.

Cases are read and changed only through :class:`compliance.cases.CaseService`; every
change is also written to the audit log (subject ``case:<id>``) with the user's name
as the actor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import FileResponse

from api import centre_access
from api.authz import CurrentUser, Require, allowed_transitions
from api.evidence_store import EvidenceStore
from api.schemas.cases import (
    AssignCreate,
    CaseDetailPublic,
    CasePublic,
    EvidencePublic,
    FindingPublic,
    HistoryPublic,
    LocationPublic,
    NoteCreate,
    SitePublic,
    TransitionCreate,
)
from api.schemas.common import responses
from api.users import audit, audit_entries
from compliance.cases import CaseService, case_summary, ns_to_iso
from compliance.models import EVIDENCE_KINDS, Case
from dsp.errors import ComplianceError, InputFormatError, StorageError

__all__ = ["case_detail", "evidence_store", "router"]

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


def _service(request: Request) -> CaseService:
    return CaseService(centre_access.sessions(request))


def _located(request: Request) -> CaseService:
    """The case service, after locating the cases whose emitter changed since
    (compliance.location; cheap when nothing changed)."""
    service = _service(request)
    service.refresh_locations()
    return service


def evidence_store(request: Request) -> EvidenceStore:
    return EvidenceStore(centre_access.evidence_root(request) / "store")


def _get(service: CaseService, case_id: str) -> Case:
    try:
        return service.get(case_id)
    except ComplianceError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err


def _iso(t) -> str:  # noqa: ANN001 - datetime
    from datetime import UTC

    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@router.get("", response_model=list[CasePublic], response_model_by_alias=True,
            responses=responses(401, 403, 422))
def list_cases(
    request: Request,
    response: Response,
    _user: Annotated[CurrentUser, Depends(Require("cases:read"))],
    status_: Annotated[str | None, Query(alias="status", max_length=24)] = None,
    emitter_class: Annotated[str | None, Query(alias="class", max_length=16)] = None,
    station: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(max_length=40, description="finding kind")] = None,
    f_min_hz: Annotated[float | None, Query(ge=0, le=1e12)] = None,
    f_max_hz: Annotated[float | None, Query(ge=0, le=1e12)] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[dict]:
    """Vụ việc / cases, newest sighting first, filtered; a page of ``limit`` from
    ``offset`` (the total is in the ``X-Total-Count`` header)."""
    from compliance.lifecycle import OPEN_STATUSES

    cases = _located(request).list_cases(status_)
    out = []
    for c in cases:
        if emitter_class and c.emitter_class != emitter_class:
            continue
        if open_only and c.status not in OPEN_STATUSES:
            continue
        if station and station not in c.stations:
            continue
        if assignee and c.assignee != assignee:
            continue
        if kind and kind not in c.finding_kinds:
            continue
        if f_min_hz is not None and c.f_hz < f_min_hz:
            continue
        if f_max_hz is not None and c.f_hz > f_max_hz:
            continue
        out.append(c)
    response.headers["X-Total-Count"] = str(len(out))
    return [case_summary(c) for c in out[offset:offset + limit]]


def _location(case: Case) -> LocationPublic | None:
    """The newest position estimate attached to the case (a field kit's JSON)."""
    best = None
    for e in case.evidence:
        if e.kind != "field_measurement":
            continue
        path = Path(e.uri)
        if not path.is_file() or path.stat().st_size > 1 << 20:
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            loc = LocationPublic(lat_deg=float(doc["lat_deg"]), lon_deg=float(doc["lon_deg"]),
                                 radius_m=float(doc["radius_m"]), n_points=doc.get("n_points"),
                                 station=e.added_by.removeprefix("station:"))
        except (ValueError, KeyError, TypeError):
            continue
        best = loc
    return best


def case_detail(request: Request, case: Case, role: str) -> dict:
    """Everything the case page shows."""
    doc = case_summary(case)
    doc["findings"] = [FindingPublic(
        id=f.id, kind=f.kind, station=f.station_id, t=ns_to_iso(f.t_ns), f_hz=f.f_hz,
        bw_hz=f.bw_hz, measured=f.measured, permitted=f.permitted, unit=f.unit,
        severity=f.severity, legal_basis=f.legal_basis, licence_id=f.licence_id, detail=f.detail,
    ).model_dump() for f in case.findings]
    doc["evidence"] = []
    for e in case.evidence:
        stored = Path(e.uri).is_file()
        doc["evidence"].append(EvidencePublic(
            id=e.id, kind=e.kind, sha256=e.sha256, size_bytes=e.size_bytes, added_by=e.added_by,
            added=ns_to_iso(e.added_ns), note=e.note, stored=stored,
            download=f"/api/v1/cases/{case.id}/evidence/{e.id}" if stored else None,
        ).model_dump())
    doc["history"] = [HistoryPublic(
        t=ns_to_iso(h.t_ns), actor=h.actor, action=h.action, from_status=h.from_status,
        to_status=h.to_status, detail=h.detail).model_dump(by_alias=True) for h in case.history]
    with centre_access.sessions(request)() as session:
        doc["audit"] = [{"t": _iso(a.t), "actor": a.actor, "action": a.action,
                         "detail": a.detail} for a in audit_entries(session, f"case:{case.id}")]
        rows = session.execute(sa.select(
            centre_access.STATIONS.c.id, centre_access.STATIONS.c.name,
            centre_access.STATIONS.c.lat_deg, centre_access.STATIONS.c.lon_deg)).all()
    heard = set(case.stations)
    doc["sites"] = [SitePublic(id=r[0], name=r[1], lat_deg=r[2], lon_deg=r[3],
                               heard=r[0] in heard).model_dump()
                    for r in rows if not (r[2] == 0.0 and r[3] == 0.0)]
    fit = _location(case)
    doc["drive_fit"] = None if fit is None else fit.model_dump()
    doc["location_note"] = case.location_note
    doc["allowed_transitions"] = allowed_transitions(role, case.status)
    return doc


@router.get("/{case_id}", response_model=CaseDetailPublic, response_model_by_alias=True,
            responses=responses(401, 403, 404, 422))
def show_case(request: Request, case_id: str,
              user: Annotated[CurrentUser, Depends(Require("cases:read"))]) -> dict:
    """Chi tiết vụ việc / one case: findings (measured vs permitted, legal basis),
    evidence with checksums, history, audit, position estimate, allowed moves."""
    return case_detail(request, _get(_located(request), case_id), user.role)


def _write(request: Request, user: CurrentUser, case_id: str, action: str, detail: dict,
           change) -> dict:  # noqa: ANN001 - a callable
    service = _service(request)
    _get(service, case_id)
    try:
        case = change(service)
    except ComplianceError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    except StorageError as err:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(err)) from err
    with centre_access.sessions(request).begin() as session:
        audit(session, user.name, action, f"case:{case_id}", detail)
    return case_detail(request, service.get(case_id) if not isinstance(case, Case) else case,
                       user.role)


@router.post("/{case_id}/assign", response_model=CaseDetailPublic, response_model_by_alias=True,
             responses=responses(401, 403, 404, 409, 422, 503))
def assign_case(request: Request, case_id: str, body: AssignCreate,
                user: Annotated[CurrentUser, Depends(Require("cases:assign"))]) -> dict:
    """Giao vụ việc / assign a case to a user."""
    return _write(request, user, case_id, "case.assign", body.model_dump(),
                  lambda s: s.assign(case_id, body.assignee, actor=user.name, reason=body.reason))


@router.post("/{case_id}/transition", response_model=CaseDetailPublic,
             response_model_by_alias=True, responses=responses(401, 403, 404, 409, 422, 503))
def transition_case(request: Request, case_id: str, body: TransitionCreate,
                    user: Annotated[CurrentUser, Depends(Require("cases:transition"))]) -> dict:
    """Chuyển trạng thái / move a case along its lifecycle (only the moves the user's
    role may make: 403 otherwise; an illegal move is 409)."""
    case = _get(_service(request), case_id)
    from compliance.lifecycle import ALLOWED_TRANSITIONS

    legal = body.to_status in ALLOWED_TRANSITIONS.get(case.status, ())
    if legal and body.to_status not in allowed_transitions(user.role, case.status):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"Vai trò {user.role} không được chuyển / role {user.role} may not "
                            f"move {case.status} -> {body.to_status}")
    return _write(request, user, case_id, "case.transition", body.model_dump(),
                  lambda s: s.transition(case_id, body.to_status, actor=user.name,
                                         reason=body.reason, dismiss_reason=body.dismiss_reason))


@router.post("/{case_id}/notes", response_model=CaseDetailPublic, response_model_by_alias=True,
             responses=responses(401, 403, 404, 409, 422, 503))
def add_note(request: Request, case_id: str, body: NoteCreate,
             user: Annotated[CurrentUser, Depends(Require("cases:note"))]) -> dict:
    """Ghi chú / add a note to the case history."""
    return _write(request, user, case_id, "case.note", {"text": body.text[:200]},
                  lambda s: s.add_note(case_id, body.text, actor=user.name))


@router.post("/{case_id}/evidence", response_model=EvidencePublic, status_code=201,
             responses=responses(401, 403, 404, 409, 413, 422, 503))
def upload_evidence(
    request: Request,
    case_id: str,
    user: Annotated[CurrentUser, Depends(Require("evidence:add"))],
    file: Annotated[UploadFile, File(description="the evidence file")],
    kind: Annotated[Literal[EVIDENCE_KINDS], Form()],  # type: ignore[valid-type]
    note: Annotated[str, Form(max_length=2000)] = "",
    sha256: Annotated[str | None, Form(pattern=r"^[0-9a-fA-F]{64}$",
                                       description="checked against the upload")] = None,
) -> EvidencePublic:
    """Tải chứng cứ lên / upload evidence: kept in the store by its SHA-256 (which,
    when given, must match the upload: 409 otherwise)."""
    service = _service(request)
    _get(service, case_id)
    try:
        sha, size, path = evidence_store(request).put_stream(file.file)
    except InputFormatError as err:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(err)) from err
    if sha256 is not None and sha256.lower() != sha:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"tổng kiểm không khớp / checksum mismatch: upload {sha}, "
                            f"given {sha256}")
    note_text = note or (file.filename or "")
    try:
        ev = service.add_evidence(case_id, kind, path, actor=user.name, sha256=sha, note=note_text)
    except ComplianceError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    except StorageError as err:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(err)) from err
    with centre_access.sessions(request).begin() as session:
        audit(session, user.name, "case.evidence", f"case:{case_id}",
              {"kind": kind, "sha256": sha, "size_bytes": size, "name": file.filename})
    return EvidencePublic(id=ev.id, kind=ev.kind, sha256=ev.sha256, size_bytes=ev.size_bytes,
                          added_by=ev.added_by, added=ns_to_iso(ev.added_ns), note=ev.note,
                          stored=True, download=f"/api/v1/cases/{case_id}/evidence/{ev.id}")


@router.get("/{case_id}/evidence/{evidence_id}", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "the file; its SHA-256 in X-Checksum-SHA256"},
                       **responses(401, 403, 404, 409, 422)})
def download_evidence(request: Request, case_id: str, evidence_id: int,
                      _user: Annotated[CurrentUser, Depends(Require("cases:read"))]
                      ) -> FileResponse:
    """Tải chứng cứ / download evidence; refused (409) when the file no longer has the
    checksum recorded with the case."""
    case = _get(_service(request), case_id)
    ev = next((e for e in case.evidence if e.id == evidence_id), None)
    if ev is None or not Path(ev.uri).is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"không có tệp chứng cứ / no evidence file {evidence_id}")
    if not CaseService.verify_evidence(ev):
        raise HTTPException(status.HTTP_409_CONFLICT,
                            "tệp đã bị thay đổi / the file no longer matches its checksum")
    name = f"{case_id}-{ev.id}-{ev.kind}-{ev.sha256[:12]}"
    return FileResponse(ev.uri, media_type="application/octet-stream", filename=name,
                        headers={"X-Checksum-SHA256": ev.sha256})
