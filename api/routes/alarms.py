"""Alarms: the pending list, acknowledge, and the push channel (WebSocket)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Request,
    WebSocket,
    status,
)

from api import centre_access
from api.alarms import AlarmWatcher, ack, pending_alarms
from api.authz import CurrentUser, Require, ws_user
from api.schemas.alarms import AckPublic, AlarmPublic
from api.schemas.common import responses
from api.users import audit
from api.ws_pump import pump
from compliance.models import Case

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/alarms", tags=["alarms"])


@router.get("", response_model=list[AlarmPublic], response_model_by_alias=True,
            responses=responses(401, 403))
def list_alarms(request: Request,
                user: Annotated[CurrentUser, Depends(Require("alarms:read"))]) -> list[AlarmPublic]:
    """Cảnh báo chưa xác nhận / open cases with findings this user has not acknowledged."""
    with centre_access.sessions(request)() as session:
        return [AlarmPublic(**a) for a in pending_alarms(session, user.name)]


@router.post("/{case_id}/ack", response_model=AckPublic, responses=responses(401, 403, 404, 422))
def ack_alarm(request: Request, case_id: str,
              user: Annotated[CurrentUser, Depends(Require("alarms:read"))]) -> AckPublic:
    """Xác nhận cảnh báo / acknowledge a case's alarms so far."""
    with centre_access.sessions(request).begin() as session:
        if session.get(Case, case_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"không có vụ việc / no case {case_id}")
        fid = ack(session, user.name, case_id)
        audit(session, user.name, "alarm.ack", f"case:{case_id}", {"finding_id": fid})
    return AckPublic(case_id=case_id, finding_id=fid)


class _AlarmClients:
    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[dict]] = set()

    def emit(self, event: dict) -> None:
        for q in list(self.queues):
            if q.full():
                q.get_nowait()
            q.put_nowait(event)


def _watcher(websocket: WebSocket) -> _AlarmClients:
    app = websocket.app
    loop = asyncio.get_running_loop()
    state = getattr(app.state, "alarm_push", None)
    if state is None or state[0]._loop is not loop:
        clients = _AlarmClients()
        watcher = AlarmWatcher(app.state.services.sessions, loop, clients.emit)
        state = (watcher, clients)
        app.state.alarm_push = state
    return state[1]


@router.websocket("/ws")
async def alarm_push(websocket: WebSocket) -> None:
    """Cảnh báo tức thời / alarms pushed as JSON text messages (token in
    ``access_token``); closes with 1008 when not allowed."""
    user = await asyncio.to_thread(ws_user, websocket, "alarms:read")
    if user is None:
        await websocket.close(code=1008)
        return
    await websocket.accept()
    clients = _watcher(websocket)
    queue: asyncio.Queue[dict] = asyncio.Queue(maxsize=256)
    clients.queues.add(queue)
    async def send(event: dict) -> None:
        await websocket.send_text(json.dumps(event, ensure_ascii=False))

    try:
        await pump(websocket, queue, send)
    finally:
        clients.queues.discard(queue)
