"""Lifting the slots' no-overlap constraint (PostgreSQL) for the tests of the bookings' own guard:
slots cannot overlap any more, but old data and imports may still hold such rows, and the
bookings' exclusion constraint must keep a psychologist from two sessions at once regardless."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from hraniteli.db import Database
from tests.conftest import wipe

SLOT_OVERLAP = "ex_slots_psychologist_overlap"
SLOT_EXCLUSION = "EXCLUDE USING gist (psychologist_id WITH =, tstzrange(start_at, end_at) WITH &&)"


@asynccontextmanager
async def slots_may_overlap(database: Database) -> AsyncIterator[None]:
    """Drop the constraint for the block; empty the tables and restore it afterwards."""
    async with database.unit_of_work() as session:
        await session.execute(text(f"ALTER TABLE slots DROP CONSTRAINT {SLOT_OVERLAP}"))
    try:
        yield
    finally:
        await wipe(database)
        async with database.unit_of_work() as session:
            await session.execute(text(f"ALTER TABLE slots ADD CONSTRAINT {SLOT_OVERLAP} {SLOT_EXCLUSION}"))
