"""Benchmark of the session lifecycle's back end: the worker's sweep and Telegram delivery (issue 4).

One run, one fresh database (a temp SQLite file, or PostgreSQL with --postgres / --database-url):

1. **Seed** (SQLAlchemy Core, bulk): 50 psychologists and 10,000 clients, all with Telegram chat
   ids; 10,000 booked slots and confirmed bookings (200 per psychologist, 2 h apart, from
   tomorrow on, with a Jitsi link) and each booking's whole ladder as `rules.plan` makes it for a
   booking made a day ago: the meeting row done, the confirmation rows skipped (the client
   confirmed), feedback and offers pending in the future — and the REMINDER row pending and due
   (spread over the last hour, as after a backlog). 90,000 timeline rows, 10,000 of them due.
2. **Raw baseline** (same run): the raw driver (sqlite3 / asyncpg) doing the database work the
   sweep cannot avoid, in the same batches: per batch one transaction that selects the due rows
   with the two chat ids (one join; FOR UPDATE SKIP LOCKED on PostgreSQL), marks them done
   (executemany) and inserts client + psychologist outbox rows (executemany, ON CONFLICT DO
   NOTHING). Then rolled back to the seeded state (reminders pending, outbox empty; VACUUM
   ANALYZE on PostgreSQL).
3. **Sweep**: `Worker(database, LifecycleSettings(), batch_size=100, jobs=()).tick(now)` drains
   the 10,000 due rows and writes 20,000 outbox messages; rows/s vs the baseline. Target ≥ 1,000
   rows/s.
4. **Delivery**: the fake Bot API of tests/fakes/telegram_api.py (uvicorn on a free loopback port,
   in a subprocess by default so that it does not share the GIL with the sender; `--fake thread`
   runs it in a thread as the tests do) enforcing Telegram-like limits — N messages in any 1 s
   and 1 s between two messages to one chat, else 429 `retry_after` 1 and a recorded violation —
   and a real `TelegramSender.from_settings(...)` (aiogram over HTTP, real clock and
   asyncio.sleep) running `run(stop)` for a fixed window. Every phase starts from the queue the
   sweep wrote (all 20,000 messages pending and due again):
   a) the fake allows 30/s, the sender is set to 30/s (12 s);
   b) the fake allows 1,000/s, the sender is set to 1,000/s (8 s: the 10,000 client messages do
      not run out; half the queue goes to 50 psychologist chats, 200 each, 1 message/s each);
   c), d) as a) and b) with only the client messages due (one message per chat).
   Delivered msg/s ÷ the overall allowance, and ÷ the bound: what the Bot API allows on this
   queue within both limits (a perfect sender with free sends, simulated). Target: ÷bound
   ≥ 95 % and no 429.

    .venv/bin/python bench/delivery.py              # SQLite (make bench)
    .venv/bin/python bench/delivery.py --postgres   # a throwaway PostgreSQL database
    .venv/bin/python bench/delivery.py --profile sweep   # cProfile of the sweep (or delivery-a … -d)

Bounded: every loop has a limit, every delivery window is fixed; a run takes about 1.5–2 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import heapq
import io
import pstats
import random
import select as select_module
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from _common import (
    ROOT,
    bench_parser,
    format_table,
    headline,
    insert_rows,
    migrated_database,
    optional,
    plain_pg,
    psychologist_row,
    ratio,
    run_loop,
    slot_row,
    sqlite_instant,
    stop_process,
    wait_until_up,
    write_results,
)
from hraniteli.config import Settings
from hraniteli.db import Database, create_engine
from hraniteli.lifecycle.actions import LifecycleSettings
from hraniteli.lifecycle.rules import CONFIRMATION_KINDS, MEETING_KINDS, EventKind, plan
from hraniteli.lifecycle.worker import Worker
from hraniteli.models import (
    Booking,
    BookingStatus,
    Client,
    OutboxMessage,
    OutboxState,
    Psychologist,
    Slot,
    SlotState,
    TimelineEvent,
    WorkState,
)
from hraniteli.notifications.sender import TelegramSender

# isort: split
from tests.fakes.telegram_api import TOKEN, FakeTelegram  # importable once _common put the root on the path

SWEEP_TARGET = 1000.0
"""Timeline rows per second."""
DELIVERY_TARGET = 0.95
"""Delivered ÷ allowed."""
SESSION_GAP = timedelta(hours=2)


# --- options ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = bench_parser(__doc__)
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--psychologists", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=100, help="worker and sender batch size")
    parser.add_argument("--window", type=float, default=12.0, help="seconds per delivery phase (≤ 30)")
    parser.add_argument(
        "--fast-window",
        type=float,
        default=8.0,
        help="seconds of the phases at --fast-rate (≤ 30; short enough that the 10,000 client "
        "messages do not run out, so the allowance, not the queue, limits)",
    )
    parser.add_argument("--slow-rate", type=int, default=30, help="allowance of phase a, msg/s")
    parser.add_argument("--fast-rate", type=int, default=1000, help="allowance of phases b and c, msg/s")
    parser.add_argument("--chat-interval", type=float, default=1.0, help="per-chat limit, seconds")
    parser.add_argument(
        "--fake", choices=("process", "thread"), default="process", help="where the fake Bot API runs"
    )
    parser.add_argument(
        "--profile",
        choices=("sweep", "delivery-a", "delivery-b", "delivery-c", "delivery-d"),
        help="cProfile that part and print the top functions",
    )
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.serve_fake:
        if args.bookings < 1 or args.psychologists < 1 or args.batch_size < 1:
            parser.error("--bookings, --psychologists and --batch-size must be positive")
        if not (1 <= args.window <= 30 and 1 <= args.fast_window <= 30):
            parser.error("--window must be 1…30 s")
        if args.slow_rate < 1 or args.fast_rate < 1 or args.chat_interval <= 0:
            parser.error("rates and --chat-interval must be positive")
    return args


# --- the fake Bot API ------------------------------------------------------------------------


class BenchFake(FakeTelegram):
    """tests/fakes' fake Bot API with the same limits checked in O(1) per request (the tests'
    check scans every request so far: fine for 60 messages, not for 12,000) and two control
    routes for this script, which may run it in another process."""

    def __init__(self) -> None:
        super().__init__()
        self._recent: deque[float] = deque()
        self._last_to_chat: dict[str, float] = {}

    def enforce_rate_limit(
        self, *, max_messages: int = 30, window_seconds: float = 1.0, chat_interval_seconds: float = 1.0
    ) -> None:
        with self._lock:
            self.messages.clear()
            self.requests.clear()
            self.violations.clear()
            self._recent.clear()
            self._last_to_chat.clear()
        super().enforce_rate_limit(
            max_messages=max_messages,
            window_seconds=window_seconds,
            chat_interval_seconds=chat_interval_seconds,
        )

    def _rate_violation(self, chat_id: str, arrived: float) -> JSONResponse | None:
        # Called under the lock for every request that has no injected failure (the bench injects
        # none), i.e. for every request the base class records: the same rule as FakeTelegram's.
        limit = self._rate_limit
        if limit is None:
            return None
        recent = self._recent
        while recent and arrived - recent[0] >= limit.window_seconds:
            recent.popleft()
        last_to_chat = self._last_to_chat.get(chat_id)
        recent.append(arrived)
        self._last_to_chat[chat_id] = arrived
        if len(recent) - 1 >= limit.max_messages:
            self.violations.append(f"{len(recent)} messages within {limit.window_seconds}s")
        elif last_to_chat is not None and arrived - last_to_chat < limit.chat_interval_seconds:
            self.violations.append(
                f"chat {chat_id}: {arrived - last_to_chat:.3f}s after the previous message"
            )
        else:
            return None
        return JSONResponse(
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
            status_code=429,
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/_bench/limit", self._set_limit, methods=["POST"]),
                Route("/_bench/stats", self._stats, methods=["GET"]),
                *super().app().routes,
            ]
        )

    async def _set_limit(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.enforce_rate_limit(
            max_messages=int(body["max_messages"]),
            window_seconds=float(body["window_seconds"]),
            chat_interval_seconds=float(body["chat_interval_seconds"]),
        )
        return JSONResponse({"ok": True})

    async def _stats(self, request: Request) -> JSONResponse:
        until = float(request.query_params.get("until", "inf"))
        with self._lock:
            requests = list(self.requests)
            violations = list(self.violations)
        statuses: dict[str, int] = {}
        for _chat, _at, status in requests:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        accepted = [at for _chat, at, status in requests if status == 200 and at <= until]
        return JSONResponse(
            {
                "requests": len(requests),
                "statuses": statuses,
                "accepted_until": len(accepted),
                "first_accepted": min(accepted, default=None),
                "last_accepted": max(accepted, default=None),
                "violations": len(violations),
                "violation_samples": violations[:5],
            }
        )


def _loopback_socket() -> socket.socket:
    # IPPROTO_TCP explicitly, as in tests/fakes: asyncio sets TCP_NODELAY only on sockets that
    # name it; without it every answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _fake_server(fake: BenchFake) -> uvicorn.Server:
    config = uvicorn.Config(
        fake.app(), log_level="warning", lifespan="off", ws="none", access_log=False, timeout_keep_alive=60
    )
    return uvicorn.Server(config)


def serve_fake() -> None:
    """Subprocess mode: serve the fake on a free loopback port, print the port, run until killed."""
    sock = _loopback_socket()
    print(sock.getsockname()[1], flush=True)
    _fake_server(BenchFake()).run(sockets=[sock])


@contextlib.contextmanager
def fake_api(mode: str) -> Iterator[str]:
    """The fake Bot API on loopback, in a subprocess (default) or a thread; yields its base URL."""
    if mode == "thread":
        sock = _loopback_socket()
        server = _fake_server(BenchFake())
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            base = f"http://127.0.0.1:{sock.getsockname()[1]}"
            _wait_until_up(base, alive=thread.is_alive)
            yield base
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()
        return
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-fake"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select_module.select([process.stdout], [], [], 20)
        line = process.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            raise SystemExit("the fake Bot API did not start")
        base = f"http://127.0.0.1:{int(line)}"
        _wait_until_up(base, alive=lambda: process.poll() is None)
        yield base
    finally:
        stop_process(process)


def _wait_until_up(base: str, *, alive: Callable[[], bool]) -> None:
    if not wait_until_up(
        lambda: httpx.post(f"{base}/bot{TOKEN}/getMe", timeout=1), alive=alive, seconds=20, interval=0.05
    ):
        raise SystemExit("the fake Bot API did not answer")


# --- the database ----------------------------------------------------------------------------


@dataclass
class Seeded:
    bookings: int
    timeline_rows: int
    due: int
    seconds: float


async def seed(url: str, args: argparse.Namespace, now: datetime) -> Seeded:
    started = time.perf_counter()
    rng = random.Random(2026)
    booked_at = now - timedelta(days=1)
    first_start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    people = [
        psychologist_row(index, now, telegram_id=str(5_000_000_000 + index))
        for index in range(1, args.psychologists + 1)
    ]
    clients, slots, bookings, events = [], [], [], []
    done = {EventKind.CREATE_MEETING}
    for number in range(args.bookings):
        psychologist = people[number % len(people)]
        start = first_start + SESSION_GAP * (number // len(people))
        end = start + timedelta(minutes=60)
        client_id, slot_id, booking_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        clients.append(
            {
                "id": client_id,
                "telegram_id": str(7_000_000_000 + number),
                "name": f"Клиент {number}",
                "time_zone": "Europe/Moscow",
                "created_at": booked_at,
                "updated_at": booked_at,
            }
        )
        slots.append(slot_row(psychologist["id"], start, SlotState.BOOKED, booked_at, slot_id=slot_id))
        bookings.append(
            {
                "id": booking_id,
                "slot_id": slot_id,
                "psychologist_id": psychologist["id"],
                "client_id": client_id,
                "application_ref": f"Б-{number:05d}",
                "start_at": start,
                "end_at": end,
                "status": BookingStatus.CONFIRMED.value,
                "is_confirmed": True,
                "is_auto_assigned": False,
                "is_auto_canceled": False,
                "is_helpful_hand": False,
                "meeting_platform": "jitsi",
                "meeting_link": f"https://meet.jit.si/hraniteli-{booking_id.hex[:16]}",
                "created_at": booked_at,
                "updated_at": booked_at,
                "confirmed_at": booked_at + timedelta(hours=1),
            }
        )
        for planned in plan(start_at=start, end_at=end, booked_at=booked_at):
            row: dict[str, Any] = {
                "id": uuid.uuid4(),
                "booking_id": booking_id,
                "kind": planned.kind.value,
                "due_at": planned.due_at,
                "state": WorkState.PENDING.value,
                "attempts": 0,
                "result": None,
                "created_at": booked_at,
                "updated_at": booked_at,
                "done_at": None,
            }
            if planned.kind == EventKind.REMINDER:  # due now: a backlog spread over the last hour
                row["due_at"] = now - timedelta(seconds=rng.uniform(1, 3600))
            elif planned.kind in done:
                row.update(state=WorkState.DONE.value, attempts=1, result="ссылка создана", done_at=booked_at)
            elif planned.kind in CONFIRMATION_KINDS:
                done_at = booked_at + timedelta(hours=1)
                row.update(state=WorkState.SKIPPED.value, result="клиент подтвердил", done_at=done_at)
            events.append(row)
    await insert_rows(
        url,
        [
            (Psychologist.__table__, people),
            (Client.__table__, clients),
            (Slot.__table__, slots),
            (Booking.__table__, bookings),
            (TimelineEvent.__table__, events),
        ],
    )
    due = sum(1 for row in events if row["kind"] == EventKind.REMINDER.value)
    return Seeded(args.bookings, len(events), due, time.perf_counter() - started)


async def count_due(url: str, now: datetime) -> tuple[int, int]:
    """(due timeline rows the worker would take, outbox rows)."""
    engine = create_engine(url, pool_size=0)
    try:
        async with engine.connect() as connection:
            due = (
                await connection.execute(
                    select(func.count())
                    .select_from(TimelineEvent)
                    .where(
                        TimelineEvent.state == WorkState.PENDING,
                        TimelineEvent.due_at <= now,
                        TimelineEvent.kind.not_in([str(kind) for kind in MEETING_KINDS]),
                    )
                )
            ).scalar_one()
            outbox = (await connection.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
    finally:
        await engine.dispose()
    return int(due), int(outbox)


async def restore(url: str) -> None:
    """Back to the seeded state after the raw baseline: reminders pending, outbox empty."""
    engine = create_engine(url, pool_size=0)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(TimelineEvent)
                .where(TimelineEvent.kind == EventKind.REMINDER.value)
                .values(
                    state=WorkState.PENDING.value,
                    attempts=0,
                    result=None,
                    done_at=None,
                    updated_at=TimelineEvent.created_at,
                )
            )
            await connection.execute(OutboxMessage.__table__.delete())
    finally:
        await engine.dispose()
    if url.startswith("postgresql"):
        connection = await asyncpg.connect(plain_pg(url))
        try:
            await connection.execute("VACUUM ANALYZE timeline_events, outbox_messages")
        finally:
            await connection.close()


# --- the raw baseline ------------------------------------------------------------------------

_NOT_MEETING = ", ".join(f"'{kind}'" for kind in sorted(MEETING_KINDS))
_RAW_SELECT = (
    "SELECT t.id, t.booking_id, t.kind, c.id, c.telegram_id, p.id, p.telegram_id "
    "FROM timeline_events t JOIN bookings b ON b.id = t.booking_id "
    "JOIN psychologists p ON p.id = b.psychologist_id LEFT JOIN clients c ON c.id = b.client_id "
    f"WHERE t.state = 'pending' AND t.due_at <= {{now}} AND t.kind NOT IN ({_NOT_MEETING}) "
    "ORDER BY t.due_at LIMIT {limit}"
)
_RAW_UPDATE = (
    "UPDATE timeline_events SET state = 'done', result = {0}, attempts = attempts + 1, "
    "updated_at = {1}, done_at = {1} WHERE id = {2}"
)
_RAW_INSERT = (
    "INSERT INTO outbox_messages (id, dedupe_key, recipient_kind, recipient_ref, chat_id, text, buttons, "
    "state, attempts, next_attempt_at, created_at) VALUES ({0}, {1}, {2}, {3}, {4}, {5}, NULL, 'pending', 0, "
    "{6}, {6}) ON CONFLICT (dedupe_key) DO NOTHING"
)
CLIENT_TEXT = (
    "Здравствуйте! Скоро ваша сессия с психологом Психолог Тестовый 001 — пн, 24.11 в 12:00 (МСК).\n"
    "Ссылка на встречу: https://meet.jit.si/hraniteli-0123456789abcdef\n"
    "Как подготовиться: https://hrani.live/prepare"
)
PSYCHOLOGIST_TEXT = (
    "Напоминание: сессия пн, 24.11 в 12:00 (МСК), заявка Б-00001.\n"
    "Ссылка на встречу: https://meet.jit.si/hraniteli-0123456789abcdef"
)


def _outbox_rows(rows: list[Any], as_uuid: Any, new_id: Any) -> list[tuple[Any, ...]]:
    out = []
    for _event, booking, kind, client, client_chat, psychologist, psychologist_chat in rows:
        key = f"booking:{as_uuid(booking)}:{kind}"
        out.append((new_id(), f"{key}:client", "client", str(as_uuid(client)), client_chat, CLIENT_TEXT))
        out.append(
            (
                new_id(),
                f"{key}:psychologist",
                "psychologist",
                str(as_uuid(psychologist)),
                psychologist_chat,
                PSYCHOLOGIST_TEXT,
            )
        )
    return out


def raw_sweep_sqlite(url: str, now: datetime, batch: int, max_batches: int) -> int:
    """The stdlib sqlite3 module, the app's pragmas, BEGIN IMMEDIATE per batch."""
    path = make_url(url).database
    assert path
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=30000")
        query = _RAW_SELECT.format(now="?", limit="?")
        mark = _RAW_UPDATE.format("?1", "?2", "?3")
        write = _RAW_INSERT.format(*(f"?{n}" for n in range(1, 8)))
        at = sqlite_instant(now)
        total = 0
        for _ in range(max_batches):
            connection.execute("BEGIN IMMEDIATE")
            rows = connection.execute(query, (at, batch)).fetchall()
            connection.executemany(mark, [("напоминания отправлены", at, row[0]) for row in rows])
            outbox = _outbox_rows(rows, lambda value: uuid.UUID(hex=value), lambda: uuid.uuid4().hex)
            connection.executemany(write, [(*row, at) for row in outbox])
            connection.execute("COMMIT")
            total += len(rows)
            if len(rows) < batch:
                break
        return total
    finally:
        connection.close()


