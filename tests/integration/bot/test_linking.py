"""`/start <application number>`: a chat acts on an application only when it proves it is the
client's (the service's own start link, the Telegram username the application names, or the
phone number shared with Telegram's button). A stranger who knows or guesses a number is refused
in words, learns nothing of the session, cannot press the client's buttons, and the
administrators hear of it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import select

from hraniteli.db import Database
from hraniteli.models import Application, Booking, BookingStatus, Client, OutboxMessage
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import NOW
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.bot.conftest import ADMIN_CHAT, ANNA, message, post, press, shared_contact

STRANGER = 9990001
WELCOME = (
    "Здравствуйте! Мы получили вашу заявку {}. Сюда придут подтверждение записи, "
    "ссылка на встречу и напоминания."
)
NOT_FOUND = (
    "Не нашли вашу заявку по этой ссылке. Если вы оставляли заявку — напишите нам, пожалуйста, мы поможем."
)


async def _apply(client: httpx.AsyncClient, number: str, contact: str, **fields: Any) -> None:
    body = {"ticket_id": number, "name": "Анна", "contact": contact, "contactType": "Telegram", **fields}
    response = await client.post("/webhook/tilda-zayavka", json=body)
    assert response.status_code == 200, response.text


async def _booked_application(
    client: httpx.AsyncClient, database: Database, number: str, contact: str
) -> Booking:
    """An application whose chosen time got booked (Thursday 5 March, 14:00 MSK)."""
    psychologist = await make_psychologist(database, now=NOW, name="Иванова Анна")
    await make_slot(database, psychologist, start_at=msk(2026, 3, 5, 14), now=NOW)
    await _apply(client, number, contact, slots=["05.03 14:00"], selectedPsychologistsNames=["Иванова Анна"])
    async with database.unit_of_work(write=False) as session:
        return (await session.execute(select(Booking).where(Booking.application_ref == number))).scalar_one()


async def _chat_of(database: Database, number: str) -> str | None:
    async with database.unit_of_work(write=False) as session:
        application = (
            await session.execute(select(Application).where(Application.number == number))
        ).scalar_one()
        client = await session.get(Client, application.client_id) if application.client_id else None
        return client.telegram_id if client else None


async def _admin_alerts(database: Database) -> list[str]:
    async with database.unit_of_work(write=False) as session:
        query = select(OutboxMessage.text).where(
            OutboxMessage.recipient_kind == "admin", OutboxMessage.dedupe_key.like("link-refused:%")
        )
        return list((await session.execute(query)).scalars())


async def test_a_stranger_with_the_number_is_refused_learns_nothing_and_the_admins_are_told(
    bot_client: httpx.AsyncClient, client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    booking = await _booked_application(client, database, "k3f9a", "@anna")

    response = await post(bot_client, message("/start k3f9a", user_id=STRANGER, username="mallory"))
    pressed = await post(bot_client, press(f"cancel:{booking.id}", user_id=STRANGER))

    assert response.status_code == 200
    assert telegram_api.texts_to(str(STRANGER)) == [NOT_FOUND]
    assert telegram_api.callback_answers == ["this session is not yours or no longer exists"]
    assert pressed.status_code == 200
    assert await _chat_of(database, "k3f9a") is None
    async with database.unit_of_work(write=False) as session:
        still = await session.get(Booking, booking.id)
        assert still is not None
        assert still.status == BookingStatus.PENDING
    (alert,) = await _admin_alerts(database)
    assert "k3f9a" in alert
    assert str(STRANGER) in alert
    assert "@mallory" in alert
    async with database.unit_of_work(write=False) as session:
        sent = await session.execute(
            select(OutboxMessage.chat_id).where(OutboxMessage.dedupe_key.like("link-refused:%"))
        )
        assert list(sent.scalars()) == [ADMIN_CHAT]


async def test_an_unknown_number_gets_the_same_words_and_troubles_nobody(
    bot_client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    await post(bot_client, message("/start zzzzz", user_id=STRANGER, username="mallory"))

    assert telegram_api.texts_to(str(STRANGER)) == [NOT_FOUND]
    assert await _admin_alerts(database) == []


async def test_the_contacts_owner_is_linked_even_when_the_number_collided(
    bot_client: httpx.AsyncClient, client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    """Two people's pages made the same number: the second application is stored as `k3f9a-2`,
    while the second person's page still links the bot with `k3f9a`."""
    await _apply(client, "k3f9a", "@anna")
    await _apply(client, "k3f9a", "@Boris_P")

    await post(bot_client, message("/start k3f9a", user_id=4440001, username="boris_p"))
    await post(bot_client, message("/start k3f9a", user_id=ANNA, username="Anna"))

    assert telegram_api.texts_to("4440001") == [WELCOME.format("k3f9a-2")]
    assert telegram_api.texts_to(str(ANNA)) == [WELCOME.format("k3f9a")]
    assert await _chat_of(database, "k3f9a-2") == "4440001"
    assert await _chat_of(database, "k3f9a") == str(ANNA)


