"""Send from a queue to a WebSocket until the client goes away.

The handler also listens on the socket, so a client that disconnects (or a server
shutting down) ends the handler at once instead of when the next message is due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

__all__ = ["pump"]


async def _until_disconnect(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def pump(websocket: WebSocket, queue: asyncio.Queue[Any],
               send: Callable[[Any], Awaitable[None]]) -> None:
    """Forward ``queue`` items through ``send`` until the socket closes."""
    closed = asyncio.create_task(_until_disconnect(websocket))
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                return
            await send(getter.result())
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        closed.cancel()