async def raw_sweep_postgres(url: str, now: datetime, batch: int, max_batches: int) -> int:
    """asyncpg, one transaction per batch, FOR UPDATE OF t SKIP LOCKED like the worker."""
    connection = await asyncpg.connect(plain_pg(url))
    try:
        query = _RAW_SELECT.format(now="$1", limit="$2") + " FOR UPDATE OF t SKIP LOCKED"
        mark = _RAW_UPDATE.format("$1", "$2", "$3")
        write = _RAW_INSERT.format(*(f"${n}" for n in range(1, 8)))
        total = 0
        for _ in range(max_batches):
            async with connection.transaction():
                rows = await connection.fetch(query, now, batch)
                await connection.executemany(mark, [("напоминания отправлены", now, row[0]) for row in rows])
                outbox = _outbox_rows([tuple(row) for row in rows], lambda value: value, uuid.uuid4)
                await connection.executemany(write, [(*row, now) for row in outbox])
            total += len(rows)
            if len(rows) < batch:
                break
        return total
    finally:
        await connection.close()


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    count: int = 0
    seconds: float = 0.0
    rate: float = 0.0
    allowed: float | None = None
    """The overall allowance (msg/s) or, for the sweep, the baseline's rows/s."""
    bound: float | None = None
    """Delivery: what an oldest-first batch sender could deliver per s in the window (simulated)."""
    too_many: int | None = None
    """429 answers of the fake (each a recorded violation)."""
    target: str = ""
    met: bool | None = None
    notes: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def profiled(enabled: bool, label: str) -> Iterator[None]:
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(30)
            print(f"--- cProfile of {label}, by {order} ---\n{out.getvalue()}", file=sys.stderr)


