"""Ingest route: stations POST their outbox batches here (one batch per request).

The station is authenticated first (the body limit was enforced before that, while
reading); the body is then parsed by :func:`centre.ingest.parse_batch`: a bad
envelope is 422, bad items are returned in ``rejected`` while the good ones are
taken. 503 means a store is down (the station retries); never 500 for bad input.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel

from api.deps import IngestDep, StationDep
from dsp.errors import InputFormatError, StorageError
from stations.batch import Batch

__all__ = ["IngestPublic", "RejectedPublic", "document_body", "router"]

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])
BATCHES_PATH = "/api/v1/ingest/batches"


class RejectedPublic(BaseModel):
    """An item the centre refused: its index in the batch, its kind and why."""

    index: int
    kind: str | None = None
    reason: str


class IngestPublic(BaseModel):
    """The centre's answer: ``accepted`` the first time, ``duplicate`` after that;
    ``rejected`` lists the items refused (the rest were taken)."""

    batch_id: str
    status: str
    n_points: int = 0
    n_findings: int = 0
    case_ids: list[str] = []
    n_rejected: int = 0
    rejected: list[RejectedPublic] = []


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/batches",
    response_model=IngestPublic,
    responses={
        401: {"description": "no bearer token"},
        403: {"description": "token not valid, or another station's"},
        413: {"description": "body over the limit"},
        422: {"description": "not a batch (the envelope is invalid)"},
        503: {"description": "a store is down: retry later"},
    },
)
def post_batch(
    station_id: StationDep,
    body: Annotated[bytes, Depends(_raw_body)],
    ingest: IngestDep,
) -> IngestPublic:
    """Take in one batch from the authenticated station (idempotent by station and
    ``batch_id``)."""
    try:
        result = ingest.ingest_body(body, station_id=station_id)
    except PermissionError as err:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=(
                f"Mã truy cập của trạm {station_id} không gửi được cho trạm khác"
                f" / token of station {station_id} cannot send for another station"
            ),
        ) from err
    except InputFormatError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(err)) from err
    except StorageError as err:
        # The station keeps the batch and retries with back-off.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(err)) from err
    return IngestPublic(
        batch_id=result.batch_id,
        status=result.status,
        n_points=result.n_points,
        n_findings=result.n_findings,
        case_ids=list(result.case_ids),
        n_rejected=len(result.rejected),
        rejected=[RejectedPublic(**r.to_json()) for r in result.rejected],
    )


def document_body(schema: dict[str, Any]) -> None:
    """Put the batch schema into the OpenAPI document as the route's request body
    (the route reads the body itself, after authentication)."""
    batch = Batch.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = batch.pop("$defs", {})
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(defs)
    components["Batch"] = batch
    op = schema["paths"][BATCHES_PATH]["post"]
    op["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}},
    }
