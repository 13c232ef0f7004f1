"""A booking's timeline rows: planned when it is booked, cancelled with it, read by admins."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.lifecycle.rules import CONFIRMATION_KINDS, EventKind, LadderPolicy, plan
from hraniteli.models import Booking, TimelineEvent, WorkState


async def plan_booking(
    session: AsyncSession, *, booking: Booking, now: datetime, policy: LadderPolicy | None = None
) -> list[TimelineEvent]:
    """Write the booking's ladder (rules.plan) as pending rows."""
    events = [
        TimelineEvent(
            id=uuid.uuid4(),
            booking_id=booking.id,
            kind=planned.kind,
            due_at=planned.due_at,
            state=WorkState.PENDING,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        for planned in plan(
            start_at=booking.start_at, end_at=booking.end_at, booked_at=now, policy=policy or LadderPolicy()
        )
    ]
    session.add_all(events)
    await session.flush()
    return events


async def cancel_pending(session: AsyncSession, *, booking_id: uuid.UUID, now: datetime, reason: str) -> int:
    """A cancelled (or moved) booking's pending events will not run."""
    result = await session.execute(
        update(TimelineEvent)
        .where(TimelineEvent.booking_id == booking_id, TimelineEvent.state == WorkState.PENDING)
        .values(state=WorkState.CANCELLED, result=reason, updated_at=now, done_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def skip_confirmation_events(session: AsyncSession, *, booking_id: uuid.UUID, now: datetime) -> int:
    """Once the client confirms, the requests, alert and auto-cancel have nothing to do."""
    result = await session.execute(
        update(TimelineEvent)
        .where(
            TimelineEvent.booking_id == booking_id,
            TimelineEvent.state == WorkState.PENDING,
            TimelineEvent.kind.in_([str(kind) for kind in CONFIRMATION_KINDS]),
        )
        .values(state=WorkState.SKIPPED, result="клиент подтвердил", updated_at=now, done_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def list_timeline(session: AsyncSession, *, booking_id: uuid.UUID) -> list[TimelineEvent]:
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.booking_id == booking_id)
        .order_by(TimelineEvent.due_at, TimelineEvent.kind)
    )
    return list((await session.execute(query)).scalars())


async def plan_meeting_deletion(session: AsyncSession, *, booking: Booking, now: datetime) -> None:
    """A cancelled booking's meeting is deleted at its provider by the worker (outside any
    transaction: a provider being down must not block the cancellation)."""
    if not (booking.meeting_id or booking.calendar_meeting_id):
        return
    exists = await session.execute(
        select(TimelineEvent.id).where(
            TimelineEvent.booking_id == booking.id, TimelineEvent.kind == EventKind.DELETE_MEETING
        )
    )
    if exists.first() is None:
        session.add(
            TimelineEvent(
                id=uuid.uuid4(),
                booking_id=booking.id,
                kind=EventKind.DELETE_MEETING,
                due_at=now,
                state=WorkState.PENDING,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()


async def skip_meeting_creation(session: AsyncSession, *, booking_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(TimelineEvent)
        .where(
            TimelineEvent.booking_id == booking_id,
            TimelineEvent.kind == EventKind.CREATE_MEETING,
            TimelineEvent.state == WorkState.PENDING,
        )
        .values(state=WorkState.SKIPPED, result="ссылка уже создана", updated_at=now, done_at=now)
        .execution_options(synchronize_session=False)
    )
