"""Database failures of HTTP requests: a request that met a deadlock runs again; every failure
that remains becomes the error envelope (400, 409, 503 with Retry-After, 500), never plain text."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hraniteli.db import Fault, classify, run_with_retries, unavailable_reason
from hraniteli.errors import error_body
from hraniteli.kit.bodylimit import read_body

log = logging.getLogger("hraniteli")

REPLAYABLE_BODY_BYTES = 1 << 20
"""A request body up to this size is kept, so the request can run again; a larger one cannot."""
RETRY_AFTER_SECONDS = 5
MATCHED = ("route", "endpoint", "path_params")
"""Scope keys routing sets, copied back from a run to the request's scope."""
COLLIDED = "the change collided with others made at the same moment; please retry"
UNAVAILABLE = "the database is unavailable; please retry shortly"


class DatabaseFaults:
    """Pure ASGI middleware, inside CORS (so browsers can read its answers).

    It runs the request through `run_with_retries`: an endpoint that raised a deadlock or
    serialization failure before its response began, and committed nothing, runs again in a
    fresh transaction with the same body. Every endpoint gets this without knowing about it.
    """

    def __init__(self, app: ASGIApp, *, max_attempts: int) -> None:
        self.app = app
        self.max_attempts = max_attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, replayable = await read_body(receive, limit=REPLAYABLE_BODY_BYTES)
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def run() -> None:
            attempt = dict(scope)  # a fresh scope for every run; routing writes into it
            try:
                await self.app(attempt, _replay(body, receive), send_tracked)
            finally:
                for key in MATCHED:  # what the outer middleware (the access log) reads back
                    if key in attempt:
                        scope[key] = attempt[key]

        try:
            await run_with_retries(
                run, max_attempts=self.max_attempts, may_retry=lambda: replayable and not started
            )
        except Exception as error:
            if started:
                raise
            await error_response(error, scope)(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def error_response(error: Exception, scope: Scope) -> Response:
    """The envelope for an exception no handler turned into a response."""
    fault = classify(error)
    if fault is Fault.RETRY:
        log.warning("database deadlock or serialization failure persisted; answered 409")
        return _envelope(409, "CONFLICT", COLLIDED)
    if fault is Fault.CONFLICT:
        return _envelope(409, "CONFLICT", "the change conflicts with data saved meanwhile; reload and retry")
    if fault is Fault.INVALID:
        column = getattr(getattr(error, "orig", None), "column_name", None)
        details = [{"field": column}] if isinstance(column, str) else []
        return _envelope(
            400,
            "INVALID_INPUT",
            "a value does not fit its field (too long, out of range or malformed)",
            details,
        )
    if fault is Fault.UNAVAILABLE:
        log.error("database unavailable: %s (%s)", unavailable_reason(error), type(error).__name__)
        response = _envelope(503, "SERVICE_UNAVAILABLE", UNAVAILABLE)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    log_unexpected(error, scope)
    return internal_error()


def log_unexpected(error: BaseException, scope: Scope) -> None:
    """The failure's type, route and frames; never its message (it may quote what the client
    sent, or a statement's parameters), never the body or query string."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error(
        "unexpected %s in %s %s\n%s",
        type(error).__qualname__,
        scope.get("method"),
        scope.get("path"),
        frames,
    )


def internal_error() -> Response:
    return _envelope(500, "INTERNAL_ERROR", "an internal error occurred; it has been logged")


def _envelope(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response:
    return JSONResponse(error_body(code, message, details), status_code=status)
