"""The sender keeps to Telegram's limits: ~N messages/s for the bot, one per interval per chat,
and several senders on one database never send a row twice."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta

import httpx

from hraniteli.clock import FrozenClock, utc_now
from hraniteli.db import Database
from hraniteli.notifications import service as outbox
from tests.conftest import NOW
from tests.fakes.telegram_api import TOKEN, FakeTelegram
from tests.integration.notifications.conftest import SenderFactory
from tests.integration.notifications.helpers import CHAT_A, CHAT_B, CHAT_C, enqueue, rows

CHATS = [CHAT_A, CHAT_B, CHAT_C]


async def test_sixty_messages_to_three_chats_cause_no_rate_violation(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    # Telegram's limits scaled down in time so the test takes about a second: the fake allows
    # 20 messages per 0.25 s overall (80/s) and one per 20 ms per chat, so three chats could take
    # 150/s and the overall limit binds too. The sender aims at 60/s, real clock, real sleep.
    telegram_api.enforce_rate_limit(max_messages=20, window_seconds=0.25, chat_interval_seconds=0.02)
    sender = make_sender(
        clock=utc_now,
        sleep=asyncio.sleep,
        telegram_rate_per_second=60,
        telegram_chat_interval_seconds=0.02,
    )
    start = utc_now()
    # Oldest first means 20 to A, then 20 to B, then 20 to C: pacing by chat must interleave them.
    async with database.unit_of_work() as session:
        for number in range(60):
            await outbox.enqueue(
                session,
                dedupe_key=f"broadcast:{number}",
                recipient_kind=outbox.CLIENT,
                chat_id=CHATS[number // 20],
                text=f"Сообщение {number}",
                now=start + timedelta(microseconds=number),
            )
    began = time.monotonic()

    report = await sender.deliver_due()

    elapsed = time.monotonic() - began
    assert telegram_api.violations == []
    assert set(telegram_api.statuses()) == {200}
    assert report.sent == 60
    for index, chat in enumerate(CHATS):
        assert telegram_api.texts_to(chat) == [f"Сообщение {n}" for n in range(index * 20, index * 20 + 20)]
    assert elapsed >= 59 / 60, "60 messages at 60/s need at least 59 intervals"


async def test_the_fake_sees_a_burst_that_ignores_the_limits(
    telegram_api: FakeTelegram,
) -> None:
    """The control for the test above: its 'no violation' could not pass by accident."""
    telegram_api.enforce_rate_limit(max_messages=20, window_seconds=0.25, chat_interval_seconds=0.05)
    async with httpx.AsyncClient(base_url=telegram_api.url) as http:
        answers = [
            await http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": CHATS[n % 3], "text": f"{n}"})
            for n in range(30)
        ]

    statuses = [answer.status_code for answer in answers]
    assert 429 in statuses
    assert answers[statuses.index(429)].json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert telegram_api.violations


async def test_messages_to_one_chat_are_spaced_by_the_chat_interval(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    # Telegram's own limits: 30/s overall, 1 s per chat; virtual time. One send in flight, so that
    # `sent_at` (the answer's time) orders like the sends (the test above covers several in flight).
    sender = make_sender(telegram_max_in_flight=1)
    for number in range(6):
        chat = CHAT_A if number < 3 else CHAT_B
        await enqueue(database, key=f"m{number}", chat_id=chat, text=f"{number}", now=NOW)

    report = await sender.deliver_due()

    assert report.sent == 6
    sent = await rows(database)
    by_chat: dict[str | None, list[float]] = {}
    for message in sent:
        assert message.sent_at is not None
        by_chat.setdefault(message.chat_id, []).append(message.sent_at.timestamp())
    for times in by_chat.values():
        times.sort()
        assert all(later - earlier >= 1.0 - 1e-6 for earlier, later in itertools.pairwise(times))
    everything = sorted(t for times in by_chat.values() for t in times)
    assert all(later - earlier >= 1 / 30 - 1e-6 for earlier, later in itertools.pairwise(everything))
    # Two chats interleave: three rounds of one second, not six.
    assert everything[-1] - everything[0] < 2.5


async def test_several_senders_on_one_database_send_each_message_once(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    # Small batches, so the senders' claims overlap many times (SKIP LOCKED on PostgreSQL,
    # BEGIN IMMEDIATE on SQLite).
    for number in range(60):
        await enqueue(database, key=f"m{number}", chat_id=str(200000 + number), text=f"№{number}", now=NOW)
    senders = [make_sender(worker_batch_size=3) for _ in range(3)]

    reports = await asyncio.gather(*(sender.deliver_due() for sender in senders))

    assert sum(report.sent for report in reports) == 60
    received = sorted(message.text for message in telegram_api.messages)
    assert received == sorted(f"№{number}" for number in range(60))


async def test_a_long_backlog_to_one_chat_does_not_hold_the_other_chats_up(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    # A psychologist's chat with 12 reminders queued before three clients' messages. A claim looks
    # at 5 candidates (batch 4): all the psychologist's. One message per chat per second: the
    # clients must not wait 12 seconds behind the backlog. One send in flight, so that `sent_at`
    # (the answer's virtual time) orders like the sends.
    backlog = "900001"
    for number in range(12):
        await enqueue(
            database,
            key=f"p{number}",
            chat_id=backlog,
            text=f"p{number}",
            now=NOW + timedelta(microseconds=number),
        )
    for number, chat in enumerate(CHATS):
        await enqueue(
            database, key=f"c{number}", chat_id=chat, text=f"c{number}", now=NOW + timedelta(seconds=1)
        )
    sender = make_sender(worker_batch_size=4, telegram_max_in_flight=1)

    report = await sender.deliver_due(NOW + timedelta(seconds=1))

    assert report.sent == 15
    assert telegram_api.texts_to(backlog) == [f"p{number}" for number in range(12)], "in order"
    sent = {message.dedupe_key: message.sent_at for message in await rows(database)}
    assert all(sent[f"c{number}"] < sent["p1"] for number in range(3)), "the clients went before p1"
    assert telegram_api.violations == []
