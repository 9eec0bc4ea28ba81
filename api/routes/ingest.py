"""Ingest route: stations POST their outbox batches here (one batch per request)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from api.deps import IngestDep, StationDep
from dsp.errors import InputFormatError, StorageError
from stations.batch import Batch

__all__ = ["IngestPublic", "router"]

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])


class IngestPublic(BaseModel):
    """The centre's answer: ``accepted`` the first time, ``duplicate`` after that."""

    batch_id: str
    status: str
    n_points: int = 0
    n_findings: int = 0
    case_ids: list[str] = []


@router.post("/batches", response_model=IngestPublic)
def post_batch(batch: Batch, station_id: StationDep, ingest: IngestDep) -> IngestPublic:
    """Take in one batch from the authenticated station (idempotent by ``batch_id``)."""
    if batch.station_id != station_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=(
                f"Mã truy cập của trạm {station_id} không gửi được cho trạm {batch.station_id}"
                f" / token of station {station_id} cannot send for {batch.station_id}"
            ),
        )
    try:
        result = ingest.ingest(batch)
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
    )
