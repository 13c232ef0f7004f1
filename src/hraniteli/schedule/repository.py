"""Slot queries, including the lean column reads the schedule views are built from."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, and_, func, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.models import Booking, Psychologist, Slot, SlotState
from hraniteli.models.enums import ACTIVE_BOOKING_STATUSES


@dataclass(frozen=True, slots=True)
class SlotView:
    """One slot as the schedule views need it (no ORM object: thousands are read at once)."""

    id: uuid.UUID
    psychologist_id: uuid.UUID
    psychologist: str
    start_at: datetime
    duration_minutes: int
    state: str
    repeat_rule: str
    is_over_event: bool


async def get_slot(session: AsyncSession, slot_id: uuid.UUID) -> Slot | None:
    return await session.get(Slot, slot_id)


async def get_slot_at(session: AsyncSession, psychologist_id: uuid.UUID, start_at: datetime) -> Slot | None:
    query = select(Slot).where(Slot.psychologist_id == psychologist_id, Slot.start_at == start_at)
    return (await session.execute(query)).scalar_one_or_none()


async def list_overlapping_slots(
    session: AsyncSession, psychologist_id: uuid.UUID, start_at: datetime, end_at: datetime
) -> list[Slot]:
    """Slots of the psychologist that intersect [start_at, end_at)."""
    query = select(Slot).where(
        Slot.psychologist_id == psychologist_id, Slot.start_at < end_at, Slot.end_at > start_at
    )
    return list((await session.execute(query)).scalars())


async def list_slot_views(
    session: AsyncSession,
    *,
    start_at: datetime,
    end_at: datetime,
    psychologist_ids: Sequence[uuid.UUID] | None = None,
    free_only: bool = False,
    active_psychologists_only: bool = True,
) -> list[SlotView]:
    query = (
        select(
            Slot.id,
            Slot.psychologist_id,
            Psychologist.name,
            Slot.start_at,
            Slot.duration_minutes,
            Slot.state,
            Slot.repeat_rule,
            Slot.is_over_event,
        )
        .join(Psychologist, Psychologist.id == Slot.psychologist_id)
        .where(Slot.start_at >= start_at, Slot.start_at < end_at)
        .order_by(Slot.start_at, Psychologist.name)
    )
    if psychologist_ids is not None:
        query = query.where(Slot.psychologist_id.in_(list(psychologist_ids)))
    if free_only:
        query = query.where(Slot.state == SlotState.FREE)
    if active_psychologists_only:
        query = query.where(Psychologist.is_active.is_(True))
    rows = (await session.execute(query)).all()
    return [SlotView(*row) for row in rows]


async def list_schedule_revisions(
    session: AsyncSession, psychologist_ids: Sequence[uuid.UUID] | None = None
) -> list[tuple[uuid.UUID, int, bool]]:
    query = select(Psychologist.id, Psychologist.schedule_revision, Psychologist.is_active).order_by(
        Psychologist.id
    )
    if psychologist_ids is not None:
        query = query.where(Psychologist.id.in_(list(psychologist_ids)))
    return [(row[0], row[1], row[2]) for row in (await session.execute(query)).all()]


async def bump_schedule_revision(session: AsyncSession, psychologist_id: uuid.UUID) -> None:
    await session.execute(
        update(Psychologist)
        .where(Psychologist.id == psychologist_id)
        .values(schedule_revision=Psychologist.schedule_revision + 1)
    )


async def count_free_slots_by_psychologist(
    session: AsyncSession, *, start_at: datetime, end_at: datetime
) -> list[tuple[str, int]]:
    query = (
        select(Psychologist.name, func.count(Slot.id))
        .join(Slot, and_(Slot.psychologist_id == Psychologist.id))
        .where(
            Psychologist.is_active.is_(True),
            Slot.state == SlotState.FREE,
            Slot.start_at >= start_at,
            Slot.start_at < end_at,
        )
        .group_by(Psychologist.name)
        .order_by(Psychologist.name)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def list_active_bookings_for_slots(
    session: AsyncSession, slot_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Booking]:
    if not slot_ids:
        return {}
    query = select(Booking).where(
        Booking.slot_id.in_(list(slot_ids)), Booking.status.in_(ACTIVE_BOOKING_STATUSES)
    )
    return {booking.slot_id: booking for booking in (await session.execute(query)).scalars()}


def uuid_text(value: object) -> str:
    """A UUID as text from whatever the driver returns: SQLite keeps 32 hex digits."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


async def list_free_rows(
    session: AsyncSession,
    *,
    start_at: datetime,
    end_at: datetime,
    psychologist_ids: Sequence[uuid.UUID] | None = None,
) -> list[tuple[str, str, datetime]]:
    """(slot id, psychologist name, start) of free slots of active psychologists, by start
    then name: the hot read behind every aggregated schedule, so plain Core and no objects."""
    query = (
        select(type_coerce(Slot.id, String()), Psychologist.name, type_coerce(Slot.start_at, String()))
        .join(Psychologist, Psychologist.id == Slot.psychologist_id)
        .where(
            Slot.start_at >= start_at,
            Slot.start_at < end_at,
            Slot.state == SlotState.FREE,
            Psychologist.is_active.is_(True),
        )
        .order_by(Slot.start_at, Psychologist.name)
    )
    if psychologist_ids is not None:
        query = query.where(Slot.psychologist_id.in_(list(psychologist_ids)))
    connection = await session.connection()
    result = await connection.execute(query)
    # Thousands of rows share a few hundred starts, in order: convert each distinct start once
    # (SQLite hands back text; PostgreSQL an aware datetime).
    rows: list[tuple[str, str, datetime]] = []
    last_raw: object = None
    last: datetime | None = None
    for slot_id, name, raw_start in result:
        if raw_start != last_raw:
            last_raw = raw_start
            last = _instant(raw_start)
        assert last is not None
        rows.append((uuid_text(slot_id), name, last))
    return rows


def _instant(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


async def list_revisions_by_names(
    session: AsyncSession, names: Sequence[str]
) -> list[tuple[uuid.UUID, str, int, bool]]:
    query = select(
        Psychologist.id, Psychologist.name, Psychologist.schedule_revision, Psychologist.is_active
    ).where(Psychologist.name.in_(list(names)))
    return [(row[0], row[1], row[2], row[3]) for row in (await session.execute(query)).all()]
