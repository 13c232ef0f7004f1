"""Request bodies above a size limit are refused before the app sees them: 413 at once when the
declared length is too big, and as soon as the bytes received pass the limit otherwise (a
chunked body is read up to the limit, then handed on whole)."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hraniteli.errors import error_body

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


async def read_body(receive: Receive, *, limit: int) -> tuple[list[Message], bool]:
    """The request's body messages up to `limit` bytes, and whether they are all of it (False
    when the limit was passed or the client went away)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if size > limit:
            return messages, False
        if not message.get("more_body", False):
            return messages, True


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        messages, complete = await read_body(receive, limit=self.max_bytes)
        if not complete and messages[-1]["type"] == "http.request":
            await self._refuse(send)  # stopped at the limit, not by a disconnect
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            error_body(PAYLOAD_TOO_LARGE, f"the request body is larger than {self.max_bytes} bytes")
        )
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
