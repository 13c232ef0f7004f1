"""What the sender does when Telegram says no: 429, 5xx, 403, 400, an unknown token, a crash."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from hraniteli.clock import FrozenClock
from hraniteli.db import Database
from hraniteli.models import OutboxState
from hraniteli.notifications.sender import TelegramSender
from tests.conftest import NOW
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.notifications.conftest import ADMIN_CHAT, SenderFactory, VirtualTime
from tests.integration.notifications.helpers import CHAT_A, CHAT_B, enqueue, row, rows

DIAGNOSIS = "Ваш запрос: тревога, бессонница. Психолог свяжется с вами."


def _sender_logs(caplog: pytest.LogCaptureFixture) -> str:
    """What the sender and the HTTP client logged (the SQL driver's debug log is not ours)."""
    names = ("hraniteli", "aiogram", "aiohttp")
    return "\n".join(record.getMessage() for record in caplog.records if record.name.startswith(names))


async def test_429_is_retried_after_retry_after_and_keeps_the_chats_order(
    database: Database, sender: TelegramSender, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    await enqueue(database, key="m1", chat_id=CHAT_A, text="первое", now=NOW)
    await enqueue(database, key="m2", chat_id=CHAT_A, text="второе", now=NOW + timedelta(seconds=1))
    clock.advance(seconds=1)
    telegram_api.fail("retry_after", chat_id=CHAT_A, retry_after=3)
    started = clock()

    report = await sender.deliver_due()

    assert (report.sent, report.retried, report.postponed) == (0, 1, 1)
    first = await row(database, "m1")
    assert first.state == OutboxState.PENDING
    assert first.next_attempt_at == started + timedelta(seconds=3)
    assert first.attempts == 0, "a 429 is not a failed attempt"
    assert (await row(database, "m2")).next_attempt_at == first.next_attempt_at
    assert telegram_api.messages == []

    assert (await sender.deliver_due()).total == 0, "not before retry_after"
    clock.advance(seconds=3)
    report = await sender.deliver_due()

    assert report.sent == 2
    assert telegram_api.texts_to(CHAT_A) == ["первое", "второе"]
    assert telegram_api.statuses() == [429, 200, 200]


async def test_429_slows_every_chat_down_for_retry_after(
    database: Database,
    make_sender: SenderFactory,
    telegram_api: FakeTelegram,
    clock: FrozenClock,
    virtual_time: VirtualTime,
) -> None:
    # One send in flight: B starts after A's answer (a send already on its way cannot be recalled).
    sender = make_sender(telegram_max_in_flight=1)
    await enqueue(database, key="to-a", chat_id=CHAT_A, text="для A", now=NOW)
    await enqueue(database, key="to-b", chat_id=CHAT_B, text="для B", now=NOW + timedelta(microseconds=1))
    clock.advance(seconds=1)
    telegram_api.fail("retry_after", chat_id=CHAT_A, retry_after=7)
    started = clock()

    report = await sender.deliver_due()

    # B waited out A's flood control before going out; A followed once its retry time came.
    assert (report.sent, report.retried) == (2, 1)
    assert sum(virtual_time.slept) >= 7
    assert [message.chat_id for message in telegram_api.messages] == [CHAT_B, CHAT_A]
    sent_b = await row(database, "to-b")
    assert sent_b.sent_at is not None
    assert sent_b.sent_at >= started + timedelta(seconds=7)


async def test_server_errors_twice_then_success_delivers_with_backoff(
    database: Database, sender: TelegramSender, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    await enqueue(database, key="m", chat_id=CHAT_A, text=DIAGNOSIS, now=NOW)
    telegram_api.fail("server_error", chat_id=CHAT_A, times=2)

    assert (await sender.deliver_due()).retried == 1
    assert (await row(database, "m")).next_attempt_at == NOW + timedelta(seconds=5)
    clock.advance(seconds=5)
    assert (await sender.deliver_due()).retried == 1
    assert (await row(database, "m")).next_attempt_at == NOW + timedelta(seconds=5 + 10)
    clock.advance(seconds=10)
    report = await sender.deliver_due()

    assert report.sent == 1
    assert telegram_api.texts_to(CHAT_A) == [DIAGNOSIS]
    assert telegram_api.statuses() == [500, 500, 200]
    message = await row(database, "m")
    assert (message.state, message.attempts) == (OutboxState.SENT, 3)


async def test_a_message_that_always_meets_a_server_error_fails_after_max_attempts(
    database: Database,
    sender: TelegramSender,
    telegram_api: FakeTelegram,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await enqueue(database, key="m", chat_id=CHAT_A, text=DIAGNOSIS, now=NOW)
    telegram_api.fail("server_error", times=None)

    reports = []
    for _ in range(5):
        reports.append(await sender.deliver_due())
        clock.advance(hours=1)

    assert [(r.retried, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
    message = await row(database, "m")
    assert (message.state, message.attempts) == (OutboxState.FAILED, 3)
    assert message.last_error is not None
    assert message.last_error.startswith("5xx")
    assert DIAGNOSIS not in message.last_error
    assert telegram_api.statuses() == [500, 500, 500]
    assert telegram_api.messages == []
    logged = _sender_logs(caplog)
    assert "failed after 3 attempts" in logged
    assert DIAGNOSIS not in logged


async def test_a_blocked_bot_marks_the_chat_and_alerts_the_administrators(
    database: Database, sender: TelegramSender, telegram_api: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await enqueue(database, key="m1", chat_id=CHAT_A, text=DIAGNOSIS, now=NOW, ref="client-42")
    await enqueue(database, key="m2", chat_id=CHAT_A, text="Напоминание", now=NOW, ref="client-42")
    telegram_api.fail("blocked", chat_id=CHAT_A, times=None)

    report = await sender.deliver_due()

    assert (report.blocked, report.sent) == (2, 1), "two blocked messages, one alert delivered"
    for key in ("m1", "m2"):
        blocked = await row(database, key)
        assert blocked.state == OutboxState.BLOCKED
        assert blocked.last_error == "403: Forbidden: bot was blocked by the user"
    alert = await row(database, f"blocked:{CHAT_A}")
    assert (alert.recipient_kind, alert.chat_id, alert.state) == ("admin", ADMIN_CHAT, OutboxState.SENT)
    [text] = telegram_api.texts_to(ADMIN_CHAT)
    assert "клиент client-42" in text
    assert CHAT_A in text
    assert DIAGNOSIS not in text
    assert "Напоминание" not in text
    assert telegram_api.texts_to(CHAT_A) == []
    logged = _sender_logs(caplog)
    assert "outbox message" in logged
    assert DIAGNOSIS not in logged, "message texts may hold health data: never logged"


async def test_chat_not_found_fails_at_once(
    database: Database, sender: TelegramSender, telegram_api: FakeTelegram
) -> None:
    await enqueue(database, key="m", chat_id=CHAT_A, text=DIAGNOSIS, now=NOW)
    telegram_api.fail("chat_not_found", chat_id=CHAT_A)

    report = await sender.deliver_due()

    assert report.failed == 1
    message = await row(database, "m")
    assert (message.state, message.attempts) == (OutboxState.FAILED, 1)
    assert message.last_error == "400: Bad Request: chat not found"
    assert telegram_api.statuses() == [400]


async def test_a_token_telegram_rejects_holds_the_messages(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram
) -> None:
    await enqueue(database, key="m1", chat_id=CHAT_A, text="один", now=NOW)
    await enqueue(database, key="m2", chat_id=CHAT_B, text="два", now=NOW)
    wrong = make_sender(telegram_bot_token="42:not-the-bots-token")

    report = await wrong.deliver_due()

    assert report.held == 2
    assert {message.state for message in await rows(database)} == {OutboxState.HELD}
    assert len(telegram_api.requests) == 0, "401 answers are not recorded as messages"

    right = make_sender()
    assert await right.release_held() == 2
    assert (await right.deliver_due()).sent == 2


async def test_rows_claimed_by_a_sender_that_died_are_delivered_after_the_lease(
    database: Database, make_sender: SenderFactory, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    await enqueue(database, key="m", chat_id=CHAT_A, text="после сбоя", now=NOW)
    crashed = make_sender()
    await crashed._claim(clock())  # claimed, then the process died before sending

    survivor = make_sender()
    assert (await survivor.deliver_due()).total == 0, "the lease still holds"
    clock.advance(seconds=crashed.lease_seconds)
    assert (await survivor.deliver_due()).sent == 1
    assert telegram_api.texts_to(CHAT_A) == ["после сбоя"]


async def test_a_sender_that_dies_before_writing_its_answers_resends_at_most_one_message_per_chat(
    database: Database,
    make_sender: SenderFactory,
    telegram_api: FakeTelegram,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Answers are written in groups (with the next claim). A sender that sends and then cannot
    # write (the process dies, the database goes away) leaves its rows leased: after the lease
    # another sender sends them again. Telegram has no idempotency key, so that is the price —
    # bounded to the unwritten answers, one message per chat (a chat never has two messages in
    # flight or unwritten), and the chat's order is kept.
    chats = [str(300000 + number) for number in range(6)]
    for number in range(12):  # two messages per chat
        chat = chats[number % 6]
        at = NOW + timedelta(microseconds=number)
        await enqueue(database, key=f"m{number}", chat_id=chat, text=f"№{number}", now=at)
    dying = make_sender()

    async def no_database(*_args: object, **_kwargs: object) -> list[object]:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(dying._recorder, "record", no_database)
    with pytest.raises(ConnectionError):
        await dying.deliver_due()
    first_round = [(message.chat_id, message.text) for message in telegram_api.messages]
    assert first_round, "it sent before it died"
    assert len({chat for chat, _ in first_round}) == len(first_round), "one message per chat"
    assert all(message.state == OutboxState.PENDING for message in await rows(database)), "none written"

    survivor = make_sender()
    clock.advance(seconds=dying.lease_seconds)
    report = await survivor.deliver_due()

    assert report.sent == 12
    resent = {text for _, text in first_round}
    for chat in chats:
        own = [f"№{number}" for number in range(12) if chats[number % 6] == chat]
        expected = [own[0], *own] if own[0] in resent else own
        assert telegram_api.texts_to(chat) == expected, "in order; only an unwritten one twice"
    assert {message.state for message in await rows(database)} == {OutboxState.SENT}
