"""A `hraniteli worker` killed with SIGKILL in the middle of a run, then started again: every
due event runs exactly once, no message is lost and none is written twice. Runs on SQLite
(one worker at a time, as there) and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import uuid

from hraniteli.db import Database
from hraniteli.models import WorkState
from tests.integration.lifecycle.workers import (
    DueBookings,
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
    writes_held,
)

BOOKINGS = 300
"""Two due events each (the confirmation request and the reminder): 600 due rows, which one
worker drains in several seconds on SQLite and PostgreSQL alike."""
DEADLINE = 60
"""Seconds a wait may take before the test fails (a few on an idle machine)."""
PSYCHOLOGISTS = 10


async def _wait_for_done(database: Database, due: DueBookings, *, at_least: int, within: float) -> int:
    deadline = time.monotonic() + within
    while True:
        done = due.due_rows - await count_due_pending(database, due)
        if done >= at_least:
            return done
        assert time.monotonic() < deadline, f"only {done} rows done after {within} s"
        await asyncio.sleep(0.01)


async def test_a_worker_killed_mid_run_and_restarted_runs_every_event_exactly_once(
    database: Database, database_url: str
) -> None:
    due = await make_people(database, psychologists_count=PSYCHOLOGISTS, clients_count=BOOKINGS)
    await book_due(database, due)
    total = due.due_rows

    with workers(database_url, 1, batch_size=5) as (first,):
        wait_until_ready([first])
        await _wait_for_done(database, due, at_least=total // 5, within=DEADLINE)
        # Stop its writes, so the kill lands mid-run however fast the rest would have gone.
        async with writes_held(database):
            await asyncio.sleep(0.3)  # the worker reaches the held lock with its next batch
            first.process.kill()  # SIGKILL: no cleanup, a batch is in flight
            first.process.wait(timeout=10)

    events = await timeline_rows(database)
    done_at_kill = {e.id for e in events if is_due(e, due) and e.state == WorkState.DONE}
    pending_at_kill = {e.id for e in events if is_due(e, due) and e.state == WorkState.PENDING}
    assert 0 < len(done_at_kill) < total, "the kill must land mid-run"
    assert len(done_at_kill) + len(pending_at_kill) == total
    assert {e.attempts for e in events if e.id in pending_at_kill} == {0}
    # A row and its messages commit together: the killed batch left neither.
    by_booking = {(e.booking_id, e.kind): e.state for e in events}
    written = [m for m in await outbox_rows(database) if m.dedupe_key.startswith("booking:")]
    for message in written:
        _, booking_id, kind, _ = message.dedupe_key.split(":")
        assert by_booking[(uuid.UUID(booking_id), kind)] == WorkState.DONE
    done = [e for e in events if e.id in done_at_kill]
    assert len(written) == sum(1 if e.kind == "confirm_request" else 2 for e in done)

    with workers(database_url, 1, batch_size=25) as (second,):
        wait_until_ready([second])
        deadline = time.monotonic() + DEADLINE
        while await count_due_pending(database, due):
            assert time.monotonic() < deadline, f"the restarted worker did not finish in {DEADLINE} s"
            assert second.process.poll() is None, second.output()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        second.stop()
        log = second.output()

    events = await timeline_rows(database)
    ran = [e for e in events if is_due(e, due)]
    assert len(ran) == total
    assert {(e.state, e.attempts, e.last_error) for e in ran} == {(WorkState.DONE, 1, None)}
    assert {(e.state, e.attempts) for e in events if is_later(e, due)} == {(WorkState.PENDING, 0)}
    # The restarted worker ran exactly the rows the killed one had not committed.
    assert second.events_done() == len(pending_at_kill), log
    assert second.events_not_done() == 0, log

    messages = await outbox_rows(database)
    assert_booking_messages(messages, due)
    reminders = [m for m in messages if m.dedupe_key.startswith("job:remind_slots:")]
    assert sorted(m.chat_id or "" for m in reminders) == sorted(f"7{n:05d}" for n in range(PSYCHOLOGISTS))
    assert len(messages) == 3 * BOOKINGS + PSYCHOLOGISTS
    runs = await job_runs(database)
    assert len({(r.job, r.tick_at) for r in runs}) == len(runs)
    assert {(r.state, r.attempts) for r in runs} == {(WorkState.DONE, 1)}
    assert "Traceback" not in log, log
