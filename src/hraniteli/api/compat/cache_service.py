"""The cache service's paths the front-ends hard-code (cards, converted schedules, education)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hraniteli.api.compat import render
from hraniteli.api.compat.common import json_response
from hraniteli.api.compat.schedule import aggregated_response
from hraniteli.api.deps import context
from hraniteli.errors import InvalidInput
from hraniteli.psychologists import service as psychologists

router = APIRouter(tags=["compat: cache service"])


@router.get("/cards", summary="Psychologist cards (catalogue)")
async def cards(request: Request) -> Response:
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        found = await psychologists.list_psychologists(session, active_only=True)
    return json_response([render.card(p) for p in found])


@router.get("/edu-keys-pipeline-batch", summary="Education records of every psychologist")
async def education(request: Request) -> Response:
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        found = await psychologists.list_psychologists(session, active_only=True)
    return json_response([record for p in found for record in render.education_records(p)])


def _offset(raw: str) -> str:
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidInput(f"offset must be a number of hours, got {raw!r}") from exc
    return str(value)


@router.post("/convert-schedule-timezone/{offset}", summary="All free slots, keyed by local hour")
async def convert_schedule_timezone(offset: str, request: Request) -> Response:
    """The body is ignored (as the cache service did): all psychologists, today … +31 days."""
    ctx = context(request)
    return await aggregated_response(
        ctx,
        {"userTimeOffsetMsk": _offset(offset)},
        names=None,
        cache_tag="cache-convert",
        default_days=31,
    )


@router.post("/schedule/{offset}", summary="Legacy alias of convert-schedule-timezone")
async def schedule_by_offset(offset: str, request: Request) -> Response:
    ctx = context(request)
    return await aggregated_response(
        ctx,
        {"userTimeOffsetMsk": _offset(offset)},
        names=None,
        cache_tag="cache-convert",
        default_days=31,
    )


@router.get("/ping", summary="Cache service liveness")
async def ping() -> Response:
    return json_response({"ping": "pong"})