async def sweep(database: Database, args: argparse.Namespace, due: int) -> Row:
    async with database.unit_of_work(write=False) as session:  # connect before the clock starts
        await session.execute(text("SELECT 1"))
    worker = Worker(database, LifecycleSettings(), batch_size=args.batch_size, jobs=())
    now = datetime.now(UTC)
    with profiled(args.profile == "sweep", "the sweep"):
        began = time.perf_counter()
        report = await worker.tick(now)
        seconds = time.perf_counter() - began
    async with database.unit_of_work(write=False) as session:
        written = (
            await session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.state == OutboxState.PENDING)
            )
        ).scalar_one()
    rows = report.events_done + report.events_skipped
    if report.events_done != due or written != 2 * due:
        print(
            f"  ! sweep: {report} and {written} outbox rows, expected {due} done and {2 * due}",
            file=sys.stderr,
        )
    rate = rows / seconds
    return Row(
        "sweep: Worker.tick",
        rows,
        seconds,
        rate,
        target=f"≥ {SWEEP_TARGET:,.0f} rows/s",
        met=rate >= SWEEP_TARGET and report.events_done == due and written == 2 * due,
        notes={"outbox_rows": written, "report": asdict(report)},
    )


def ideal_bound(chats: list[str], *, rate: float, interval: float, window: float) -> int:
    """Messages a perfect sender could deliver from this queue in `window` seconds within both of
    the fake's limits — at most `rate` per second, one per `interval` per chat, each chat's
    messages in order, any chat's first message may overtake — if sends and the database cost
    nothing: at every 1/rate step, the oldest message whose chat is ready."""
    firsts: dict[str, deque[int]] = {}
    for position, chat in enumerate(chats):
        firsts.setdefault(chat, deque()).append(position)
    ready = [(queue[0], chat) for chat, queue in firsts.items()]  # (oldest position, chat)
    heapq.heapify(ready)
    resting: list[tuple[float, int, str]] = []  # (ready at, oldest position, chat)
    spacing, sent = 1.0 / rate, 0
    for step in range(int(window * rate)):
        at = step * spacing
        while resting and resting[0][0] <= at + 1e-9:
            _, position, chat = heapq.heappop(resting)
            heapq.heappush(ready, (position, chat))
        if not ready:
            if not resting:
                break
            continue
        _, chat = heapq.heappop(ready)
        sent += 1
        firsts[chat].popleft()
        if firsts[chat]:
            heapq.heappush(resting, (at + interval, firsts[chat][0], chat))
    return sent


