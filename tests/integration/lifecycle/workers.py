"""Real `hraniteli worker` processes against the test database, and bookings that are due
for them now (by the wall clock, which is the clock a worker process reads)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from hraniteli.bookings import service as bookings
from hraniteli.clock import utc_now
from hraniteli.db import Database
from hraniteli.models import Client, JobRun, OutboxMessage, Psychologist, TimelineEvent, WorkState
from hraniteli.psychologists import service as psychologists
from hraniteli.psychologists.schemas import PsychologistCreate
from hraniteli.schedule import service as schedule
from hraniteli.schedule.service import SchedulePolicy

ADMIN_CHAT = "-100500"
DUE_KINDS = ("confirm_request", "reminder")
"""What these bookings have due now and what the tests count (a meeting-link event is also due
at booking time; it has its own tests in tests/integration/conferencing)."""
OPEN_EVERY_DAY = SchedulePolicy(closed_weekdays=())
"""The wall clock may fall on a Sunday: these tests do not care about the practice's calendar."""

# `python -m hraniteli worker` exactly, with INFO logging switched on, so each process's
# "worker tick: WorkReport(...)" lines tell what it did (the CLI configures no logging itself).
WORKER_COMMAND = [sys.executable, "-m", "hraniteli", "worker"]
READY = "Hraniteli worker:"
REPORT = re.compile(
    r"worker tick: WorkReport\(events_done=(\d+), events_skipped=(\d+), events_retried=(\d+), "
    r"events_failed=(\d+), jobs_run=(\d+)"
)


@dataclass
class DueBookings:
    """Bookings made a minute ago for sessions starting 10–110 minutes from now: each one's
    confirmation request and its reminder are due at once; nothing else is due for minutes."""

    booked_at: datetime
    booking_ids: list[uuid.UUID] = field(default_factory=list)
    client_chats: dict[uuid.UUID, str] = field(default_factory=dict)
    psychologist_chats: dict[uuid.UUID, str] = field(default_factory=dict)
    psychologist_ids: list[uuid.UUID] = field(default_factory=list)

    def expected_keys(self) -> set[str]:
        return {
            f"booking:{booking_id}:{kind}:{who}"
            for booking_id in self.booking_ids
            for kind, who in (
                ("confirm_request", "client"),
                ("reminder", "client"),
                ("reminder", "psychologist"),
            )
        }

    @property
    def due_rows(self) -> int:
        return 2 * len(self.booking_ids)


async def make_people(database: Database, *, psychologists_count: int, clients_count: int) -> DueBookings:
    """Active psychologists (with Telegram) and clients (with Telegram), created now."""
    now = utc_now()
    due = DueBookings(booked_at=now - timedelta(minutes=1))
    async with database.unit_of_work() as session:
        for n in range(psychologists_count):
            psychologist = await psychologists.create_psychologist(
                session,
                data=PsychologistCreate(name=f"Психолог {n:03d}", telegram_id=f"7{n:05d}"),
                now=now,
                default_time_zone="Europe/Moscow",
            )
            due.psychologist_ids.append(psychologist.id)
        for n in range(clients_count):
            client = Client(
                id=uuid.uuid4(),
                telegram_id=f"5{n:06d}",
                name=f"Клиент {n}",
                time_zone="Europe/Moscow",
                created_at=now,
                updated_at=now,
            )
            session.add(client)
            due.client_chats[client.id] = client.telegram_id or ""
        await session.flush()
    return due


