"""The bot's `/start <number>` link: the client gets a chat, and what was kept for them goes out."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from hraniteli.db import Database
from hraniteli.models import Client, OutboxMessage, OutboxState
from hraniteli.notifications import service as outbox
from tests.conftest import ADMIN, NOW

APPLICATION = {
    "ticket_id": "k3f9a",
    "name": "Анна",
    "age": "27",
    "contactType": "Telegram",
    "contact": "@anna",
    "slots": [],
    "formPsyClientInfo": {"sex": "Женский"},
}


async def test_process_link_gives_the_application_client_a_chat_and_releases_kept_messages(
    client: httpx.AsyncClient, database: Database
) -> None:
    assert (await client.post("/webhook/tilda-zayavka", json=APPLICATION)).status_code == 200
    async with database.unit_of_work() as session:
        anna = (await session.execute(select(Client).where(Client.contact == "@anna"))).scalar_one()
        await outbox.enqueue(
            session,
            dedupe_key="kept",
            recipient_kind="client",
            recipient_ref=str(anna.id),
            chat_id=None,
            text="Ваша сессия…",
            now=NOW,
        )
        await outbox.enqueue(
            session,
            dedupe_key="stale",
            recipient_kind="client",
            recipient_ref=str(anna.id),
            chat_id=None,
            text="Подтвердите сессию, которая уже прошла",
            now=NOW - timedelta(hours=30),
            expires_at=NOW - timedelta(hours=6),
        )

    linked = await client.post(
        "/webhook/process-link", json={"user_id": "123456789", "ticket_id": "k3f9a"}, headers=ADMIN
    )
    again = await client.post(
        "/webhook/process-link", json={"user_id": "123456789", "ticket_id": "k3f9a"}, headers=ADMIN
    )

    assert linked.status_code == 200
    assert again.json()["client_id"] == linked.json()["client_id"] == str(anna.id)
    async with database.unit_of_work(write=False) as session:
        stored = await session.get(Client, anna.id)
        kept, stale = (
            await session.execute(select(OutboxMessage).order_by(OutboxMessage.dedupe_key))
        ).scalars()
    assert stored is not None
    assert stored.telegram_id == "123456789"
    assert (kept.dedupe_key, kept.chat_id, kept.state) == ("kept", "123456789", OutboxState.PENDING)
    # What went stale while the client had no chat is not sent now.
    assert (stale.dedupe_key, stale.chat_id, stale.state) == ("stale", None, OutboxState.NO_CHAT)


async def test_bad_links_change_nothing(client: httpx.AsyncClient, database: Database) -> None:
    await client.post("/webhook/tilda-zayavka", json=APPLICATION)

    unknown = await client.post(
        "/webhook/process-link", json={"user_id": "1", "ticket_id": "nope"}, headers=ADMIN
    )
    not_an_id = await client.post(
        "/webhook/process-link", json={"user_id": "@anna", "ticket_id": "k3f9a"}, headers=ADMIN
    )
    no_key = await client.post("/webhook/process-link", json={"user_id": "1", "ticket_id": "k3f9a"})

    assert (unknown.status_code, not_an_id.status_code, no_key.status_code) == (404, 400, 401)
    async with database.unit_of_work(write=False) as session:
        chats = (await session.execute(select(Client.telegram_id))).scalars().all()
    assert list(chats) == [None]


async def test_client_registration_creates_one_client_per_chat(
    client: httpx.AsyncClient, database: Database
) -> None:
    first = await client.post("/webhook/client-registration", json={"user_id": 555}, headers=ADMIN)
    second = await client.post("/webhook/client-registration", json={"user_id": "555"}, headers=ADMIN)

    assert first.status_code == 200
    assert first.json()["client_id"] == second.json()["client_id"]