async def pending_chats(database: Database, limit: int) -> list[str]:
    async with database.unit_of_work(write=False) as session:
        query = (
            select(OutboxMessage.chat_id)
            .where(
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.next_attempt_at <= datetime.now(UTC),
                OutboxMessage.chat_id.is_not(None),
            )
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)
        )
        return [str(chat) for chat in (await session.execute(query)).scalars()]


async def deliver(
    database: Database,
    url: str,
    fake: str,
    args: argparse.Namespace,
    *,
    label: str,
    rate: int,
    window: float,
) -> Row:
    """The real sender against the fake for `window` seconds; the fake allows `rate` msg/s."""
    async with httpx.AsyncClient(base_url=fake) as control:
        limit = {"max_messages": rate, "window_seconds": 1.0, "chat_interval_seconds": args.chat_interval}
        (await control.post("/_bench/limit", json=limit)).raise_for_status()
        chats = await pending_chats(database, 4 * args.bookings)
        bound = ideal_bound(chats, rate=rate, interval=args.chat_interval, window=window)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=url,
            telegram_bot_token=TOKEN,
            telegram_api_url=fake,
            telegram_rate_per_second=rate,
            telegram_chat_interval_seconds=args.chat_interval,
            worker_batch_size=args.batch_size,
        )
        sender = TelegramSender.from_settings(settings, database)  # real clock, asyncio.sleep
        gc.collect()  # as `hraniteli worker` and `serve` do after startup
        gc.freeze()
        stop = asyncio.Event()
        with profiled(args.profile == f"delivery-{label[0]}", f"delivery {label}"):
            began, cpu_began = time.monotonic(), time.process_time()
            task = asyncio.create_task(sender.run(stop))
            await asyncio.sleep(window)
            stop.set()
            ended, cpu = time.monotonic(), time.process_time() - cpu_began
            await asyncio.wait_for(task, timeout=60)  # the send in flight, then the batch's rest is released
        stats = (await control.get("/_bench/stats", params={"until": ended})).json()
    delivered = int(stats["accepted_until"])
    seconds = ended - began
    measured = delivered / seconds
    too_many = int(stats["statuses"].get("429", 0))
    bound_rate = bound / window
    return Row(
        f"delivery {label}",
        delivered,
        seconds,
        measured,
        allowed=float(rate),
        bound=bound_rate,
        too_many=too_many,
        target=f"≥ {DELIVERY_TARGET:.0%} of bound, 0 × 429",
        met=measured >= DELIVERY_TARGET * bound_rate and too_many == 0,
        notes={
            "requests": stats["requests"],
            "sender_cpu_share": cpu / (ended - began),
            "sender_cpu_ms_per_message": 1000 * cpu / max(stats["accepted_until"], 1),
            "statuses": stats["statuses"],
            "violation_samples": stats["violation_samples"],
            "in_window_bound_messages": bound,
            "steady_rate": (
                (delivered - 1) / (stats["last_accepted"] - stats["first_accepted"])
                if delivered > 1 and stats["last_accepted"] > stats["first_accepted"]
                else None
            ),
            "first_send_after_s": (stats["first_accepted"] - began) if stats["first_accepted"] else None,
        },
    )


