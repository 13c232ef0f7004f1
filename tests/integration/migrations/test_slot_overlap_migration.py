"""Migration 0009 (slot `end_at`, no overlapping slots): slots that overlap from before are
resolved — booked ones and ones with a booking history kept, then the earliest created — and a
conflict it may not resolve (a booked slot would have to go) stops it, naming the slots."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hraniteli.db import Database
from hraniteli.migrate import downgrade, upgrade
from hraniteli.models import Psychologist, Slot
from tests.builders import make_psychologist, msk
from tests.conftest import NOW

BEFORE = "0008"

slots_0007 = sa.table(
    "slots",
    sa.column("id", sa.Uuid()),
    sa.column("psychologist_id", sa.Uuid()),
    sa.column("start_at", sa.DateTime(timezone=True)),
    sa.column("duration_minutes", sa.Integer()),
    sa.column("state", sa.String()),
    sa.column("repeat_rule", sa.String()),
    sa.column("is_over_event", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
bookings_0007 = sa.table(
    "bookings",
    sa.column("id", sa.Uuid()),
    sa.column("slot_id", sa.Uuid()),
    sa.column("psychologist_id", sa.Uuid()),
    sa.column("start_at", sa.DateTime(timezone=True)),
    sa.column("end_at", sa.DateTime(timezone=True)),
    sa.column("status", sa.String()),
    sa.column("is_confirmed", sa.Boolean()),
    sa.column("is_auto_assigned", sa.Boolean()),
    sa.column("is_auto_canceled", sa.Boolean()),
    sa.column("is_helpful_hand", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def utc(instant: datetime) -> datetime:
    """SQLite stores the wall-clock fields as given: hand it UTC, as the app does."""
    return instant.astimezone(UTC)


class Rows:
    """Slots and bookings written straight into the 0007 schema (what older code could leave)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def slot(
        self,
        psychologist: Psychologist,
        start: datetime,
        minutes: int,
        *,
        state: str = "free",
        created_minutes: int,
    ) -> uuid.UUID:
        slot_id = uuid.uuid4()
        created = utc(NOW + timedelta(minutes=created_minutes))
        async with self.database.unit_of_work() as session:
            await session.execute(
                sa.insert(slots_0007).values(
                    id=slot_id,
                    psychologist_id=psychologist.id,
                    start_at=utc(start),
                    duration_minutes=minutes,
                    state=state,
                    repeat_rule="none",
                    is_over_event=False,
                    created_at=created,
                    updated_at=created,
                )
            )
        return slot_id

    async def booking(
        self, psychologist: Psychologist, slot_id: uuid.UUID, start: datetime, status: str
    ) -> None:
        async with self.database.unit_of_work() as session:
            await session.execute(
                sa.insert(bookings_0007).values(
                    id=uuid.uuid4(),
                    slot_id=slot_id,
                    psychologist_id=psychologist.id,
                    start_at=utc(start),
                    end_at=utc(start + timedelta(hours=1)),
                    status=status,
                    is_confirmed=False,
                    is_auto_assigned=False,
                    is_auto_canceled=False,
                    is_helpful_hand=False,
                    created_at=utc(NOW),
                    updated_at=utc(NOW),
                )
            )


async def kept(database: Database) -> dict[uuid.UUID, tuple[datetime, datetime]]:
    async with database.unit_of_work(write=False) as session:
        rows = (await session.execute(sa.select(Slot.id, Slot.start_at, Slot.end_at))).all()
    return {row.id: (row.start_at, row.end_at) for row in rows}


async def test_overlapping_slots_are_resolved_and_every_slot_gets_its_end(
    database: Database, database_url: str
) -> None:
    anna = await make_psychologist(database, now=NOW, name="Иванова Анна")
    petr = await make_psychologist(database, now=NOW, name="Петров Пётр")
    await asyncio.to_thread(downgrade, database_url, BEFORE)
    rows = Rows(database)
    try:
        day = msk(2026, 3, 4, 0)
        # a booked slot wins over free ones, even earlier ones; then the earliest created free one
        late_free = await rows.slot(anna, day + timedelta(hours=10), 60, created_minutes=3)
        early_free = await rows.slot(anna, day + timedelta(hours=10, minutes=30), 60, created_minutes=1)
        booked = await rows.slot(anna, day + timedelta(hours=11), 60, state="booked", created_minutes=5)
        await rows.booking(anna, booked, day + timedelta(hours=11), "pending")
        # a free slot with a (cancelled) booking history wins over one without
        with_history = await rows.slot(anna, day + timedelta(hours=14), 60, created_minutes=9)
        await rows.booking(anna, with_history, day + timedelta(hours=14), "cancelled")
        without_history = await rows.slot(anna, day + timedelta(hours=14, minutes=30), 60, created_minutes=0)
        # touching slots, and another psychologist's slot at the same time, are not overlaps
        short = await rows.slot(anna, day + timedelta(hours=17), 30, created_minutes=2)
        touching = await rows.slot(anna, day + timedelta(hours=17, minutes=30), 45, created_minutes=2)
        others = await rows.slot(petr, day + timedelta(hours=10, minutes=30), 60, created_minutes=0)

        await asyncio.to_thread(upgrade, database_url, "head")

        assert await kept(database) == {
            late_free: (day + timedelta(hours=10), day + timedelta(hours=11)),
            booked: (day + timedelta(hours=11), day + timedelta(hours=12)),
            with_history: (day + timedelta(hours=14), day + timedelta(hours=15)),
            short: (day + timedelta(hours=17), day + timedelta(hours=17, minutes=30)),
            touching: (day + timedelta(hours=17, minutes=30), day + timedelta(hours=18, minutes=15)),
            others: (day + timedelta(hours=10, minutes=30), day + timedelta(hours=11, minutes=30)),
        }
        assert early_free not in await kept(database)
        assert without_history not in await kept(database)
    finally:
        await asyncio.to_thread(upgrade, database_url, "head")


async def test_a_conflict_that_would_delete_a_booked_slot_stops_the_migration(
    database: Database, database_url: str
) -> None:
    """Two overlapping booked slots (a booking cancelled after its session began leaves its slot
    booked): the migration names them and changes nothing; once one is resolved, it runs."""
    anna = await make_psychologist(database, now=NOW, name="Иванова Анна")
    await asyncio.to_thread(downgrade, database_url, BEFORE)
    rows = Rows(database)
    try:
        start = msk(2026, 3, 4, 10)
        first = await rows.slot(anna, start, 60, state="booked", created_minutes=0)
        await rows.booking(anna, first, start, "cancelled")
        second = await rows.slot(anna, start + timedelta(minutes=30), 60, state="booked", created_minutes=1)
        await rows.booking(anna, second, start + timedelta(minutes=30), "pending")

        with pytest.raises(RuntimeError, match=str(second)):
            await asyncio.to_thread(upgrade, database_url, "head")

        async with database.unit_of_work() as session:
            assert len((await session.execute(sa.select(slots_0007.c.id))).all()) == 2
            await session.execute(sa.delete(bookings_0007).where(bookings_0007.c.slot_id == first))
            await session.execute(sa.update(slots_0007).where(slots_0007.c.id == first).values(state="free"))
        await asyncio.to_thread(upgrade, database_url, "head")

        assert set(await kept(database)) == {second}
    finally:
        await asyncio.to_thread(upgrade, database_url, "head")
