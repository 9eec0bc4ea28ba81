"""Live spectrum over WebSocket: ``/api/v1/live/{station_id}?band=&access_token=``.

One bridge thread takes every frame from the centre's live hub, encodes it once
(:mod:`api.live_frames`) and hands the bytes to each matching client's queue on
the event loop. A client's queue holds :data:`CLIENT_QUEUE` frames; when a slow
client's queue is full its oldest frame is dropped, so a slow client loses frames
but never slows the others, and the hub (hence ingest) never waits at all.
"""

from __future__ import annotations

import asyncio
import threading

from fastapi import APIRouter, WebSocket

from api import centre_access
from api.authz import ws_user
from api.live_frames import encode_frame
from api.ws_pump import pump

__all__ = ["CLIENT_QUEUE", "LiveFanout", "router"]

router = APIRouter(tags=["live"])
CLIENT_QUEUE = 4


class _Client:
    def __init__(self, station_id: str, band: str | None) -> None:
        self.station_id = station_id
        self.band = band
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        self.dropped = 0
        self.sent = 0

    def offer(self, payload: bytes) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(payload)


class LiveFanout:
    """Hub frames -> encoded once -> every matching WebSocket client's queue."""

    def __init__(self, hub, loop: asyncio.AbstractEventLoop) -> None:  # noqa: ANN001
        self._loop = loop
        self._clients: set[_Client] = set()
        #: The most frames any one client (gone or connected) has lost so far.
        self.max_dropped = 0
        self._sub = hub.subscribe(maxsize=256)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-fanout", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self._sub.get(timeout=0.2)
            if self._loop.is_closed():  # the app's server has stopped
                self._sub.close()
                return
            if frame is None:
                continue
            payload = encode_frame(frame)
            try:
                self._loop.call_soon_threadsafe(self._dispatch, frame.station_id, frame.band,
                                                payload)
            except RuntimeError:  # the loop is closed: the app stopped
                return

    def _dispatch(self, station_id: str, band: str, payload: bytes) -> None:
        for client in list(self._clients):
            if client.station_id == station_id and client.band in (None, band):
                client.offer(payload)

    def add(self, client: _Client) -> None:
        self._clients.add(client)

    def remove(self, client: _Client) -> None:
        self.max_dropped = max(self.max_dropped, client.dropped)
        self._clients.discard(client)

    def close(self) -> None:
        self._stop.set()
        self._sub.close()


def _fanout(websocket: WebSocket) -> LiveFanout:
    app = websocket.app
    fan = getattr(app.state, "live_fanout", None)
    if fan is None or fan._loop is not asyncio.get_running_loop():
        fan = LiveFanout(centre_access.hub(app), asyncio.get_running_loop())
        app.state.live_fanout = fan
    return fan


@router.websocket("/api/v1/live/{station_id}")
async def live(websocket: WebSocket, station_id: str) -> None:
    """Binary live frames of one station (optionally one band); closes with 1008 when
    the token is missing or the role may not read spectra."""
    user = await asyncio.to_thread(ws_user, websocket, "spectra:read")
    if user is None:
        await websocket.close(code=1008)
        return
    await websocket.accept()
    band = websocket.query_params.get("band") or None
    client = _Client(station_id, band)
    fan = _fanout(websocket)
    fan.add(client)
    async def send(payload: bytes) -> None:
        await websocket.send_bytes(payload)
        client.sent += 1

    try:
        await pump(websocket, client.queue, send)
    finally:
        fan.remove(client)
