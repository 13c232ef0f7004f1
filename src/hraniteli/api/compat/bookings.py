"""Legacy booking webhooks driven by the bot side: assign-session and cancel-session."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.api.compat import render
from hraniteli.api.compat.common import json_response, read_body, text, webhook
from hraniteli.api.deps import AppContext, check_admin_key, context
from hraniteli.bookings import service as bookings
from hraniteli.errors import InvalidInput, NotFound
from hraniteli.kit.moscow import MSK
from hraniteli.kit.slotstrings import BadSlotString, parse_date, parse_time
from hraniteli.models import Booking, Slot
from hraniteli.psychologists import service as psychologists
from hraniteli.schedule import service as schedule
from hraniteli.schedule.repository import SlotView

router = APIRouter(tags=["compat: bookings"])


MAX_LENGTHS = {"ticket": 64, "meeting_link": 500, "meeting_id": 200, "calendar_meeting_id": 200}
"""The widths of the booking columns these fields land in (longer values would fail on PostgreSQL)."""


def _field(payload: dict[str, Any], key: str) -> str | None:
    value = text(payload.get(key)) or None
    if value is not None and len(value) > MAX_LENGTHS[key]:
        raise InvalidInput(f"`{key}` is longer than {MAX_LENGTHS[key]} characters", details=[{"field": key}])
    return value


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "да")
    return bool(value)


async def slot_from_row(ctx: AppContext, session: AsyncSession, payload: dict[str, Any]) -> Slot:
    """The slot a `hraniteli_slots` row names: by `id`, else by psychologist + date + time (MSK)."""
    raw_id = text(payload.get("id"))
    if raw_id:
        try:
            slot_id = uuid.UUID(raw_id)
        except ValueError as exc:
            raise InvalidInput("`id` must be a slot UUID", details=[{"field": "id"}]) from exc
        slot = await session.get(Slot, slot_id)
        if slot is None:
            raise NotFound("no such slot")
        return slot
    psychologist = await psychologists.psychologist_by_name(session, text(payload.get("psychologist")))
    try:
        day = parse_date(text(payload.get("date")), today=ctx.now().astimezone(MSK).date())
        clock = parse_time(text(payload.get("time")))
    except BadSlotString as exc:
        raise InvalidInput(str(exc), details=[{"field": "date/time"}]) from exc
    start_at = datetime.combine(day, clock, tzinfo=MSK)
    return await schedule.slot_of(session, psychologist=psychologist, start_at=start_at)


def _row(slot: Slot, name: str, booking: Booking | None) -> dict[str, Any]:
    view = SlotView(
        slot.id,
        slot.psychologist_id,
        name,
        slot.start_at,
        slot.duration_minutes,
        slot.state,
        slot.repeat_rule,
        slot.is_over_event,
    )
    return render.slot_row(view, slot.start_at.astimezone(MSK), booking)


@webhook(router, "assign-session", ["POST"])
async def assign_session(request: Request) -> Response:
    """Book the slot the row names (seed 001); 409 when someone else was faster."""
    ctx = context(request)
    await check_admin_key(ctx, request)
    payload = await read_body(request)
    idempotency_key = request.headers.get("idempotency-key") or None
    if idempotency_key is not None and len(idempotency_key) > 200:
        raise InvalidInput("the Idempotency-Key header is longer than 200 characters")
    async with ctx.unit_of_work() as session:
        slot = await slot_from_row(ctx, session, payload)
        booking = await bookings.book_slot(
            session,
            request=bookings.BookingRequest(
                slot_id=slot.id,
                application_ref=_field(payload, "ticket"),
                is_confirmed=_flag(payload.get("confirmed")),
                is_auto_assigned=_flag(payload.get("auto_assigned")),
                is_helpful_hand=_flag(payload.get("is_helpful_hand")),
                meeting_link=_field(payload, "meeting_link"),
                meeting_id=_field(payload, "meeting_id"),
                calendar_meeting_id=_field(payload, "calendar_meeting_id"),
                idempotency_key=idempotency_key,
                ladder=ctx.ladder,
            ),
            now=ctx.now(),
        )
        await session.refresh(slot)
        psychologist = await psychologists.get_psychologist(session, slot.psychologist_id)
        row = _row(slot, psychologist.name, booking)
    return json_response(row)


@webhook(router, "cancel-session", ["POST"])
async def cancel_session(request: Request) -> Response:
    """Cancel by slot row (seed 001) or by `{ticket_id, cancellation_reason}` (seed 002)."""
    ctx = context(request)
    await check_admin_key(ctx, request)
    payload = await read_body(request)
    now = ctx.now()
    reason = text(payload.get("cancellation_reason")) or None
    async with ctx.unit_of_work() as session:
        if text(payload.get("id")) or text(payload.get("psychologist")):
            slot = await slot_from_row(ctx, session, payload)
            booking = await bookings.active_booking_for_slot(session, slot.id)
            if booking is None:
                raise NotFound("the slot has no active booking")
            targets = [booking]
        elif text(payload.get("ticket_id")):
            targets = await bookings.active_bookings_for_ref(session, text(payload.get("ticket_id")))
            if not targets:
                raise NotFound("no active session for this ticket")
        else:
            raise InvalidInput("send the slot row (`id`) or `ticket_id`")
        for booking in targets:
            await bookings.cancel_booking(session, booking=booking, now=now, reason=reason)
    return json_response(
        {"success": True, "message": "Сессия отменена", "cancelled": [str(b.id) for b in targets]}
    )
