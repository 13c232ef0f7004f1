"""Meeting links made by the worker for every booking, used in the reminder, deleted on cancel."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from hraniteli.bookings import service as bookings
from hraniteli.conferencing.service import MeetingProviders
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.lifecycle.actions import LifecycleSettings
from hraniteli.lifecycle.meetings import MeetingWork
from hraniteli.lifecycle.worker import Worker
from hraniteli.models import Booking, OutboxMessage
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW
from tests.fakes.zoom_api import FakeZoom

START = msk(2026, 3, 5, 14)


async def _book(database: Database, name: str) -> Booking:
    psychologist = await make_psychologist(database, now=NOW, name=name, telegram_id=f"tg-{name}")
    slot = await make_slot(database, psychologist, start_at=START, now=NOW)
    async with database.unit_of_work() as session:
        return await bookings.book_slot(session, request=bookings.BookingRequest(slot_id=slot.id), now=NOW)


async def _load(database: Database, booking: Booking) -> Booking:
    async with database.unit_of_work(write=False) as session:
        loaded = await session.get(Booking, booking.id)
        assert loaded is not None
        return loaded


async def test_each_booking_gets_a_zoom_link_from_a_free_account_and_loses_it_on_cancel(
    database: Database, provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    worker = Worker(
        database,
        LifecycleSettings(),
        jobs=(),
        meetings=MeetingWork(database, MeetingProviders.from_settings(provider_settings, http)),
    )
    first = await _book(database, "Иванова Анна")
    second = await _book(database, "Петров Пётр")

    await worker.tick(NOW)
    first, second = await _load(database, first), await _load(database, second)
    await worker.tick(START - timedelta(hours=2))

    assert (first.meeting_platform, first.meeting_account) == ("zoom", "acc-one")
    assert (second.meeting_platform, second.meeting_account) == ("zoom", "acc-two")  # acc-one is busy then
    assert (first.meeting_link or "").startswith("https://zoom.us/j/")
    async with database.unit_of_work(write=False) as session:
        reminders = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("%:reminder:%")))
        ).scalars()
        texts = [m.text for m in reminders]
    assert any(first.meeting_link in text for text in texts)

    async with database.unit_of_work() as session:
        loaded = await session.get(Booking, first.id)
        assert loaded is not None
        await bookings.cancel_booking(session, booking=loaded, now=START - timedelta(hours=1), reason="болею")
    await worker.tick(START - timedelta(minutes=59))

    deleted = fake_zoom.calls_to("delete")
    assert [call.path.rsplit("/", 1)[-1] for call in deleted] == [first.meeting_id]


async def test_generate_conference_link_without_providers_gives_a_jitsi_link(
    client: httpx.AsyncClient, database: Database
) -> None:
    booking = await _book(database, "Иванова Анна")

    response = await client.post(
        "/webhook/generate-conference-link", json={"id": str(booking.slot_id)}, headers=ADMIN
    )
    again = await client.post(
        "/webhook/generate-conference-link", json={"id": str(booking.slot_id)}, headers=ADMIN
    )

    assert response.status_code == 200
    assert response.json()["platform"] == "jitsi"
    assert response.json()["link"].startswith("https://meet.jit.si/hraniteli-")
    assert again.json() == response.json()
    assert (await _load(database, booking)).meeting_link == response.json()["link"]
