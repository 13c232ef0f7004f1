"""Which Zoom accounts active bookings already occupy, and the rule applied to a real booking."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from hraniteli.bookings.service import BookingRequest, book_slot, cancel_booking, get_booking
from hraniteli.conferencing import (
    MeetingProviders,
    Platform,
    busy_zoom_accounts,
    create_meeting_for_booking,
    delete_meeting_for_booking,
)
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.models import Booking
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import NOW
from tests.fakes.zoom_api import FakeZoom


async def booked(
    database: Database,
    name: str,
    start_at: datetime,
    *,
    minutes: int = 60,
    platform: str | None = "zoom",
    account: str | None = None,
) -> Booking:
    """A booking of a new psychologist, with its meeting recorded as the given platform/account."""
    psychologist = await make_psychologist(database, now=NOW, name=name)
    slot = await make_slot(database, psychologist, start_at=start_at, now=NOW, duration_minutes=minutes)
    async with database.unit_of_work() as session:
        booking = await book_slot(session, request=BookingRequest(slot_id=slot.id), now=NOW)
        booking.meeting_platform = platform
        booking.meeting_account = account
        booking.meeting_link = f"https://example.test/{uuid.uuid4()}" if platform else None
    return booking


async def busy(
    database: Database, start_at: datetime, end_at: datetime, exclude: uuid.UUID | None = None
) -> set[str]:
    async with database.unit_of_work(write=False) as session:
        return await busy_zoom_accounts(session, start_at=start_at, end_at=end_at, exclude_booking_id=exclude)


async def test_only_active_overlapping_zoom_bookings_make_an_account_busy(database: Database) -> None:
    await booked(database, "Overlapping", msk(2026, 3, 4, 13, 30), account="acc-one")
    await booked(database, "Back to back", msk(2026, 3, 4, 15), account="acc-two")
    await booked(database, "Just before", msk(2026, 3, 4, 13), account="acc-three")
    await booked(database, "On Meet", msk(2026, 3, 4, 14), platform="meet", account=None)
    cancelled = await booked(database, "Cancelled", msk(2026, 3, 4, 14), account="acc-four")
    async with database.unit_of_work() as session:
        await cancel_booking(session, booking=await get_booking(session, cancelled.id), now=NOW)
    await booked(database, "Other day", msk(2026, 3, 5, 14), account="acc-five")

    assert await busy(database, msk(2026, 3, 4, 14), msk(2026, 3, 4, 15)) == {"acc-one"}
    assert await busy(database, msk(2026, 3, 4, 12), msk(2026, 3, 4, 16)) == {
        "acc-one",
        "acc-two",
        "acc-three",
    }


async def test_the_booking_itself_does_not_make_its_account_busy(database: Database) -> None:
    own = await booked(database, "Own", msk(2026, 3, 4, 14), account="acc-one")

    assert await busy(database, own.start_at, own.end_at) == {"acc-one"}
    assert await busy(database, own.start_at, own.end_at, exclude=own.id) == set()


async def test_a_booking_overlapping_another_zoom_session_gets_the_next_account_and_can_be_deleted(
    database: Database,
    provider_settings: Settings,
    http: httpx.AsyncClient,
    fake_zoom: FakeZoom,
) -> None:
    await booked(database, "Earlier", msk(2026, 3, 4, 14), account="acc-one")
    mine = await booked(database, "Mine", msk(2026, 3, 4, 14, 30), minutes=50, platform=None)
    providers = MeetingProviders.from_settings(provider_settings, http)

    async with database.unit_of_work() as session:
        booking = await get_booking(session, mine.id)
        result = await create_meeting_for_booking(
            session, providers=providers, booking=booking, topic="Сессия: Mine"
        )
        for column, value in result.booking_fields().items():
            setattr(booking, column, value)

    assert (result.platform, result.account) == (Platform.ZOOM, "acc-two")
    [create_call] = fake_zoom.calls_to("create")
    assert create_call.json["start_time"] == "2026-03-04T11:30:00Z"
    assert create_call.json["duration"] == 50
    async with database.unit_of_work(write=False) as session:
        stored = await get_booking(session, mine.id)
    assert (stored.meeting_platform, stored.meeting_account) == ("zoom", "acc-two")
    assert stored.meeting_link == result.link

    outcome = await delete_meeting_for_booking(providers, booking=stored)

    assert outcome.is_deleted
    [delete_call] = fake_zoom.calls_to("delete")
    assert delete_call.path == f"/v2/meetings/{stored.meeting_id}"
    assert delete_call.account_id == "acc-two"
