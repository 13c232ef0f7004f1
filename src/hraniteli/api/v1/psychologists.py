"""Clean API: psychologists (admin key), their slots (admin key or their editor secret)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.api.deps import AppContext, check_admin_key, context, require_admin
from hraniteli.api.v1.params import Offset, refuse_nul
from hraniteli.errors import Forbidden, InvalidInput
from hraniteli.kit.bounds import Instant
from hraniteli.kit.moscow import zone
from hraniteli.kit.slotstrings import BadSlotString, combine, parse_time
from hraniteli.models import Psychologist, Slot
from hraniteli.psychologists import service
from hraniteli.psychologists.schemas import (
    PsychologistCreate,
    PsychologistCreated,
    PsychologistOut,
    PsychologistUpdate,
    SecretRotated,
)
from hraniteli.schedule import service as schedule
from hraniteli.schedule.repository import SlotView
from hraniteli.schedule.schemas import SlotCreate, SlotOut, SlotsCreated

router = APIRouter(prefix="/api/v1", tags=["psychologists"], dependencies=[Depends(refuse_nul)])


def editor_url(ctx: AppContext, secret: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/slots?secret={secret}"


@router.post("/psychologists", status_code=201, dependencies=[Depends(require_admin)])
async def create_psychologist(body: PsychologistCreate, request: Request) -> PsychologistCreated:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        created = await service.create_psychologist(
            session, data=body, now=ctx.now(), default_time_zone=ctx.settings.default_time_zone
        )
    return PsychologistCreated(
        id=created.id,
        name=created.name,
        editor_secret=created.editor_secret,
        editor_url=editor_url(ctx, created.editor_secret),
    )


@router.get("/psychologists", dependencies=[Depends(require_admin)])
async def list_psychologists(
    request: Request,
    active_only: bool = False,
    offset: Offset = 0,
    limit: int = Query(100, ge=1, le=1000),
) -> list[PsychologistOut]:
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        found = await service.list_psychologists(session, active_only=active_only, offset=offset, limit=limit)
        return [PsychologistOut.model_validate(p) for p in found]


@router.get("/psychologists/{psychologist_id}", dependencies=[Depends(require_admin)])
async def get_psychologist(psychologist_id: uuid.UUID, request: Request) -> PsychologistOut:
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        return PsychologistOut.model_validate(await service.get_psychologist(session, psychologist_id))


@router.patch("/psychologists/{psychologist_id}", dependencies=[Depends(require_admin)])
async def update_psychologist(
    psychologist_id: uuid.UUID, body: PsychologistUpdate, request: Request
) -> PsychologistOut:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        updated = await service.update_psychologist(
            session, psychologist_id=psychologist_id, data=body, now=ctx.now()
        )
        return PsychologistOut.model_validate(updated)


@router.delete("/psychologists/{psychologist_id}", status_code=204, dependencies=[Depends(require_admin)])
async def delete_psychologist(psychologist_id: uuid.UUID, request: Request) -> Response:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        await service.delete_psychologist(session, psychologist_id=psychologist_id)
    return Response(status_code=204)


@router.post("/psychologists/{psychologist_id}/rotate-secret", dependencies=[Depends(require_admin)])
async def rotate_secret(psychologist_id: uuid.UUID, request: Request) -> SecretRotated:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        rotated = await service.rotate_secret(session, psychologist_id=psychologist_id, now=ctx.now())
    return SecretRotated(
        id=rotated.id,
        editor_secret=rotated.editor_secret,
        editor_url=editor_url(ctx, rotated.editor_secret),
    )


# --- slots ----------------------------------------------------------------------------------


async def _authorised(
    ctx: AppContext,
    session: AsyncSession,
    psychologist_id: uuid.UUID,
    request: Request,
    secret: str | None,
) -> Psychologist:
    """Admins (X-API-Key) manage any schedule; a psychologist (X-Editor-Secret) only their own."""
    if secret and not request.headers.get("x-api-key"):
        owner = await service.psychologist_by_secret(session, secret)
        if owner.id != psychologist_id:
            raise Forbidden("this editor link belongs to another psychologist")
        return owner
    await check_admin_key(ctx, request)
    return await service.get_psychologist(session, psychologist_id)


def slot_out(slot: Slot | SlotView, tz_name: str) -> SlotOut:
    return SlotOut(
        id=slot.id,
        psychologist_id=slot.psychologist_id,
        start_at=slot.start_at.astimezone(UTC),
        local_start=slot.start_at.astimezone(zone(tz_name)).isoformat(),
        duration_minutes=slot.duration_minutes,
        state=slot.state,
        repeat_rule=slot.repeat_rule,
    )


def _start_of(body: SlotCreate, tz_name: str) -> datetime:
    if body.start_at is not None:
        return body.start_at
    if body.local_date is None or body.local_time is None:
        raise InvalidInput("send start_at, or local_date with local_time")
    try:
        return combine(body.local_date, parse_time(body.local_time), zone(tz_name))
    except BadSlotString as exc:
        raise InvalidInput(str(exc), details=[{"field": "local_time"}]) from exc


@router.post("/psychologists/{psychologist_id}/slots", status_code=201)
async def add_slot(
    psychologist_id: uuid.UUID,
    body: SlotCreate,
    request: Request,
    response: Response,
    x_api_key: str | None = Header(default=None),
    x_editor_secret: str | None = Header(default=None),
) -> SlotsCreated:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        psychologist = await _authorised(ctx, session, psychologist_id, request, x_editor_secret)
        now = ctx.now()
        added = await schedule.add_slot(
            session,
            psychologist=psychologist,
            start_at=_start_of(body, psychologist.time_zone),
            now=now,
            policy=ctx.policy,
            duration_minutes=body.duration_minutes,
        )
        repeated = []
        if body.repeat is not None and body.repeat != "none":
            repeated = await schedule.set_repeat_rule(
                session,
                psychologist=psychologist,
                slot=added.slot,
                rule=body.repeat,
                now=now,
                policy=ctx.policy,
            )
        if not added.created:
            response.status_code = 200
        tz_name = psychologist.time_zone
        return SlotsCreated(
            slot=slot_out(added.slot, tz_name),
            created=added.created,
            repeated=[slot_out(s, tz_name) for s in repeated],
        )


@router.get("/psychologists/{psychologist_id}/slots")
async def list_slots(
    psychologist_id: uuid.UUID,
    request: Request,
    from_at: Instant | None = Query(default=None, alias="from"),
    to_at: Instant | None = Query(default=None, alias="to"),
    x_api_key: str | None = Header(default=None),
    x_editor_secret: str | None = Header(default=None),
) -> list[SlotOut]:
    ctx = context(request)
    now = ctx.now()
    start = from_at or now
    end = to_at or start + timedelta(days=ctx.settings.schedule_window_days)
    if end - start > timedelta(days=366):
        raise InvalidInput("the window is longer than a year")
    async with ctx.unit_of_work(write=False) as session:
        psychologist = await _authorised(ctx, session, psychologist_id, request, x_editor_secret)
        views = await schedule.list_slots(
            session, start_at=start, end_at=end, psychologist_ids=[psychologist.id], active_only=False
        )
        return [slot_out(v, psychologist.time_zone) for v in views]


@router.delete("/psychologists/{psychologist_id}/slots/{slot_id}", status_code=204)
async def delete_slot(
    psychologist_id: uuid.UUID,
    slot_id: uuid.UUID,
    request: Request,
    x_api_key: str | None = Header(default=None),
    x_editor_secret: str | None = Header(default=None),
) -> Response:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        psychologist = await _authorised(ctx, session, psychologist_id, request, x_editor_secret)
        slot = await schedule.slot_of(session, psychologist=psychologist, slot_id=slot_id)
        await schedule.delete_slot(session, psychologist=psychologist, slot=slot)
    return Response(status_code=204)