async def book_due(database: Database, due: DueBookings) -> None:
    """One booking per client, spread over the psychologists (one-minute slots, one a minute)."""
    start = utc_now().replace(second=0, microsecond=0) + timedelta(minutes=10)
    async with database.unit_of_work() as session:
        by_id = {
            p.id: p
            for p in (
                await session.execute(select(Psychologist).where(Psychologist.id.in_(due.psychologist_ids)))
            ).scalars()
        }
        for n, client_id in enumerate(due.client_chats):
            psychologist = by_id[due.psychologist_ids[n % len(due.psychologist_ids)]]
            added = await schedule.add_slot(
                session,
                psychologist=psychologist,
                start_at=start + timedelta(minutes=n // len(due.psychologist_ids)),
                now=due.booked_at,
                policy=OPEN_EVERY_DAY,
                duration_minutes=1,
            )
            booking = await bookings.book_slot(
                session,
                request=bookings.BookingRequest(
                    slot_id=added.slot.id, client_id=client_id, application_ref=f"t{n:05d}"
                ),
                now=due.booked_at,
            )
            due.booking_ids.append(booking.id)
            due.psychologist_chats[booking.id] = psychologist.telegram_id or ""


def is_due(event: TimelineEvent, due: DueBookings) -> bool:
    return event.kind in DUE_KINDS and event.due_at <= due.booked_at


def is_later(event: TimelineEvent, due: DueBookings) -> bool:
    return event.kind not in ("create_meeting", "delete_meeting") and event.due_at > due.booked_at


async def count_due_pending(database: Database, due: DueBookings) -> int:
    async with database.unit_of_work(write=False) as session:
        query = select(func.count(TimelineEvent.id)).where(
            TimelineEvent.state == WorkState.PENDING,
            TimelineEvent.due_at <= due.booked_at,
            TimelineEvent.kind.in_(DUE_KINDS),
        )
        return int((await session.execute(query)).scalar_one())


async def timeline_rows(database: Database) -> list[TimelineEvent]:
    async with database.unit_of_work(write=False) as session:
        return list((await session.execute(select(TimelineEvent))).scalars())


async def outbox_rows(database: Database) -> list[OutboxMessage]:
    async with database.unit_of_work(write=False) as session:
        return list((await session.execute(select(OutboxMessage))).scalars())


async def job_runs(database: Database) -> list[JobRun]:
    async with database.unit_of_work(write=False) as session:
        return list((await session.execute(select(JobRun))).scalars())


def assert_booking_messages(messages: list[OutboxMessage], due: DueBookings) -> None:
    """Exactly the expected message per booking, kind and recipient, to the right chat."""
    about_bookings = [m for m in messages if m.dedupe_key.startswith("booking:")]
    by_key = {m.dedupe_key: m for m in about_bookings}
    assert len(by_key) == len(about_bookings)
    assert set(by_key) == due.expected_keys()
    clients = dict(zip(due.booking_ids, due.client_chats.values(), strict=True))
    for booking_id in due.booking_ids:
        request = by_key[f"booking:{booking_id}:confirm_request:client"]
        reminder = by_key[f"booking:{booking_id}:reminder:client"]
        to_psychologist = by_key[f"booking:{booking_id}:reminder:psychologist"]
        assert request.chat_id == reminder.chat_id == clients[booking_id]
        assert to_psychologist.chat_id == due.psychologist_chats[booking_id]
        assert "подтвердите, что придёте" in request.text
        assert "Скоро ваша сессия" in reminder.text
        assert to_psychologist.text.startswith("Напоминание: сессия")


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path
    out: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def is_ready(self) -> bool:
        return READY in self.out.read_text(errors="replace")

    def reports(self) -> list[tuple[int, ...]]:
        return [tuple(int(n) for n in match.groups()) for match in REPORT.finditer(self.output())]

    def events_done(self) -> int:
        return sum(report[0] for report in self.reports())

    def events_not_done(self) -> int:
        return sum(report[1] + report[2] + report[3] for report in self.reports())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_worker(database_url: str, *, batch_size: int, directory: Path) -> WorkerProcess:
    env = {
        **os.environ,
        "HRANITELI_DATABASE_URL": database_url,
        "HRANITELI_WORKER_POLL_SECONDS": "0.2",
        "HRANITELI_WORKER_BATCH_SIZE": str(batch_size),
        "HRANITELI_DATABASE_POOL_SIZE": "2",
        "HRANITELI_TELEGRAM_ADMIN_CHAT_ID": ADMIN_CHAT,
        "HRANITELI_LOG_LEVEL": "info",
    }
    for name in ("HRANITELI_TELEGRAM_BOT_TOKEN", "HRANITELI_WORKER_IN_PROCESS"):
        env.pop(name, None)
    log = Path(tempfile.mkstemp(prefix="worker-", suffix=".log", dir=directory)[1])
    out = Path(tempfile.mkstemp(prefix="worker-", suffix=".out", dir=directory)[1])
    with log.open("wb") as stderr, out.open("wb") as stdout:
        process = subprocess.Popen(WORKER_COMMAND, env=env, stdout=stdout, stderr=stderr)
    return WorkerProcess(process, log, out)


@contextmanager
def workers(database_url: str, count: int, *, batch_size: int) -> Iterator[list[WorkerProcess]]:
    """`count` worker processes, killed whatever happens."""
    directory = Path(tempfile.mkdtemp(prefix="hraniteli-workers-"))
    started: list[WorkerProcess] = []
    try:
        for _ in range(count):
            started.append(start_worker(database_url, batch_size=batch_size, directory=directory))
        yield started
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait(timeout=10)


def wait_until_ready(started: list[WorkerProcess], *, timeout: float = 60) -> None:
    """Until each prints its banner (seconds; many more on a busy shared machine)."""
    deadline = time.monotonic() + timeout
    while not all(worker.is_ready() for worker in started):
        for worker in started:
            if worker.process.poll() is not None:
                raise AssertionError(f"a worker exited early:\n{worker.output()}")
        if time.monotonic() > deadline:
            raise AssertionError("the workers did not start:\n" + "\n".join(w.output() for w in started))
        time.sleep(0.05)


@asynccontextmanager
async def writes_held(database: Database) -> AsyncIterator[None]:
    """Nobody else writes the outbox while this is open: on PostgreSQL an EXCLUSIVE lock on the
    table (a worker stops at its batch's message insert, the batch claimed and in flight); on
    SQLite the write lock itself (a worker waits on the busy timeout to begin). Released by
    rolling back; hold it well under the busy timeout."""
    engine = (
        database.engine.execution_options(sqlite_begin="IMMEDIATE") if database.is_sqlite else database.engine
    )
    async with engine.connect() as connection:
        transaction = await connection.begin()
        if not database.is_sqlite:
            await connection.execute(text("LOCK TABLE outbox_messages IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            await transaction.rollback()
