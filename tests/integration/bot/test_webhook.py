"""The bot over its webhook: a client opens the application link, confirms or cancels from
the message's buttons; the answers reach the (fake) Telegram Bot API over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from hraniteli.app import create_app
from hraniteli.bookings import service as bookings
from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.models import Booking, BookingStatus, Client, Slot, SlotState
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import NOW
from tests.fakes.telegram_api import TOKEN, FakeTelegram, telegram_api, telegram_api_server

__all__ = ["telegram_api", "telegram_api_server"]

SECRET = "webhook-secret-of-the-test"
ANNA = 5550001


@pytest.fixture
async def bot_client(
    settings: Settings, clock: FrozenClock, database: Database, telegram_api: FakeTelegram
) -> Any:
    configured = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_url": telegram_api.url,
            "telegram_webhook_secret": SecretStr(SECRET),
        }
    )
    app = create_app(configured, clock=clock, database=database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


def _message(text: str, user_id: int = ANNA) -> dict[str, Any]:
    return {
        "update_id": 1,
        "message": {
            "message_id": 10,
            "date": int(datetime(2026, 3, 2, tzinfo=UTC).timestamp()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Анна", "username": "anna"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def _press(data: str, user_id: int = ANNA) -> dict[str, Any]:
    return {
        "update_id": 2,
        "callback_query": {
            "id": "cb1",
            "chat_instance": "ci",
            "from": {"id": user_id, "is_bot": False, "first_name": "Анна"},
            "data": data,
            "message": {
                "message_id": 11,
                "date": int(datetime(2026, 3, 2, tzinfo=UTC).timestamp()),
                "chat": {"id": user_id, "type": "private"},
                "text": "Подтвердите, пожалуйста, что придёте.",
            },
        },
    }


async def _post(http: httpx.AsyncClient, update: dict[str, Any], secret: str = SECRET) -> httpx.Response:
    return await http.post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )


async def _booking_for_anna(database: Database) -> Booking:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 5, 14), now=NOW)
    async with database.unit_of_work() as session:
        client = Client(
            telegram_id=str(ANNA),
            contact_type="Telegram",
            contact="@anna",
            time_zone="Europe/Moscow",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(client)
        await session.flush()
        return await bookings.book_slot(
            session, request=bookings.BookingRequest(slot_id=slot.id, client_id=client.id), now=NOW
        )


async def _status(database: Database, booking: Booking) -> tuple[str, str]:
    async with database.unit_of_work(write=False) as session:
        loaded = await session.get(Booking, booking.id)
        assert loaded is not None
        slot = await session.get(Slot, loaded.slot_id)
        assert slot is not None
        return loaded.status, slot.state


async def test_start_with_an_application_number_links_the_chat(
    bot_client: httpx.AsyncClient, client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    application = {"ticket_id": "k3f9a", "name": "Анна", "contact": "@anna", "contactType": "Telegram"}
    assert (await client.post("/webhook/tilda-zayavka", json=application)).status_code == 200

    response = await _post(bot_client, _message("/start k3f9a"))

    assert response.status_code == 200
    assert telegram_api.texts_to(str(ANNA)) == [
        "Здравствуйте! Мы получили вашу заявку k3f9a. Сюда придут подтверждение записи, "
        "ссылка на встречу и напоминания."
    ]
    async with database.unit_of_work(write=False) as session:
        linked = (await session.execute(select(Client).where(Client.contact == "@anna"))).scalar_one()
    assert linked.telegram_id == str(ANNA)


async def test_the_confirm_button_confirms_and_the_cancel_button_frees_the_slot(
    bot_client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    booking = await _booking_for_anna(database)

    await _post(bot_client, _press(f"confirm:{booking.id}"))
    confirmed = await _status(database, booking)
    await _post(bot_client, _press(f"cancel:{booking.id}"))
    cancelled = await _status(database, booking)

    assert confirmed == (BookingStatus.CONFIRMED, SlotState.BOOKED)
    assert cancelled == (BookingStatus.CANCELLED, SlotState.FREE)
    assert telegram_api.callback_answers == ["Спасибо! Ждём вас.", "Сессия отменена"]
    assert telegram_api.texts_to(str(ANNA))[0].startswith(
        "Спасибо, что подтвердили! Ждём вас на сессии 05.03 в 14:00"
    )


async def test_someone_elses_button_or_a_wrong_secret_changes_nothing(
    bot_client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    booking = await _booking_for_anna(database)

    stranger = await _post(bot_client, _press(f"cancel:{booking.id}", user_id=999))
    forged = await _post(bot_client, _press(f"cancel:{booking.id}"), secret="guess")
    garbage = await bot_client.post(
        "/telegram/webhook", content=b"{oops", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )

    assert stranger.status_code == 200
    assert telegram_api.callback_answers == ["this session is not yours or no longer exists"]
    assert forged.status_code == 404
    assert garbage.status_code == 400
    assert await _status(database, booking) == (BookingStatus.PENDING, SlotState.BOOKED)