async def test_the_start_link_the_service_issued_links_whoever_opens_it(
    bot_client: httpx.AsyncClient, client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    response = await client.post(
        "/api/v1/applications",
        json={"number": "web123", "client": {"name": "Вера", "contact_type": "VK", "contact": "vk.com/vera"}},
    )
    assert response.status_code == 201, response.text
    link = response.json()["bot_link"]
    start = dict(parse_qsl(urlsplit(link).query))["start"]
    assert start.startswith("web123-")
    assert len(start) <= 64, "Telegram's limit for a start parameter"

    forged = await post(bot_client, message(f"/start web123-{'A' * 22}", user_id=STRANGER, username=None))
    opened = await post(bot_client, message(f"/start {start}", user_id=7770001, username=None))

    assert forged.status_code == opened.status_code == 200
    assert telegram_api.texts_to(str(STRANGER)) == [NOT_FOUND]
    assert telegram_api.texts_to("7770001") == [WELCOME.format("web123")]
    assert await _chat_of(database, "web123") == "7770001"


async def test_a_phone_contact_is_proven_by_sharing_it_with_telegrams_button(
    bot_client: httpx.AsyncClient, client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    """The catalogue's contact stage sends a phone number as the contact (`cd_…` numbers)."""
    await _apply(client, "cd_Ab3dE5f", "+7 (999) 123-45-67")

    await post(bot_client, message("/start cd_Ab3dE5f", user_id=ANNA, username="anna"))
    ask = telegram_api.messages[-1]
    forwarded = await post(bot_client, shared_contact("+79991234567", user_id=ANNA, owner=STRANGER))
    shared = await post(bot_client, shared_contact("79991234567", user_id=ANNA))

    assert ask.text.startswith("Чтобы мы убедились, что заявка ваша, поделитесь")
    assert ask.reply_markup is not None
    assert ask.reply_markup["keyboard"][0][0]["request_contact"] is True
    assert forwarded.status_code == shared.status_code == 200
    assert telegram_api.texts_to(str(ANNA))[1:] == [
        "Пожалуйста, отправьте свой номер кнопкой «Поделиться номером».",
        WELCOME.format("cd_Ab3dE5f"),
    ]
    assert telegram_api.messages[-1].reply_markup == {"remove_keyboard": True}
    assert await _chat_of(database, "cd_Ab3dE5f") == str(ANNA)


async def test_a_shared_phone_that_no_application_names_links_nothing(
    bot_client: httpx.AsyncClient, client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    await _apply(client, "cd_Ab3dE5f", "+7 (999) 123-45-67")

    await post(bot_client, message("/start cd_Ab3dE5f", user_id=STRANGER, username="mallory"))
    await post(bot_client, shared_contact("+79990000000", user_id=STRANGER))

    assert telegram_api.texts_to(str(STRANGER))[-1] == (
        "Не нашли заявку с этим номером телефона. Мы передали администратору — с вами свяжутся."
    )
    assert await _chat_of(database, "cd_Ab3dE5f") is None
    (alert,) = await _admin_alerts(database)
    assert str(STRANGER) in alert
    assert "+7" not in alert, "the alert carries no phone number"


async def test_the_rebooking_link_from_the_bot_opens_the_rebooking_page_for_its_client_only(
    bot_client: httpx.AsyncClient, client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    """ "Перенести" sends the re-booking page's link; the page's calls with its `lead_number`
    work, the same number without the link's proof does not."""
    booking = await _booked_application(client, database, "k3f9a", "@anna")
    await post(bot_client, message("/start k3f9a", user_id=ANNA, username="anna"))

    await post(bot_client, press(f"reschedule:{booking.id}", user_id=ANNA))

    text = telegram_api.texts_to(str(ANNA))[-1]
    url = text.split(": ", 1)[1]
    assert url.startswith("https://psy.hrani.live/reassigment?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["mode"] == "time"
    lead = params["lead_number"]
    for number, expected in ((lead, 200), ("k3f9a", 404)):
        answers = await client.get(
            "/webhook/get-ticket-info-for-reassigment-without-schedule", params={"lead_number": number}
        )
        schedule = await client.get(
            "/webhook/get-ticket-info-for-reassigment", params={"lead_number": number, "mode": "time"}
        )
        assert (answers.status_code, schedule.status_code) == (expected, expected), number


async def test_a_chat_guessing_numbers_is_stopped_after_ten_refusals(
    bot_client: httpx.AsyncClient, client: httpx.AsyncClient, database: Database, telegram_api: FakeTelegram
) -> None:
    await _apply(client, "k3f9a", "@anna")
    for attempt in range(12):
        await post(bot_client, message(f"/start k3f9{attempt}", user_id=STRANGER, username="mallory"))
    await post(bot_client, message("/start k3f9a", user_id=STRANGER, username="mallory"))

    answers = telegram_api.texts_to(str(STRANGER))
    assert answers[:10] == [NOT_FOUND] * 10
    assert answers[10:] == ["Слишком много попыток. Попробуйте, пожалуйста, позже или напишите нам."] * 3
    assert await _admin_alerts(database) == [], "stopped before reaching a real application"
