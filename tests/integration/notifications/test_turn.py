"""Several senders on one PostgreSQL database (one per `hraniteli worker`) deliver one at a time:
each may be set to the bot's whole allowance and Telegram still sees no more than that; when the
delivering one stops, or its connection dies, a standby takes over and nothing is lost.

Each sender here has its own engine, as a process would (the turn is a session-level lock on a
connection of its own)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text

from hraniteli.clock import utc_now
from hraniteli.db import Database
from hraniteli.notifications import service as outbox
from hraniteli.notifications.delivery.turn import LOCK_KEY
from hraniteli.notifications.sender import TelegramSender
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.notifications.conftest import SenderFactory

pytestmark = pytest.mark.postgres_only

RATE = 20
"""Messages a second the fake allows, and what each sender is set to."""
DEADLINE = 30.0


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[Database]]:
    own = [Database(database_url, pool_size=2) for _ in range(2)]
    yield own
    for database in own:
        await database.dispose()


async def broadcast(database: Database, prefix: str, count: int) -> None:
    start = utc_now()
    async with database.unit_of_work() as session:
        for number in range(count):
            await outbox.enqueue(
                session,
                dedupe_key=f"{prefix}:{number}",
                recipient_kind=outbox.CLIENT,
                chat_id=f"4{number:05d}",
                text=f"{prefix} {number}",
                now=start + timedelta(microseconds=number),
            )


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE} s: {what}"
        await asyncio.sleep(0.02)


def senders(make_sender: SenderFactory, engines: list[Database]) -> list[TelegramSender]:
    return [
        make_sender(
            on=engine,
            clock=utc_now,
            sleep=asyncio.sleep,
            telegram_rate_per_second=RATE,
            telegram_chat_interval_seconds=0.02,
            worker_poll_seconds=0.05,
            worker_batch_size=5,  # small claims: two senders would both find rows to send
        )
        for engine in engines
    ]


async def test_two_senders_set_to_the_whole_allowance_deliver_one_at_a_time_and_hand_over(
    database: Database, engines: list[Database], make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    telegram_api.enforce_rate_limit(max_messages=RATE, window_seconds=1.0, chat_interval_seconds=0.02)
    first, second = senders(make_sender, engines)
    stops = [asyncio.Event(), asyncio.Event()]
    await broadcast(database, "утро", 40)
    runs = [asyncio.create_task(s.run(stop)) for s, stop in zip((first, second), stops, strict=True)]
    try:
        await until(lambda: len(telegram_api.messages) == 40, "the first 40 delivered")
        # One of them delivered, the other stood by: together they kept to one allowance.
        assert telegram_api.violations == []
        assert [first.has_turn, second.has_turn].count(True) == 1
        delivering, standby = (first, second) if first.has_turn else (second, first)

        # The delivering one stops: the standby takes the turn and delivers what comes next.
        stops[(first, second).index(delivering)].set()
        await runs[(first, second).index(delivering)]
        await broadcast(database, "вечер", 10)
        await until(lambda: len(telegram_api.messages) == 50, "the next 10 delivered by the standby")
        assert standby.has_turn
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*runs)

    assert telegram_api.violations == []
    texts = [message.text for message in telegram_api.messages]
    assert sorted(texts) == sorted([f"утро {n}" for n in range(40)] + [f"вечер {n}" for n in range(10)])


async def test_when_the_delivering_senders_connection_dies_a_standby_takes_over(
    database: Database, engines: list[Database], make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    first, second = senders(make_sender, engines)
    stop = asyncio.Event()
    runs = [asyncio.create_task(s.run(stop)) for s in (first, second)]
    try:
        await until(lambda: first.has_turn or second.has_turn, "one took the turn")
        # The holder's session is killed (a network cut, a PostgreSQL restart of its backend).
        async with database.engine.connect() as admin:
            killed = await admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted "
                    "AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
                ),
                {"high": (LOCK_KEY >> 32) & 0xFFFFFFFF, "low": LOCK_KEY & 0xFFFFFFFF},
            )
            assert killed.scalars().all() == [True]
        await broadcast(database, "после сбоя", 5)
        await until(lambda: len(telegram_api.messages) == 5, "delivered after the holder's connection died")
        await until(lambda: first.has_turn != second.has_turn, "exactly one holds the turn again")
    finally:
        stop.set()
        await asyncio.gather(*runs)

    assert sorted(m.text for m in telegram_api.messages) == sorted(f"после сбоя {n}" for n in range(5))


async def test_a_worker_without_a_token_never_keeps_the_turn_from_one_that_has_it(
    database: Database, engines: list[Database], make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    tokenless = make_sender(on=engines[0], telegram_bot_token=None, worker_poll_seconds=0.05)
    with_token = make_sender(on=engines[1], clock=utc_now, sleep=asyncio.sleep, worker_poll_seconds=0.05)
    stop = asyncio.Event()
    first = asyncio.create_task(tokenless.run(stop))
    await asyncio.sleep(0.3)  # the tokenless one runs first
    second = asyncio.create_task(with_token.run(stop))
    try:
        await broadcast(database, "днём", 3)
        await until(lambda: len(telegram_api.messages) == 3, "delivered by the worker with a token")
        assert with_token.has_turn
    finally:
        stop.set()
        await asyncio.gather(first, second)
