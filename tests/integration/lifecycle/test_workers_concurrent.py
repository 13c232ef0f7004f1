"""Two `hraniteli worker` processes over the same due rows on PostgreSQL (FOR UPDATE SKIP
LOCKED): every event runs exactly once, every message is written exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from hraniteli.db import Database
from hraniteli.models import WorkState
from tests.integration.lifecycle.workers import (
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
DEADLINE = 60
"""Seconds the drain may take before the test fails (several on an idle machine)."""


async def test_two_worker_processes_share_the_due_rows_and_run_each_exactly_once(
    database: Database, database_url: str
) -> None:
    due = await make_people(database, psychologists_count=PSYCHOLOGISTS, clients_count=BOOKINGS)

    with workers(database_url, 2, batch_size=20) as started:
        wait_until_ready(started)
        # Both are polling: the due rows appear for both at the same commit.
        await book_due(database, due)
        deadline = time.monotonic() + DEADLINE
        while await count_due_pending(database, due):
            assert time.monotonic() < deadline, f"the workers did not drain the due rows in {DEADLINE} s"
            assert all(w.process.poll() is None for w in started), [w.output() for w in started]
            await asyncio.sleep(0.1)
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
    # The periodic jobs ran once per tick although both workers materialised the ticks:
    # the Wednesday/Saturday slot reminder reached each psychologist exactly once.
    reminders = [m for m in messages if m.dedupe_key.startswith("job:remind_slots:")]
    assert sorted(m.chat_id or "" for m in reminders) == sorted(f"7{n:05d}" for n in range(PSYCHOLOGISTS))
    assert len(messages) == 3 * BOOKINGS + PSYCHOLOGISTS
    runs = await job_runs(database)
    assert len({(r.job, r.tick_at) for r in runs}) == len(runs)
    assert {(r.state, r.attempts) for r in runs} == {(WorkState.DONE, 1)}

    # What each process says it did adds up to the rows: none was run by both.
    done_by = [worker.events_done() for worker in started]
    assert sum(done_by) == 2 * BOOKINGS, logs
    assert [worker.events_not_done() for worker in started] == [0, 0], logs
    assert all(done > 0 for done in done_by), f"one worker did everything: {done_by}"
    assert all("Traceback" not in log for log in logs), logs
