"""Two `hraniteli worker` processes over the same due rows on PostgreSQL (FOR UPDATE SKIP
LOCKED): every event runs exactly once, every message is written exactly once, and a worker
stuck inside a batch holds only that batch: the other runs everything else meanwhile.

The overlap is forced, not hoped for: the test holds an uncommitted outbox row with the key
of the message the first-claimed event writes, so whichever worker claims that event waits
on the unique index with its whole batch locked, and the other worker must drain the rest."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from hraniteli.db import Database
from hraniteli.models import OutboxMessage, TimelineEvent, WorkState
from tests.integration.lifecycle.workers import (
    ADMIN_CHAT,
    DueBookings,
    WorkerProcess,
    assert_booking_messages,
    book_due,
    count_due_pending,
    is_due,
    is_later,
    job_runs,
    make_people,
    outbox_rows,
    timeline_rows,
    wait_until_ready,
    workers,
)

pytestmark = pytest.mark.postgres_only

BOOKINGS = 200
PSYCHOLOGISTS = 20
BATCH = 20
DEADLINE = 60
"""Seconds each drain may take before the test fails (several on an idle machine)."""


async def first_in_claim_order(database: Database, due: DueBookings) -> str:
    """Move one booking's confirmation request ahead of every other due row (the workers claim
    by due time) and return the dedupe key of the message it writes."""
    booking_id = due.booking_ids[0]
    async with database.unit_of_work() as session:
        await session.execute(
            update(TimelineEvent)
            .where(TimelineEvent.booking_id == booking_id, TimelineEvent.kind == "confirm_request")
            .values(due_at=due.booked_at - timedelta(minutes=5))
        )
    return f"booking:{booking_id}:confirm_request:client"


async def wait_for_pending(
    database: Database, due: DueBookings, count: int, started: list[WorkerProcess]
) -> None:
    deadline = time.monotonic() + DEADLINE
    while await count_due_pending(database, due) != count:
        assert time.monotonic() < deadline, (
            f"{await count_due_pending(database, due)} due rows still pending after {DEADLINE} s, "
            f"expected {count}"
        )
        assert all(w.process.poll() is None for w in started), [w.output() for w in started]
        await asyncio.sleep(0.1)


async def test_two_worker_processes_share_the_due_rows_and_run_each_exactly_once(
    database: Database, database_url: str
) -> None:
    due = await make_people(database, psychologists_count=PSYCHOLOGISTS, clients_count=BOOKINGS)
    await book_due(database, due)
    held_key = await first_in_claim_order(database, due)

    async with database.engine.connect() as blocker:
        hold = await blocker.begin()
        await blocker.execute(
            insert(OutboxMessage).values(
                id=uuid.uuid4(),
                dedupe_key=held_key,
                recipient_kind="admin",
                chat_id=ADMIN_CHAT,
                text="held by the test",
                state="pending",
                attempts=0,
                next_attempt_at=due.booked_at,
                created_at=due.booked_at,
            )
        )
        with workers(database_url, 2, batch_size=BATCH) as started:
            wait_until_ready(started)
            # One worker waits on the held key with its first batch locked; the other skips
            # those rows and runs all the rest.
            await wait_for_pending(database, due, BATCH, started)
            await asyncio.sleep(1.0)  # several polls of the free worker: the held rows stay held
            assert await count_due_pending(database, due) == BATCH
            await hold.rollback()
            await wait_for_pending(database, due, 0, started)
            await asyncio.sleep(0.5)  # a last poll of each: nothing more may happen
            for worker in started:
                worker.stop()
            logs = [worker.output() for worker in started]

    events = await timeline_rows(database)
    ran = [e for e in events if is_due(e, due)]
    assert len(ran) == due.due_rows == 2 * BOOKINGS
    assert Counter(e.kind for e in ran) == {"confirm_request": BOOKINGS, "reminder": BOOKINGS}
    assert {(e.state, e.attempts, e.last_error) for e in ran} == {(WorkState.DONE, 1, None)}
    later = [e for e in events if is_later(e, due)]
    assert later
    assert {(e.state, e.attempts) for e in later} == {(WorkState.PENDING, 0)}

    messages = await outbox_rows(database)
    assert_booking_messages(messages, due)
    assert "held by the test" not in {m.text for m in messages}
    # The periodic jobs ran once per tick although both workers materialised the ticks:
    # the Wednesday/Saturday slot reminder reached each psychologist exactly once.
    reminders = [m for m in messages if m.dedupe_key.startswith("job:remind_slots:")]
    assert sorted(m.chat_id or "" for m in reminders) == sorted(f"7{n:05d}" for n in range(PSYCHOLOGISTS))
    assert len(messages) == 3 * BOOKINGS + PSYCHOLOGISTS
    runs = await job_runs(database)
    assert len({(r.job, r.tick_at) for r in runs}) == len(runs)
    assert {(r.state, r.attempts) for r in runs} == {(WorkState.DONE, 1)}

    # What each process says it did adds up to the rows, none was run by both, and the
    # held worker ran exactly its one batch.
    done_by = [worker.events_done() for worker in started]
    assert sorted(done_by) == [BATCH, 2 * BOOKINGS - BATCH], logs
    assert [worker.events_not_done() for worker in started] == [0, 0], logs
    assert all("Traceback" not in log for log in logs), logs
