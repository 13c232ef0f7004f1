"""Telegram's other limits: at most 4,096 characters a message (a longer text arrives as several
messages, in order, nothing lost) and about 20 messages a minute to a group, such as the admin
chat (its alerts are spaced out; people's messages are not held up behind them)."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta

import httpx

from hraniteli.clock import utc_now
from hraniteli.db import Database
from hraniteli.models import OutboxState
from hraniteli.notifications import service as outbox
from hraniteli.notifications.service import Button
from tests.conftest import NOW
from tests.fakes.telegram_api import TOKEN, FakeTelegram
from tests.integration.notifications.conftest import ADMIN_CHAT, SenderFactory
from tests.integration.notifications.helpers import CHAT_A, enqueue, rows


def letter(paragraphs: int) -> str:
    """An administrator's long message: numbered paragraphs of ~900 characters."""
    body = "Текст обращения клиента, который администратор пересылает целиком. " * 13
    return "\n\n".join(f"{n}. {body.strip()}" for n in range(1, paragraphs + 1))


async def test_a_text_longer_than_telegram_takes_arrives_whole_as_several_messages_in_order(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    text = letter(12)  # ~11,000 characters
    assert len(text) > 2 * outbox.TEXT_LIMIT
    answer = [[Button("Ответить", data="reply:1")]]
    await enqueue(database, key="relay:1", chat_id=CHAT_A, text=text, now=NOW, buttons=answer)
    await enqueue(
        database, key="relay:2", chat_id=CHAT_A, text="Следующее сообщение", now=NOW + timedelta(seconds=1)
    )

    report = await make_sender().deliver_due()

    received = [m for m in telegram_api.messages if m.chat_id == CHAT_A]
    assert report.sent == len(received) == 4
    *parts, following = received
    assert following.text == "Следующее сообщение"
    assert all(len(part.text) <= outbox.TEXT_LIMIT for part in parts)
    # Cut between paragraphs: joined back they are the text itself.
    assert "\n\n".join(part.text for part in parts) == text
    assert [part.reply_markup for part in parts] == [
        None,
        None,
        {"inline_keyboard": [[{"text": "Ответить", "callback_data": "reply:1"}]]},
    ]
    assert {message.state for message in await rows(database)} == {OutboxState.SENT}


async def test_the_fake_rejects_a_text_over_the_limit_as_telegram_does(telegram_api: FakeTelegram) -> None:
    """The control for the test above: an unsplit text would have failed."""
    async with httpx.AsyncClient(base_url=telegram_api.url) as http:
        answer = await http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": CHAT_A, "text": letter(12)})
        emoji = await http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": CHAT_A, "text": "🙂" * 2049})

    assert answer.status_code == emoji.status_code == 400
    assert answer.json()["description"] == "Bad Request: message is too long"


async def test_the_fake_refuses_a_group_more_than_its_share(telegram_api: FakeTelegram) -> None:
    """The control for the test below: a group's messages sent at a person's pace meet a 429."""
    telegram_api.enforce_rate_limit(chat_interval_seconds=0.0, group_max_messages=5, group_window_seconds=0.6)
    async with httpx.AsyncClient(base_url=telegram_api.url) as http:
        statuses = [
            (
                await http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": ADMIN_CHAT, "text": f"{n}"})
            ).status_code
            for n in range(6)
        ]

    assert statuses == [200] * 5 + [429]
    assert telegram_api.violations == [f"group {ADMIN_CHAT}: 6 within 0.6s"]


async def test_alerts_to_the_admin_group_are_spaced_and_do_not_hold_people_up(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    # Telegram's 20 a minute per group scaled down 100×: 5 per 0.6 s to a group; the sender
    # spaces a group's messages 0.15 s apart (answer to next send). People's chats: 0.02 s.
    telegram_api.enforce_rate_limit(
        max_messages=100,
        window_seconds=1.0,
        chat_interval_seconds=0.02,
        group_max_messages=5,
        group_window_seconds=0.6,
    )
    sender = make_sender(
        clock=utc_now,
        sleep=asyncio.sleep,
        telegram_rate_per_second=100,
        telegram_chat_interval_seconds=0.02,
        telegram_group_interval_seconds=0.15,
    )
    start = utc_now()
    async with database.unit_of_work() as session:
        for number in range(8):  # an alert storm first (eight auto-cancellations at once) ...
            await outbox.enqueue(
                session,
                dedupe_key=f"alert:{number}",
                recipient_kind=outbox.ADMIN,
                chat_id=ADMIN_CHAT,
                text=f"Автоотмена {number}",
                now=start + timedelta(microseconds=number),
            )
        for number in range(30):  # ... then thirty clients' reminders
            await outbox.enqueue(
                session,
                dedupe_key=f"reminder:{number}",
                recipient_kind=outbox.CLIENT,
                chat_id=f"2000{number:02d}",
                text=f"Напоминание {number}",
                now=start + timedelta(microseconds=100 + number),
            )
    began = time.monotonic()

    report = await sender.deliver_due()

    assert telegram_api.violations == []
    assert set(telegram_api.statuses()) == {200}
    assert report.sent == 38
    assert telegram_api.texts_to(ADMIN_CHAT) == [f"Автоотмена {n}" for n in range(8)]
    to_group = [m.received_at for m in telegram_api.messages if m.chat_id == ADMIN_CHAT]
    assert all(later - earlier >= 0.15 for earlier, later in itertools.pairwise(to_group))
    # The people were not queued behind the group's alerts.
    to_people = [m.received_at for m in telegram_api.messages if m.chat_id != ADMIN_CHAT]
    assert max(to_people) < to_group[-1]
    assert time.monotonic() - began >= 7 * 0.15