async def reset_outbox(database: Database, *, clients_only: bool) -> int:
    """Every phase starts from the queue the sweep wrote: all 20,000 messages pending and due, in
    the sweep's order (phases c and d: the psychologists' deferred by a day, only the client
    messages — one per chat — due). Returns the due count."""
    now = datetime.now(UTC)
    async with database.unit_of_work() as session:
        await session.execute(
            update(OutboxMessage)
            .values(
                state=OutboxState.PENDING,
                attempts=0,
                last_error=None,
                sent_at=None,
                telegram_message_id=None,
                next_attempt_at=now - timedelta(seconds=1),
            )
            .execution_options(synchronize_session=False)
        )
        if clients_only:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.recipient_kind == "psychologist")
                .values(next_attempt_at=now + timedelta(days=1))
                .execution_options(synchronize_session=False)
            )
        due = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.next_attempt_at <= now)
        )
    if not database.is_sqlite:  # 20,000 dead row versions per phase otherwise
        async with database.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE outbox_messages"))
    return int(due or 0)


async def lifecycle(url: str, fake: str, args: argparse.Namespace, due: int) -> list[Row]:
    database = Database(url)
    rows = []
    try:
        rows.append(await sweep(database, args, due))
        print(f"  {rows[-1].name}: {rows[-1].count} rows in {rows[-1].seconds:.2f} s", file=sys.stderr)
        phases = [
            ("a", args.slow_rate, False),
            ("b", args.fast_rate, False),
            ("c", args.slow_rate, True),
            ("d", args.fast_rate, True),
        ]
        for letter, rate, clients_only in phases:
            await reset_outbox(database, clients_only=clients_only)
            await asyncio.sleep(args.chat_interval)  # the previous phase's chats are free again
            what = "clients only" if clients_only else "client + psychologist"
            window = args.fast_window if rate == args.fast_rate else args.window
            row = await deliver(
                database, url, fake, args, label=f"{letter}: {rate}/s, {what}", rate=rate, window=window
            )
            rows.append(row)
            print(
                f"  {row.name}: {row.count} delivered in {row.seconds:.1f} s = {row.rate:.1f}/s, "
                f"{row.too_many} × 429 {row.notes['violation_samples'] or ''}; sender CPU "
                f"{row.notes['sender_cpu_share']:.0%} of a core, "
                f"{row.notes['sender_cpu_ms_per_message']:.2f} ms/message",
                file=sys.stderr,
            )
    finally:
        await database.dispose()
    return rows


