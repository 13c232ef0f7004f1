"""The worker: runs due timeline events and periodic job ticks, exactly once each.

Claiming: due rows are locked with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of
workers share the work without running a row twice; on SQLite one worker runs (inside
`hraniteli serve`) and its write transactions are serialised anyway. A batch is one
transaction; each row runs in its own savepoint, so one failing row is retried later (with
backoff) without undoing the others, and a worker killed mid-batch commits nothing: the rows
stay pending and run, once, when a worker comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.db import Database
from hraniteli.lifecycle.actions import (
    SIDE_EFFECT_KINDS,
    LifecycleSettings,
    Outcome,
    Outgoing,
    Party,
    first_requests_sent,
    load_parties,
    run_event,
    write_messages,
)
from hraniteli.lifecycle.jobs import JOBS, JOBS_BY_NAME, Job
from hraniteli.lifecycle.meetings import MeetingWork
from hraniteli.lifecycle.rules import MEETING_KINDS, EventKind
from hraniteli.models import JobRun, TimelineEvent, WorkState

log = logging.getLogger("hraniteli.worker")

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


def backoff(attempts: int) -> timedelta:
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


@dataclass
class WorkReport:
    events_done: int = 0
    events_skipped: int = 0
    events_retried: int = 0
    events_failed: int = 0
    jobs_run: int = 0
    jobs_failed: int = 0
    job_results: dict[str, object] = field(default_factory=dict)
    cancelled_tickets: list[str] = field(default_factory=list)
    meetings_created: int = 0
    meetings_failed: int = 0

    @property
    def total(self) -> int:
        return (
            self.events_done + self.events_skipped + self.events_retried + self.events_failed + self.jobs_run
        )


class Worker:
    def __init__(
        self,
        database: Database,
        settings: LifecycleSettings,
        *,
        batch_size: int = 100,
        max_attempts: int = 5,
        jobs: tuple[Job, ...] = JOBS,
        max_batches: int = 1000,
        meetings: MeetingWork | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.jobs = jobs
        self.max_batches = max_batches
        self.meetings = meetings

    async def tick(self, now: datetime) -> WorkReport:
        """Everything due at `now`: job ticks are materialised, then events and jobs run."""
        report = WorkReport()
        await self.materialise_job_ticks(now)
        if self.meetings is not None:
            meetings = await self.meetings.run_due(now)
            report.meetings_created, report.meetings_failed = meetings.created, meetings.failed
        for _ in range(self.max_batches):
            if not await self._event_batch(now, report):
                break
        for _ in range(self.max_batches):
            if not await self._job_batch(now, report):
                break
        return report

    async def materialise_job_ticks(self, now: datetime) -> None:
        """One row per job and tick (unique): the latest tick at or before now. Ticks missed
        while no worker ran collapse into that one, which runs late but once."""
        async with self.database.unit_of_work() as session:
            for job in self.jobs:
                tick = job.latest_tick(now)
                exists = await session.execute(
                    select(JobRun.id).where(JobRun.job == job.name, JobRun.tick_at == tick)
                )
                if exists.first() is not None:
                    continue
                try:
                    async with session.begin_nested():
                        session.add(
                            JobRun(
                                id=uuid.uuid4(),
                                job=job.name,
                                tick_at=tick,
                                due_at=tick,
                                state=WorkState.PENDING,
                                attempts=0,
                                created_at=now,
                                updated_at=now,
                            )
                        )
                        await session.flush()
                except IntegrityError:
                    continue  # another worker wrote it first

    async def _event_batch(self, now: datetime, report: WorkReport) -> bool:
        async with self.database.unit_of_work() as session:
            query = (
                select(TimelineEvent)
                .where(
                    TimelineEvent.state == WorkState.PENDING,
                    TimelineEvent.due_at <= now,
                    TimelineEvent.kind.not_in([str(kind) for kind in MEETING_KINDS]),
                )
                .order_by(TimelineEvent.due_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )
            events = list((await session.execute(query)).scalars())
            booking_ids = list({event.booking_id for event in events})
            parties = await load_parties(session, booking_ids)
            asked = await first_requests_sent(session, booking_ids)
            messages: list[Outgoing] = []
            for event in events:
                outcome = await self._run_event(
                    session, event, now, report, parties.get(event.booking_id), asked.get(event.booking_id)
                )
                if outcome is not None:
                    messages.extend(outcome.messages)
                    if event.kind == EventKind.CONFIRM_REQUEST and outcome.did:
                        asked[event.booking_id] = now
            await write_messages(session, messages, now)
            await session.flush()
        return len(events) == self.batch_size

    async def _run_event(
        self,
        session: AsyncSession,
        event: TimelineEvent,
        now: datetime,
        report: WorkReport,
        party: Party | None,
        asked_at: datetime | None,
    ) -> Outcome | None:
        """One event; those that change bookings run in a savepoint so a failure undoes only them."""
        event_id, kind = event.id, event.kind
        try:
            if kind in SIDE_EFFECT_KINDS:
                async with session.begin_nested():
                    outcome = await run_event(
                        session, event=event, now=now, settings=self.settings, party=party, asked_at=asked_at
                    )
            else:
                outcome = await run_event(
                    session, event=event, now=now, settings=self.settings, party=party, asked_at=asked_at
                )
        except Exception as exc:
            log.warning("timeline event %s (%s) failed: %s", event_id, kind, type(exc).__name__)
            failed = await session.get(TimelineEvent, event_id, populate_existing=True)
            assert failed is not None
            failed.attempts += 1
            failed.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            failed.updated_at = now
            if failed.attempts >= self.max_attempts:
                failed.state = WorkState.FAILED
                failed.done_at = now
                report.events_failed += 1
            else:
                failed.due_at = now + backoff(failed.attempts)
                report.events_retried += 1
            return None
        event.state = WorkState.DONE if outcome.did else WorkState.SKIPPED
        event.result = outcome.result
        event.attempts += 1
        event.updated_at = now
        event.done_at = now
        if outcome.did:
            report.events_done += 1
            if kind == EventKind.AUTO_CANCEL:
                # the seed's `cancelled_tickets`: the ticket number, else the booking's id
                ref = party.booking.application_ref if party is not None else None
                report.cancelled_tickets.append(ref or str(event.booking_id))
        else:
            report.events_skipped += 1
        return outcome

    async def _job_batch(self, now: datetime, report: WorkReport) -> bool:
        async with self.database.unit_of_work() as session:
            query = (
                select(JobRun)
                .where(JobRun.state == WorkState.PENDING, JobRun.due_at <= now)
                .order_by(JobRun.due_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )
            runs = list((await session.execute(query)).scalars())
            for run in runs:
                job = JOBS_BY_NAME.get(run.job)
                run_id = run.id
                try:
                    if job is None:
                        raise LookupError(f"unknown job {run.job}")
                    async with session.begin_nested():
                        result = await job.body(session, now, run.tick_at, self.settings)
                        run.state = WorkState.DONE
                        run.result = result
                        run.attempts += 1
                        run.updated_at = now
                        await session.flush()
                    report.jobs_run += 1
                    report.job_results[run.job] = result
                except Exception as exc:
                    log.warning("job %s failed: %s", run.job, type(exc).__name__)
                    failed = await session.get(JobRun, run_id, populate_existing=True)
                    assert failed is not None
                    failed.attempts += 1
                    failed.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    failed.updated_at = now
                    if failed.attempts >= self.max_attempts:
                        failed.state = WorkState.FAILED
                    else:
                        failed.due_at = now + backoff(failed.attempts)
                    report.jobs_failed += 1
                    await session.flush()
        return len(runs) == self.batch_size

    async def run_job_now(self, name: str, now: datetime) -> dict[str, object]:
        """Run one periodic job at once (the legacy cron paths), recorded as a run at `now`."""
        job = JOBS_BY_NAME.get(name)
        if job is None:
            raise LookupError(f"unknown job {name}")
        async with self.database.unit_of_work() as session:
            result = await job.body(session, now, now, self.settings)
            session.add(
                JobRun(
                    id=uuid.uuid4(),
                    job=f"{name}:on_demand",
                    tick_at=now,
                    due_at=now,
                    state=WorkState.DONE,
                    attempts=1,
                    result=result,
                    created_at=now,
                    updated_at=now,
                )
            )
        return result

    async def run(self, stop: asyncio.Event, *, clock: Callable[[], datetime], poll_seconds: float) -> None:
        """Tick until `stop` is set; a failing tick is logged and retried next poll."""
        while not stop.is_set():
            try:
                report = await self.tick(clock())
                if report.total:
                    log.info("worker tick: %s", report)
            except Exception:
                log.exception("worker tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
