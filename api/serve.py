"""Serve the centre's app from a background thread (the demo, tests, benchmarks).

uvicorn on a socket bound here, so the port is known before it starts (port 0: a
free one) and the same port can be served again after :meth:`BackgroundServer.stop`.
"""

from __future__ import annotations

import socket
import threading
import time

from fastapi import FastAPI

from dsp.errors import RfwatchError

__all__ = ["BackgroundServer", "WS_PROTOCOL"]

#: uvicorn's WebSocket implementation. Its default (sans-I/O) writes to the socket
#: without waiting for it to drain, so a stalled live-view client would pile every
#: frame up in the centre's memory; this one waits, which lets the live fan-out drop
#: that client's frames instead (api.routes.live_ws).
WS_PROTOCOL = "websockets"


class BackgroundServer:
    """uvicorn serving ``app`` on ``host:port`` in a daemon thread."""

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host = host
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                ws=WS_PROTOCOL)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self, timeout_s: float = 20.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RfwatchError("không khởi động được trung tâm / the centre did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
