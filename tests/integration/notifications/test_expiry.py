"""A message whose moment has passed is never sent: a reminder held while the bot had no token,
or waiting while the sender was down, is marked `expired` when the session has begun."""

from __future__ import annotations

from datetime import timedelta

from hraniteli.clock import FrozenClock
from hraniteli.db import Database
from hraniteli.models import OutboxState
from hraniteli.notifications.sender import STALE
from tests.conftest import NOW
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.notifications.conftest import SenderFactory
from tests.integration.notifications.helpers import CHAT_A, CHAT_B, enqueue, row

SESSION_START = NOW + timedelta(hours=2)
REMINDER = "Скоро ваша сессия — сегодня в 11:00."
NEWS = "Ваша заявка принята."


async def test_held_messages_released_after_their_moment_are_expired_not_sent(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    await enqueue(
        database,
        key="booking:1:reminder:client",
        chat_id=CHAT_A,
        text=REMINDER,
        now=NOW,
        expires_at=SESSION_START,
    )
    await enqueue(database, key="application:1:accepted", chat_id=CHAT_B, text=NEWS, now=NOW)
    assert (await make_sender(telegram_bot_token=None).deliver_due()).held == 2

    clock.advance(hours=3)  # the token is configured after the session began
    with_token = make_sender()
    assert await with_token.release_held() == 1
    report = await with_token.deliver_due()

    assert telegram_api.texts_to(CHAT_A) == []
    assert telegram_api.texts_to(CHAT_B) == [NEWS]
    assert report.sent == 1
    stale = await row(database, "booking:1:reminder:client")
    assert (stale.state, stale.last_error, stale.attempts) == (OutboxState.EXPIRED, STALE, 0)


async def test_a_pending_message_past_its_moment_is_expired_and_the_chats_next_one_goes(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    # The sender was down through the session: its reminder is stale, the next message is not.
    await enqueue(
        database,
        key="booking:2:reminder:client",
        chat_id=CHAT_A,
        text=REMINDER,
        now=NOW,
        expires_at=SESSION_START,
    )
    await enqueue(
        database,
        key="booking:2:feedback:client",
        chat_id=CHAT_A,
        text="Как прошла сессия?",
        now=NOW + timedelta(microseconds=1),
        expires_at=SESSION_START + timedelta(days=3),
    )
    clock.advance(hours=4)

    report = await make_sender().deliver_due()

    assert (report.expired, report.sent) == (1, 1)
    assert telegram_api.texts_to(CHAT_A) == ["Как прошла сессия?"]
    assert (await row(database, "booking:2:reminder:client")).state == OutboxState.EXPIRED
    assert (await row(database, "booking:2:feedback:client")).state == OutboxState.SENT


async def test_a_message_still_in_its_moment_goes_out(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    await enqueue(
        database,
        key="booking:3:reminder:client",
        chat_id=CHAT_A,
        text=REMINDER,
        now=NOW,
        expires_at=SESSION_START,
    )
    clock.advance(hours=1, minutes=59)

    report = await make_sender().deliver_due()

    assert (report.sent, report.expired) == (1, 0)
    assert telegram_api.texts_to(CHAT_A) == [REMINDER]
