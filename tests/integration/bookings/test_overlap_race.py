"""Concurrent bookings of two overlapping slots of one psychologist, repeated often enough that
a rare deadlock would show: one booking per race, every other attempt a clear Conflict.

The service layer is driven directly (each attempt in its own unit of work, as an entry point
runs it), so the test proves the lock order itself, without the request-level retry.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hraniteli.bookings import service as bookings
from hraniteli.db import Database
from hraniteli.errors import Conflict
from hraniteli.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    Psychologist,
    RepeatRule,
    Slot,
    SlotState,
)
from tests.builders import msk
from tests.conftest import NOW
from tests.overlap import slots_may_overlap

pytestmark = pytest.mark.postgres_only

RACES = 150
"""A 2 % failure rate per race would leave 150 races clean with probability 0.98**150 ≈ 5 %."""
ATTEMPTS = 50


async def _psychologists_with_overlapping_slots(db: Database, count: int) -> list[tuple[uuid.UUID, ...]]:
    """`count` psychologists, each with 10:00–11:00 and 10:30–11:30 (rows the service itself would
    refuse, but imports and old data can hold them: the exclusion constraint must still hold)."""
    start = msk(2026, 3, 4, 10)
    races = []
    async with db.unit_of_work() as session:
        for n in range(count):
            psychologist = Psychologist(
                id=uuid.uuid4(),
                name=f"Психолог {n:03d}",
                editor_secret=uuid.uuid4().hex,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(psychologist)
            slots = [
                Slot(
                    id=uuid.uuid4(),
                    psychologist_id=psychologist.id,
                    start_at=start + timedelta(minutes=offset),
                    duration_minutes=60,
                    state=SlotState.FREE,
                    repeat_rule=RepeatRule.NONE,
                    is_over_event=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
                for offset in (0, 30)
            ]
            session.add_all(slots)
            races.append((psychologist.id, slots[0].id, slots[1].id))
    return races


async def _attempt(db: Database, slot_id: uuid.UUID) -> str:
    try:
        async with db.unit_of_work() as session:
            await bookings.book_slot(session, request=bookings.BookingRequest(slot_id=slot_id), now=NOW)
    except Conflict as exc:
        return "conflict" if exc.message else "conflict without a reason"
    except DBAPIError as exc:
        return f"database error {getattr(exc.orig, 'sqlstate', None)}"
    return "booked"


async def test_racing_for_two_overlapping_slots_books_exactly_one_in_every_race(
    database_url: str, database: Database
) -> None:
    async with slots_may_overlap(database):
        await _race_many(database_url)


async def _race_many(database_url: str) -> None:
    # Five connections and no overflow: every attempt still races the others for its slot, and
    # no connection is opened and closed per attempt (that made the test three times slower).
    db = Database(database_url, pool_size=5, max_overflow=0)
    try:
        races = await _psychologists_with_overlapping_slots(db, RACES)
        failed = []
        for _, first, second in races:
            outcomes = Counter(
                await asyncio.gather(*(_attempt(db, (first, second)[i % 2]) for i in range(ATTEMPTS)))
            )
            if outcomes != {"booked": 1, "conflict": ATTEMPTS - 1}:
                failed.append(dict(outcomes))

        assert failed == [], f"{len(failed)} of {RACES} races went wrong"
        async with db.unit_of_work(write=False) as session:
            active = (
                await session.execute(
                    select(Booking.psychologist_id, func.count())
                    .where(Booking.status.in_(ACTIVE_BOOKING_STATUSES))
                    .group_by(Booking.psychologist_id)
                )
            ).all()
            booked_slots = (
                await session.execute(select(func.count()).where(Slot.state == SlotState.BOOKED))
            ).scalar_one()
        assert sorted(count for _, count in active) == [1] * RACES
        assert {psychologist_id for psychologist_id, _ in active} == {race[0] for race in races}
        assert booked_slots == RACES
    finally:
        await db.dispose()


async def _book_without_waiting(db: Database, slot_id: uuid.UUID) -> None:
    async with db.unit_of_work() as session:
        await session.execute(text("SET LOCAL lock_timeout = '100ms'"))
        await bookings.book_slot(session, request=bookings.BookingRequest(slot_id=slot_id), now=NOW)


async def test_a_second_overlapping_booking_waits_for_the_psychologist_before_inserting(
    database_url: str, database: Database
) -> None:
    """The lock order, shown deterministically: while one booking is uncommitted, a booking of an
    overlapping slot of the same psychologist waits on the psychologist's row, never on the first
    booking's row under the exclusion constraint (two such waits are what deadlocked).

    The second transaction gets a lock timeout instead of waiting for ever (the first one
    commits only after it returns); the statement it timed out on shows where it waited.
    """
    async with slots_may_overlap(database):
        await _second_waits(database_url)


async def _second_waits(database_url: str) -> None:
    db = Database(database_url, pool_size=2, max_overflow=0)
    try:
        [(_, first, second)] = await _psychologists_with_overlapping_slots(db, 1)
        async with db.unit_of_work() as holder:
            await bookings.book_slot(holder, request=bookings.BookingRequest(slot_id=first), now=NOW)
            with pytest.raises(DBAPIError) as waited:
                await _book_without_waiting(db, second)
        assert getattr(waited.value.orig, "sqlstate", None) == "55P03"  # lock_not_available
        assert waited.value.statement is not None
        assert waited.value.statement.startswith("UPDATE psychologists"), waited.value.statement

        assert await _attempt(db, second) == "conflict"
    finally:
        await db.dispose()
