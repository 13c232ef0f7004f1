"""Plumbing shared by the legacy webhook handlers: lenient bodies, dual paths, JSON bytes."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from hraniteli.api.deps import AppContext, client_address, context
from hraniteli.api.deps import limit as rate_limit
from hraniteli.errors import InvalidInput
from hraniteli.kit.moscow import BadTimeZone, msk_offset_zone, parse_offset
from hraniteli.kit.nul import nul_field
from hraniteli.kit.slotstrings import BadSlotString, parse_date

MAX_WINDOW_DAYS = 92

Handler = Callable[[Request], Awaitable[Response]]


def json_response(payload: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json")


def raw_json_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _refuse_nul(value: Any) -> None:
    """PostgreSQL cannot store or compare text with NUL characters: refuse them up front (400),
    instead of letting the database fail the request (a misleading 503)."""
    field = nul_field(value)
    if field is not None:
        raise InvalidInput("text must not contain NUL characters", details=[{"field": field}])


def query_params(request: Request) -> dict[str, str]:
    """The query string as a dict (last value wins), free of NUL characters."""
    params = dict(request.query_params)
    _refuse_nul(params)
    return params


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object body merged over the query string (some POSTs carry query params)."""
    merged: dict[str, Any] = query_params(request)
    raw = await request.body()
    if raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput("the request body is not valid JSON") from exc
        if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
            body = body[0]
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object")
        _refuse_nul(body)
        merged.update(body)
    return merged


def text(value: Any) -> str:
    """A client string field; None, the literal "null" and non-strings become ""."""
    if value is None or isinstance(value, dict | list):
        return ""
    value = str(value).strip()
    return "" if value in ("null", "undefined") else value


def short_text(payload: dict[str, Any], key: str, *, max_length: int) -> str | None:
    """A client string field bound for a column of `max_length` (None when empty): a longer
    one is a 400 naming the field, not a database error (PostgreSQL refuses to store it)."""
    value = text(payload.get(key)) or None
    if value is not None and len(value) > max_length:
        raise InvalidInput(f"`{key}` is longer than {max_length} characters", details=[{"field": key}])
    return value


def obj(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested JSON object field, or {} when it is missing or not an object."""
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def webhook(
    router: APIRouter, name: str, methods: Sequence[str], *, limit: str | None = None
) -> Callable[[Handler], Handler]:
    """Serve a handler at /webhook/<name> and /webhook/<name>-test-contur; `limit` names the
    rate-limit rule its callers' addresses count against (`Settings.rate_limits`)."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            query_params(request)  # NUL characters in the query: 400 for every handler
            if limit is not None:
                await rate_limit(context(request), limit, client_address(request))
            return await handler(request)

        for suffix in ("", "-test-contur"):
            for method in methods:
                router.add_api_route(
                    f"/webhook/{name}{suffix}",
                    guarded,
                    methods=[method],
                    include_in_schema=not suffix,
                    name=f"{name}{suffix}",
                    operation_id=f"webhook_{name}{suffix}_{method.lower()}".replace("-", "_"),
                    summary=f"Legacy webhook `{name}`",
                )
        return handler

    return register


def client_zone(payload: dict[str, Any]) -> tuple[float, Any]:
    try:
        offset = parse_offset(payload.get("userTimeOffsetMsk"))
        return offset, msk_offset_zone(offset)
    except BadTimeZone as exc:
        raise InvalidInput(str(exc), details=[{"field": "userTimeOffsetMsk"}]) from exc


def window(payload: dict[str, Any], *, today: date, default_days: int) -> tuple[date, date]:
    """`startDate`/`endDate` (YYYY-MM-DD), defaulting to today … today + default_days."""
    try:
        start = (
            parse_date(text(payload.get("startDate")), today=today)
            if text(payload.get("startDate"))
            else today
        )
        end = (
            parse_date(text(payload.get("endDate")), today=today)
            if text(payload.get("endDate"))
            else start + timedelta(days=default_days)
        )
    except BadSlotString as exc:
        raise InvalidInput(str(exc), details=[{"field": "startDate/endDate"}]) from exc
    if end < start:
        raise InvalidInput("endDate is before startDate")
    if (end - start).days > MAX_WINDOW_DAYS:
        raise InvalidInput(f"the window is longer than {MAX_WINDOW_DAYS} days")
    return start, end


async def cached(
    ctx: AppContext,
    key: Hashable,
    fingerprint: str,
    now: datetime,
    produce: Callable[[], Awaitable[tuple[Any, datetime]]],
) -> Response:
    """Serve a rendered body from the render cache, or produce, store and serve it."""
    body = ctx.render_cache.get(key, fingerprint=fingerprint, now=now)
    if body is None:
        payload, valid_until = await produce()
        body = orjson.dumps(payload)
        ctx.render_cache.put(key, fingerprint=fingerprint, valid_until=valid_until, body=body)
    return raw_json_response(body)
