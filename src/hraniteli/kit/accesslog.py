"""The access log: method, route, status and duration of each HTTP request, and nothing else."""

from __future__ import annotations

import logging
import time

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hraniteli.access")

MAX_PATH_LENGTH = 200


class AccessLogMiddleware:
    """Query strings carry editor secrets, application numbers and tokens, headers carry keys,
    bodies carry health data and client addresses are personal data: none of them is logged.
    A matched route is logged by its template (`/api/v1/applications/{number}`), so ids and
    numbers in the path stay out too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before responding

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            if log.isEnabledFor(logging.INFO):
                elapsed_ms = (time.perf_counter() - started) * 1000
                log.info("%s %s %d %.1f ms", scope["method"], _logged_path(scope), status, elapsed_ms)


def _logged_path(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if template and not isinstance(route, Mount):
        return str(template)
    # No route (404) or a mount (static files): the path as sent, without the query, with
    # anything but printable ASCII escaped so a crafted path cannot forge log lines.
    raw = scope.get("raw_path")
    path = raw.partition(b"?")[0].decode("latin-1") if raw else scope["path"]
    escaped = "".join(char if "!" <= char <= "~" else f"%{ord(char):02X}" for char in path)
    return escaped[:MAX_PATH_LENGTH]
