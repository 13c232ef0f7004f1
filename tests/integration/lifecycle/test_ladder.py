"""The session ladder driven by an injected clock: what the client, psychologist and admin
are sent, and what happens to the booking, at each step."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from hraniteli.bookings import service as bookings
from hraniteli.db import Database
from hraniteli.lifecycle.actions import LifecycleSettings
from hraniteli.lifecycle.timeline import list_timeline
from hraniteli.lifecycle.worker import Worker
from hraniteli.models import Booking, BookingStatus, Client, OutboxMessage, Slot, SlotState
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import NOW

SETTINGS = LifecycleSettings(admin_chat_id="-100500")
START = msk(2026, 3, 5, 14)  # Thursday 14:00 MSK, three days after NOW


async def _book(database: Database, *, start: datetime = START, booked_at: datetime = NOW) -> Booking:
    psychologist = await make_psychologist(database, now=NOW, telegram_id="777")
    slot = await make_slot(database, psychologist, start_at=start, now=NOW)
    async with database.unit_of_work() as session:
        client = Client(
            telegram_id="555",
            name="Анна",
            contact_type="Telegram",
            contact="@anna",
            time_zone="Europe/Moscow",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(client)
        await session.flush()
        return await bookings.book_slot(
            session,
            request=bookings.BookingRequest(slot_id=slot.id, client_id=client.id, application_ref="k3f9a"),
            now=booked_at,
        )


async def _messages(database: Database) -> list[OutboxMessage]:
    async with database.unit_of_work(write=False) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.dedupe_key)
        return list((await session.execute(query)).scalars())


async def _booking(database: Database, booking_id: object) -> Booking:
    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        return booking


async def test_a_silent_client_is_asked_twice_then_the_admin_is_alerted_then_it_is_cancelled(
    database: Database,
) -> None:
    booking = await _book(database)
    worker = Worker(database, SETTINGS, jobs=())

    await worker.tick(START - timedelta(hours=24))
    first = await _messages(database)
    await worker.tick(START - timedelta(hours=22))
    await worker.tick(START - timedelta(hours=21))
    before_cancel = await _messages(database)
    await worker.tick(START - timedelta(hours=18))
    after = await _messages(database)

    assert [(m.recipient_kind, m.chat_id) for m in first] == [("client", "555")]
    assert "подтвердите, что придёте" in first[0].text
    assert first[0].buttons is not None
    assert [b["text"] for row in first[0].buttons for b in row] == [
        "Спасибо, я приду",
        "Перенести",
        "Отменить",
    ]
    assert [m.recipient_kind for m in before_cancel] == ["client", "client", "admin"]
    assert "Ещё раз напоминаем" in before_cancel[1].text
    assert "не подтвердил" in before_cancel[2].text
    assert before_cancel[2].chat_id == "-100500"
    cancelled = await _booking(database, booking.id)
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.is_auto_canceled
    async with database.unit_of_work(write=False) as session:
        slot = await session.get(Slot, booking.slot_id)
        assert slot is not None
        assert slot.state == SlotState.FREE
    told = {m.recipient_kind: m.text for m in after[len(before_cancel) :]}
    assert set(told) == {"client", "psychologist", "admin"}
    assert "отменена" in told["client"]


async def test_a_confirmed_client_gets_no_more_requests_but_the_reminder_and_feedback(
    database: Database,
) -> None:
    booking = await _book(database)
    worker = Worker(database, SETTINGS, jobs=())
    await worker.tick(START - timedelta(hours=24))
    async with database.unit_of_work() as session:
        loaded = await session.get(Booking, booking.id)
        assert loaded is not None
        await bookings.confirm_booking(session, booking=loaded, now=START - timedelta(hours=23))

    for hours in (22, 21, 18, 2):
        await worker.tick(START - timedelta(hours=hours))
    await worker.tick(START + timedelta(hours=2, minutes=1))
    messages = await _messages(database)

    kinds = [m.dedupe_key.split(":")[2] + ":" + m.recipient_kind for m in messages]
    assert kinds == [
        "confirm_request:client",
        "reminder:client",
        "reminder:psychologist",
        "feedback:client",
        "feedback:psychologist",
    ]
    # Each goes stale at its own moment: a request to confirm once the session has begun, a
    # reminder once it has ended, a feedback request three days later.
    end = START + timedelta(hours=1)
    assert [m.expires_at for m in messages] == [
        START,
        end,
        end,
        end + timedelta(days=3),
        end + timedelta(days=3),
    ]
    assert (await _booking(database, booking.id)).status == BookingStatus.CONFIRMED
    async with database.unit_of_work(write=False) as session:
        states = {e.kind: e.state for e in await list_timeline(session, booking_id=booking.id)}
    assert states["auto_cancel"] == "skipped"
    assert states["reminder"] == "done"


async def test_a_booking_made_ten_hours_ahead_is_never_auto_cancelled(database: Database) -> None:
    start = NOW + timedelta(hours=10)
    booking = await _book(database, start=start)
    worker = Worker(database, SETTINGS, jobs=())

    await worker.tick(NOW)
    first = await _messages(database)
    for hours in range(1, 12):
        await worker.tick(NOW + timedelta(hours=hours))

    assert [m.dedupe_key.split(":")[2] for m in first] == ["confirm_request"]
    assert (await _booking(database, booking.id)).status == BookingStatus.PENDING
    async with database.unit_of_work(write=False) as session:
        kinds = {e.kind for e in await list_timeline(session, booking_id=booking.id)}
    assert "auto_cancel" not in kinds
    alerts = [m for m in await _messages(database) if m.recipient_kind == "admin"]
    assert len(alerts) == 1


async def test_nothing_fires_in_the_past_and_cancelling_mid_ladder_stops_it(database: Database) -> None:
    booking = await _book(database)
    async with database.unit_of_work(write=False) as session:
        planned = await list_timeline(session, booking_id=booking.id)
    assert all(event.due_at >= NOW for event in planned)

    worker = Worker(database, SETTINGS, jobs=())
    await worker.tick(START - timedelta(hours=24))
    async with database.unit_of_work() as session:
        loaded = await session.get(Booking, booking.id)
        assert loaded is not None
        await bookings.cancel_booking(
            session, booking=loaded, now=START - timedelta(hours=23), reason="болею"
        )
    await worker.tick(START + timedelta(days=30))

    assert [m.dedupe_key.split(":")[2] for m in await _messages(database)] == ["confirm_request"]
    async with database.unit_of_work(write=False) as session:
        states = [e.state for e in await list_timeline(session, booking_id=booking.id)]
    assert states.count("cancelled") == len(states) - 1


async def test_a_late_worker_runs_missed_events_once_and_never_cancels_a_client_it_just_asked(
    database: Database,
) -> None:
    booking = await _book(database)
    worker = Worker(database, SETTINGS, jobs=())

    await worker.tick(START - timedelta(hours=1))  # no worker ran for the whole day before
    again = await worker.tick(START - timedelta(hours=1))
    messages = await _messages(database)

    assert again.total == 0
    by_key = {m.dedupe_key.split(":", 2)[2]: m for m in messages}
    assert sorted(by_key) == [
        "alert_unconfirmed:admin",
        "auto_cancel:admin",
        "confirm_request:client",
        "reminder:client",
        "reminder:psychologist",
    ]
    assert "не успел ответить" in by_key["auto_cancel:admin"].text
    assert (await _booking(database, booking.id)).status == BookingStatus.PENDING
