"""Request body limit, enforced while the body is read: before parsing, before
authentication (a pure ASGI middleware, so no route ever sees a larger body).

A declared ``Content-Length`` over the limit is refused at once; a chunked body is
counted as it arrives and refused as soon as it passes the limit. Either way the
answer is 413 and at most ``limit_bytes`` (+ one chunk) were held in memory.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BodyLimitMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyLimitMiddleware:
    """Refuse HTTP request bodies larger than ``limit_bytes`` with 413."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, limit_bytes: int) -> None:
        self.app = app
        self.limit_bytes = int(limit_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _answer(send, 400, "Content-Length không hợp lệ / bad Content-Length")
                    return
                if declared > self.limit_bytes:
                    await _too_large(send, self.limit_bytes)
                    return
        # Read the whole body now (bounded), then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit_bytes:
                await _too_large(send, self.limit_bytes)
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        whole = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    await _answer(
        send, 413, f"Thân yêu cầu quá lớn / request body over the limit of {limit} bytes"
    )


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    })
    await send({"type": "http.response.body", "body": body})
