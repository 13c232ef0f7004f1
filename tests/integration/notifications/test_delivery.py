"""The outbox reaches Telegram: what is committed is sent once, with its text and buttons;
what is rolled back, held or has no chat is not."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hraniteli.clock import utc_now
from hraniteli.db import Database
from hraniteli.models import OutboxState
from hraniteli.notifications import service as outbox
from hraniteli.notifications.sender import TelegramSender
from hraniteli.notifications.service import PSYCHOLOGIST, Button
from tests.conftest import NOW
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.notifications.conftest import SenderFactory
from tests.integration.notifications.helpers import CHAT_A, CHAT_B, enqueue, row, rows

REMINDER = "Напоминаем: сессия с Ивановой Анной завтра в 12:00 МСК."
CONFIRM = "Подтвердите, пожалуйста, сессию во вторник в 15:00 МСК."


async def test_committed_messages_are_delivered_with_their_text_and_buttons(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    sender = make_sender(own_session=True)  # its own aiohttp session, to telegram_api_url
    async with database.unit_of_work() as session:
        await outbox.enqueue(
            session,
            dedupe_key="booking:1:confirm:client",
            recipient_kind=outbox.CLIENT,
            chat_id=CHAT_A,
            text=CONFIRM,
            buttons=[
                [Button("Подтверждаю", data="confirm:1"), Button("Отменить", data="cancel:1")],
                [Button("Как подготовиться", url="https://hrani.live/prepare")],
            ],
            now=NOW,
        )
        await outbox.enqueue(
            session,
            dedupe_key="booking:1:reminder:psychologist",
            recipient_kind=PSYCHOLOGIST,
            chat_id=CHAT_B,
            text=REMINDER,
            now=NOW,
        )

    report = await sender.deliver_due()

    assert (report.sent, report.retried, report.failed, report.blocked) == (2, 0, 0, 0)
    received = {message.chat_id: message for message in telegram_api.messages}
    assert received[CHAT_A].text == CONFIRM
    assert received[CHAT_A].reply_markup == {
        "inline_keyboard": [
            [
                {"text": "Подтверждаю", "callback_data": "confirm:1"},
                {"text": "Отменить", "callback_data": "cancel:1"},
            ],
            [{"text": "Как подготовиться", "url": "https://hrani.live/prepare"}],
        ]
    }
    assert received[CHAT_B].text == REMINDER
    assert received[CHAT_B].reply_markup is None
    confirm = await row(database, "booking:1:confirm:client")
    assert confirm.state == OutboxState.SENT
    assert confirm.sent_at is not None
    assert confirm.sent_at >= NOW
    assert confirm.telegram_message_id == received[CHAT_A].message_id
    assert confirm.attempts == 1

    again = await sender.deliver_due()
    assert again.total == 0
    assert len(telegram_api.requests) == 2


async def test_a_rolled_back_unit_of_work_sends_nothing(
    database: Database, sender: TelegramSender, telegram_api: FakeTelegram
) -> None:
    async def book_and_fail() -> None:
        async with database.unit_of_work() as session:
            await outbox.enqueue(
                session,
                dedupe_key="booking:2:booked:client",
                recipient_kind=outbox.CLIENT,
                chat_id=CHAT_A,
                text="Вы записаны на сессию.",
                now=NOW,
            )
            raise RuntimeError("the slot was taken")

    with pytest.raises(RuntimeError, match="the slot was taken"):
        await book_and_fail()

    report = await sender.deliver_due()

    assert report.total == 0
    assert await rows(database) == []
    assert telegram_api.requests == []


async def test_a_repeated_dedupe_key_sends_one_message(
    database: Database, sender: TelegramSender, telegram_api: FakeTelegram
) -> None:
    first = await enqueue(database, key="booking:3:reminder:client", chat_id=CHAT_A, text=REMINDER, now=NOW)
    second = await enqueue(database, key="booking:3:reminder:client", chat_id=CHAT_A, text=REMINDER, now=NOW)
    assert first is not None
    assert second is None

    report = await sender.deliver_due()

    assert report.sent == 1
    assert telegram_api.texts_to(CHAT_A) == [REMINDER]


async def test_messages_without_a_chat_are_kept_and_never_sent(
    database: Database, sender: TelegramSender, telegram_api: FakeTelegram
) -> None:
    await enqueue(database, key="booking:4:confirm:client", chat_id=None, text=CONFIRM, now=NOW)

    report = await sender.deliver_due()

    assert report.total == 0
    assert telegram_api.requests == []
    assert (await row(database, "booking:4:confirm:client")).state == OutboxState.NO_CHAT


async def test_without_a_token_messages_are_held_and_go_out_once_a_token_is_configured(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    await enqueue(database, key="booking:5:reminder:client", chat_id=CHAT_A, text=REMINDER, now=NOW)
    tokenless = make_sender(telegram_bot_token=None)

    report = await tokenless.deliver_due()

    assert report.held == 1
    held = await row(database, "booking:5:reminder:client")
    assert held.state == OutboxState.HELD
    assert held.last_error == "no bot token configured"
    assert telegram_api.requests == []

    with_token = make_sender()
    assert await with_token.release_held() == 1
    report = await with_token.deliver_due()

    assert report.sent == 1
    assert telegram_api.texts_to(CHAT_A) == [REMINDER]
    assert (await row(database, "booking:5:reminder:client")).state == OutboxState.SENT


async def test_held_rows_are_listed_by_the_outbox_service(
    database: Database, make_sender: SenderFactory
) -> None:
    await enqueue(database, key="booking:6:reminder:client", chat_id=CHAT_A, text=REMINDER, now=NOW)
    await make_sender(telegram_bot_token=None).deliver_due()

    async with database.unit_of_work(write=False) as session:
        listed = await outbox.list_messages(session, state=OutboxState.HELD)

    assert [message.dedupe_key for message in listed] == ["booking:6:reminder:client"]


async def test_the_worker_loop_releases_held_rows_delivers_and_stops(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    await enqueue(database, key="booking:7:reminder:client", chat_id=CHAT_A, text=REMINDER, now=NOW)
    await make_sender(telegram_bot_token=None).deliver_due()
    worker = make_sender(telegram_chat_interval_seconds=0.0, worker_poll_seconds=0.05)
    stop = asyncio.Event()

    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if telegram_api.messages:
            break
        await asyncio.sleep(0.01)
    await enqueue(
        database, key="booking:7:feedback:client", chat_id=CHAT_A, text="Как прошла сессия?", now=NOW
    )
    for _ in range(200):
        if len(telegram_api.messages) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)

    assert telegram_api.texts_to(CHAT_A) == [REMINDER, "Как прошла сессия?"]


async def test_stopping_the_worker_mid_batch_leaves_the_rest_due_for_the_next_one(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    start = utc_now()
    for number in range(5):
        await enqueue(
            database,
            key=f"m{number}",
            chat_id=CHAT_A,
            text=f"{number}",
            now=start + timedelta(microseconds=number),
        )
    worker = make_sender(clock=utc_now, sleep=asyncio.sleep, telegram_chat_interval_seconds=0.2)
    stop = asyncio.Event()

    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if telegram_api.messages:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=2)

    sent = len(telegram_api.messages)
    assert 1 <= sent < 5
    left = [message for message in await rows(database) if message.state == OutboxState.PENDING]
    assert len(left) == 5 - sent
    assert all(message.next_attempt_at <= utc_now() for message in left), "not stuck behind a lease"
    next_worker = make_sender(clock=utc_now, telegram_chat_interval_seconds=0)
    assert (await next_worker.deliver_due()).sent == 5 - sent
