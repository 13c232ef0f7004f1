"""The bot over its webhook: a client opens the application link, confirms or cancels from
the message's buttons; the answers reach the (fake) Telegram Bot API over HTTP."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from hraniteli.bookings import service as bookings
from hraniteli.db import Database
from hraniteli.models import Booking, BookingStatus, Client, Slot, SlotState
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import NOW
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.bot.conftest import ANNA, SECRET, message, post, press


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

    response = await post(bot_client, message("/start k3f9a"))

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

    await post(bot_client, press(f"confirm:{booking.id}"))
    confirmed = await _status(database, booking)
    await post(bot_client, press(f"cancel:{booking.id}"))
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

    stranger = await post(bot_client, press(f"cancel:{booking.id}", user_id=999))
    forged = await post(bot_client, press(f"cancel:{booking.id}"), secret="guess")
    garbage = await bot_client.post(
        "/telegram/webhook", content=b"{oops", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )

    assert stranger.status_code == 200
    assert telegram_api.callback_answers == ["this session is not yours or no longer exists"]
    assert forged.status_code == 404
    assert garbage.status_code == 400
    assert await _status(database, booking) == (BookingStatus.PENDING, SlotState.BOOKED)
