"""Many clients racing for one slot through a real server process: one wins, the rest get 409."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select

from hraniteli.db import Database
from hraniteli.kit.moscow import MSK
from hraniteli.models import ACTIVE_BOOKING_STATUSES, Booking, RepeatRule, Slot, SlotState
from tests.builders import make_psychologist, make_slot
from tests.conftest import ADMIN, LiveServer
from tests.overlap import slots_may_overlap

pytestmark = pytest.mark.server

ATTEMPTS = 50
COMPAT_ATTEMPTS = 20


def tomorrow_at_14_msk() -> datetime:
    """14:00 in Moscow on the first non-Sunday at least a day ahead: the server reads the real clock."""
    day = datetime.now(MSK).date() + timedelta(days=1)
    if day.weekday() == 6:
        day += timedelta(days=1)
    return datetime.combine(day, time(14, 0), tzinfo=MSK)


def real_now() -> datetime:
    return datetime.now(UTC)


async def race(url: str, requests: list[tuple[str, dict[str, str]]]) -> list[httpx.Response]:
    """Fire every (path, body) at once, each over its own connection."""
    limits = httpx.Limits(max_connections=len(requests) + 10, max_keepalive_connections=len(requests) + 10)
    timeout = httpx.Timeout(120.0, connect=30.0)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout, headers=ADMIN) as http:
        return await asyncio.gather(*(http.post(path, json=body) for path, body in requests))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


async def bookings_of(database: Database, psychologist_id: uuid.UUID) -> list[Booking]:
    async with database.unit_of_work(write=False) as session:
        query = select(Booking).where(Booking.psychologist_id == psychologist_id)
        return list((await session.execute(query)).scalars())


async def slot_states(database: Database, *slot_ids: uuid.UUID) -> list[str]:
    async with database.unit_of_work(write=False) as session:
        found = {slot.id: slot.state for slot in (await session.execute(select(Slot))).scalars()}
    return [found[slot_id] for slot_id in slot_ids]


async def test_fifty_clients_racing_for_one_slot_get_one_booking(
    live_server: LiveServer, database: Database
) -> None:
    now = real_now()
    psychologist = await make_psychologist(database, now=now)
    slot = await make_slot(database, psychologist, start_at=tomorrow_at_14_msk(), now=now)

    responses = await race(live_server.url, [("/api/v1/bookings", {"slot_id": str(slot.id)})] * ATTEMPTS)

    assert statuses(responses) == {201: 1, 409: ATTEMPTS - 1}, [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201)
    assert winner.json()["slot_id"] == str(slot.id)
    for loser in (r for r in responses if r.status_code == 409):
        error = loser.json()["error"]
        assert error["code"] == "CONFLICT"
        assert "booked by someone else" in error["message"]
    saved = await bookings_of(database, psychologist.id)
    assert [b.id for b in saved] == [uuid.UUID(winner.json()["id"])]
    assert saved[0].status in ACTIVE_BOOKING_STATUSES
    assert await slot_states(database, slot.id) == [SlotState.BOOKED]


@pytest.mark.postgres_only
async def test_racing_for_two_overlapping_slots_books_only_one_of_them(
    live_server: LiveServer, database: Database
) -> None:
    """Slots cannot overlap (the service and, since migration 0008, the database refuse it), but
    bookings keep their own guard: with the slots' constraint lifted for this test, the bookings'
    exclusion constraint must still keep the psychologist from having two sessions at once."""
    async with slots_may_overlap(database):
        await race_for_two_overlapping_slots(live_server, database)


async def race_for_two_overlapping_slots(live_server: LiveServer, database: Database) -> None:
    now = real_now()
    psychologist = await make_psychologist(database, now=now)
    first = await make_slot(database, psychologist, start_at=tomorrow_at_14_msk(), now=now)
    second_id = uuid.uuid4()
    async with database.unit_of_work() as session:
        session.add(
            Slot(
                id=second_id,
                psychologist_id=psychologist.id,
                start_at=first.start_at + timedelta(minutes=30),
                duration_minutes=60,
                state=SlotState.FREE,
                repeat_rule=RepeatRule.NONE,
                repeat_root_id=None,
                is_over_event=False,
                created_at=now,
                updated_at=now,
            )
        )

    bodies = [{"slot_id": str(first.id if i % 2 else second_id)} for i in range(ATTEMPTS)]
    responses = await race(live_server.url, [("/api/v1/bookings", body) for body in bodies])

    assert statuses(responses) == {201: 1, 409: ATTEMPTS - 1}, [r.text for r in responses]
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.json()["error"]["code"] == "CONFLICT"
        assert loser.json()["error"]["message"]
    saved = [b for b in await bookings_of(database, psychologist.id) if b.status in ACTIVE_BOOKING_STATUSES]
    assert len(saved) == 1
    booked_slot = saved[0].slot_id
    other_slot = second_id if booked_slot == first.id else first.id
    assert await slot_states(database, booked_slot, other_slot) == [SlotState.BOOKED, SlotState.FREE]


async def test_twenty_assign_session_webhooks_for_one_slot_book_it_once(
    live_server: LiveServer, database: Database
) -> None:
    now = real_now()
    psychologist = await make_psychologist(database, now=now)
    slot = await make_slot(database, psychologist, start_at=tomorrow_at_14_msk(), now=now)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        keyless = await http.post("/webhook/assign-session", json={"id": str(slot.id)})
    assert keyless.status_code == 401

    responses = await race(
        live_server.url, [("/webhook/assign-session", {"id": str(slot.id)})] * COMPAT_ATTEMPTS
    )

    assert statuses(responses) == {200: 1, 409: COMPAT_ATTEMPTS - 1}, [r.text for r in responses]
    row = next(r for r in responses if r.status_code == 200).json()
    assert row["id"] == str(slot.id)
    assert row["state"] == "Забронирован"
    for loser in (r for r in responses if r.status_code == 409):
        assert "booked by someone else" in loser.json()["error"]["message"]
    saved = await bookings_of(database, psychologist.id)
    assert len(saved) == 1
    assert await slot_states(database, slot.id) == [SlotState.BOOKED]


async def test_concurrent_retries_with_one_idempotency_key_all_get_the_one_booking(
    live_server: LiveServer, database: Database
) -> None:
    now = real_now()
    psychologist = await make_psychologist(database, now=now)
    slot = await make_slot(database, psychologist, start_at=tomorrow_at_14_msk(), now=now)
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=60) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    "/api/v1/bookings",
                    json={"slot_id": str(slot.id)},
                    headers={**ADMIN, "Idempotency-Key": "client-retry-1"},
                )
                for _ in range(10)
            )
        )

    assert statuses(responses) == {201: 10}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await bookings_of(database, psychologist.id)) == 1