# --- report ----------------------------------------------------------------------------------


def _yes(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "NO")


def table(rows: list[Row]) -> str:
    return format_table(
        "{:<42} {:>6} {:>6} {:>8} {:>8} {:>8} {:>7} {:>6} {:>5}  {:<28} {}",
        ("phase", "count", "s", "per s", "allowed", "÷allowed", "bound", "÷bound", "429s", "target", "met"),
        (
            [
                row.name,
                row.count,
                f"{row.seconds:.2f}",
                f"{row.rate:,.0f}",
                f"{row.allowed:,.0f}" if row.allowed else "",
                ratio(row.rate, row.allowed),
                f"{row.bound:,.0f}" if row.bound else "",
                ratio(row.rate, row.bound),
                optional(row.too_many),
                row.target,
                _yes(row.met),
            ]
            for row in rows
        ),
    )


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with migrated_database(args) as (url, dialect):
        now = datetime.now(UTC)
        seeded = run_loop(seed(url, args, now))
        print(
            f"seeded {seeded.bookings} bookings, {seeded.timeline_rows} timeline rows ({seeded.due} due) "
            f"in {seeded.seconds:.1f} s",
            file=sys.stderr,
        )
        base_now = datetime.now(UTC)
        max_batches = seeded.due // args.batch_size + 2
        began = time.perf_counter()
        if dialect == "postgresql":
            raw = run_loop(raw_sweep_postgres(url, base_now, args.batch_size, max_batches))
        else:
            raw = raw_sweep_sqlite(url, base_now, args.batch_size, max_batches)
        raw_seconds = time.perf_counter() - began
        raw_row = Row(
            f"raw {'asyncpg' if dialect == 'postgresql' else 'sqlite3'}: same writes", raw, raw_seconds
        )
        raw_row.rate = raw / raw_seconds
        run_loop(restore(url))
        due, outbox = run_loop(count_due(url, datetime.now(UTC)))
        if due != seeded.due or outbox:
            raise SystemExit(f"restore after the baseline failed: {due} due, {outbox} outbox rows")
        print(f"  {raw_row.name}: {raw} rows in {raw_seconds:.2f} s (restored)", file=sys.stderr)
        with fake_api(args.fake) as fake:
            rows = run_loop(lifecycle(url, fake, args, seeded.due))
    rows[0].allowed = raw_row.rate
    rows.insert(1, raw_row)
    total = time.perf_counter() - started

    print()
    print(
        f"{headline('lifecycle sweep and delivery', dialect)}, batch {args.batch_size}, "
        f"delivery windows {args.window:g} s ({args.fast_window:g} s at {args.fast_rate}/s), "
        f"fake Bot API in a {args.fake}"
    )
    print(
        f"data: {seeded.bookings} bookings of {args.psychologists} psychologists, {seeded.timeline_rows} "
        f"timeline rows, {seeded.due} reminders due → {2 * seeded.due} outbox messages"
    )
    print()
    print(table(rows))
    print()
    print("sweep: 'allowed' is the raw driver's rows/s for the same writes in the same batches (÷ = ratio)")
    print(
        "delivery: 'allowed' = the fake's overall limit (and 1 per chat per "
        f"{args.chat_interval:g} s); 'bound' = what the Bot API allows on this queue within both limits:"
        " a perfect sender with free sends (simulated); the target is ÷bound"
    )
    print(f"total {total:.0f} s")
    if args.json:
        meta = {
            "bookings": seeded.bookings,
            "psychologists": args.psychologists,
            "batch_size": args.batch_size,
            "window": args.window,
            "fast_window": args.fast_window,
            "fake": args.fake,
        }
        write_results("delivery", dialect, meta, rows)
    sweep_row = rows[0]
    complete = sweep_row.notes["report"]["events_done"] == seeded.due
    return 0 if complete and sweep_row.notes["outbox_rows"] == 2 * seeded.due else 1


def main() -> None:
    args = parse_args()
    if args.serve_fake:
        serve_fake()
        return
    sys.exit(run(args))


if __name__ == "__main__":
    main()
