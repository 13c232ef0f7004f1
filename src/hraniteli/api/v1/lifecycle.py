"""Clean API for administrators: a booking's timeline, confirming it, the outbox, a worker tick."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from hraniteli.api.deps import context, require_admin
from hraniteli.api.v1.params import refuse_nul
from hraniteli.bookings import service as bookings
from hraniteli.bookings.schemas import BookingOut
from hraniteli.lifecycle.actions import LifecycleSettings
from hraniteli.lifecycle.timeline import list_timeline
from hraniteli.lifecycle.worker import Worker
from hraniteli.models import OutboxState, WorkState
from hraniteli.notifications import service as outbox

router = APIRouter(
    prefix="/api/v1", tags=["session lifecycle"], dependencies=[Depends(require_admin), Depends(refuse_nul)]
)


class TimelineEventOut(BaseModel):
    kind: str
    due_at: datetime
    state: WorkState
    attempts: int
    result: str | None
    last_error: str | None
    done_at: datetime | None


class OutboxMessageOut(BaseModel):
    id: uuid.UUID
    dedupe_key: str
    recipient_kind: str
    recipient_ref: str | None
    chat_id: str | None
    text: str
    state: OutboxState
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None


class TickOut(BaseModel):
    events_done: int
    events_skipped: int
    events_retried: int
    events_failed: int
    jobs_run: int
    jobs_failed: int


@router.get("/bookings/{booking_id}/timeline")
async def booking_timeline(booking_id: uuid.UUID, request: Request) -> list[TimelineEventOut]:
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        await bookings.get_booking(session, booking_id)
        events = await list_timeline(session, booking_id=booking_id)
        return [
            TimelineEventOut(
                kind=e.kind,
                due_at=e.due_at,
                state=e.state,
                attempts=e.attempts,
                result=e.result,
                last_error=e.last_error,
                done_at=e.done_at,
            )
            for e in events
        ]


@router.post("/bookings/{booking_id}/confirm")
async def confirm_booking(booking_id: uuid.UUID, request: Request) -> BookingOut:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        booking = await bookings.get_booking(session, booking_id)
        return BookingOut.model_validate(
            await bookings.confirm_booking(session, booking=booking, now=ctx.now())
        )


@router.get("/outbox")
async def list_outbox(
    request: Request,
    state: OutboxState | None = None,
    recipient_kind: str | None = Query(default=None, pattern="^(client|psychologist|admin)$"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[OutboxMessageOut]:
    """Messages to people (held ones included when no bot token is configured)."""
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        found = await outbox.list_messages(session, state=state, recipient_kind=recipient_kind, limit=limit)
        return [
            OutboxMessageOut(
                id=m.id,
                dedupe_key=m.dedupe_key,
                recipient_kind=m.recipient_kind,
                recipient_ref=m.recipient_ref,
                chat_id=m.chat_id,
                text=m.text,
                state=m.state,
                attempts=m.attempts,
                last_error=m.last_error,
                created_at=m.created_at,
                sent_at=m.sent_at,
                expires_at=m.expires_at,
            )
            for m in found
        ]


@router.post("/worker/tick")
async def worker_tick(request: Request) -> TickOut:
    """Run everything due now (what the worker does every few seconds)."""
    ctx = context(request)
    worker = Worker(
        ctx.database, LifecycleSettings.from_settings(ctx.settings), batch_size=ctx.settings.worker_batch_size
    )
    report = await worker.tick(ctx.now())
    return TickOut(
        events_done=report.events_done,
        events_skipped=report.events_skipped,
        events_retried=report.events_retried,
        events_failed=report.events_failed,
        jobs_run=report.jobs_run,
        jobs_failed=report.jobs_failed,
    )
