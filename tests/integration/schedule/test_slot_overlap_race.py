"""Slots of one psychologist never overlap, and the database says so: on PostgreSQL an exclusion
constraint, on SQLite one writer at a time. Adding an overlapping slot is a 409 with the same
message however it is caught (the service's check, or the constraint under a race)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from hraniteli.app import create_app
from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.models import Psychologist, RepeatRule, Slot, SlotState
from hraniteli.schedule import repository
from hraniteli.schedule import service as schedule
from tests.builders import POLICY, make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW

OVERLAPS = "the slot overlaps another slot of this psychologist"
ROUNDS = 30


async def stored_slots(database: Database, psychologist: Psychologist) -> list[Slot]:
    async with database.unit_of_work(write=False) as session:
        query = select(Slot).where(Slot.psychologist_id == psychologist.id).order_by(Slot.start_at)
        return list((await session.execute(query)).scalars())


async def add(
    client: httpx.AsyncClient, psychologist: Psychologist, start: str, minutes: int
) -> httpx.Response:
    return await client.post(
        f"/api/v1/psychologists/{psychologist.id}/slots",
        json={"start_at": start, "duration_minutes": minutes},
        headers=ADMIN,
    )


def assert_overlap_conflict(response: httpx.Response) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["error"] == {"code": "CONFLICT", "message": OVERLAPS, "details": []}


async def test_a_slot_ends_its_duration_after_its_start(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)

    response = await add(client, psychologist, "2026-03-04T10:00:00+03:00", 90)

    assert response.status_code == 201, response.text
    (slot,) = await stored_slots(database, psychologist)
    assert slot.end_at == msk(2026, 3, 4, 11, 30)


async def test_an_overlapping_slot_is_a_409_and_a_touching_one_is_not(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Admin (or the psychologist's editor secret); a stranger gets 401 and adds nothing."""
    psychologist = await make_psychologist(database, now=NOW)
    await add(client, psychologist, "2026-03-04T10:00:00+03:00", 60)

    overlapping = await add(client, psychologist, "2026-03-04T10:30:00+03:00", 60)
    inside = await add(client, psychologist, "2026-03-04T09:30:00+03:00", 180)
    touching = await add(client, psychologist, "2026-03-04T11:00:00+03:00", 60)
    stranger = await client.post(
        f"/api/v1/psychologists/{psychologist.id}/slots", json={"start_at": "2026-03-04T15:00:00+03:00"}
    )

    assert_overlap_conflict(overlapping)
    assert_overlap_conflict(inside)
    assert touching.status_code == 201
    assert stranger.status_code == 401
    assert [(s.start_at, s.end_at) for s in await stored_slots(database, psychologist)] == [
        (msk(2026, 3, 4, 10), msk(2026, 3, 4, 11)),
        (msk(2026, 3, 4, 11), msk(2026, 3, 4, 12)),
    ]


async def test_a_repeated_slot_keeps_its_duration_at_every_occurrence(database: Database) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 10), now=NOW, duration_minutes=45)

    async with database.unit_of_work() as session:
        root = await session.get(Slot, slot.id)
        assert root is not None
        await schedule.set_repeat_rule(
            session, psychologist=psychologist, slot=root, rule=RepeatRule.WEEKLY, now=NOW, policy=POLICY
        )

    saved = await stored_slots(database, psychologist)
    assert len(saved) == 5
    assert {s.end_at - s.start_at for s in saved} == {timedelta(minutes=45)}


# --- races ------------------------------------------------------------------------------------


@pytest.fixture
async def second_database(database_url: str) -> AsyncIterator[Database]:
    """Another process's view of the same database: its own engine and connections."""
    other = Database(database_url, pool_size=2)
    yield other
    await other.dispose()


def client_of(database: Database, database_url: str) -> httpx.AsyncClient:
    settings = Settings(database_url=database_url, admin_api_key="test-admin-key", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, clock=FrozenClock(NOW), database=database)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_two_processes_adding_overlapping_slots_at_once_create_one(
    database: Database, second_database: Database, database_url: str
) -> None:
    """10:00 for 60 min and 10:30 for 60 min, sent together through two apps with their own
    connections, round after round: exactly one is created, the other is the overlap 409.
    (PostgreSQL: the exclusion constraint; SQLite: writers take turns, so the check sees it.)"""
    outcomes: Counter[tuple[int, int]] = Counter()
    async with client_of(database, database_url) as one, client_of(second_database, database_url) as two:
        for round_ in range(ROUNDS):
            psychologist = await make_psychologist(database, now=NOW, name=f"Психолог {round_:02d}")
            first, second = await asyncio.gather(
                add(one, psychologist, "2026-03-04T10:00:00+03:00", 60),
                add(two, psychologist, "2026-03-04T10:30:00+03:00", 60),
            )
            outcomes[(first.status_code, second.status_code)] += 1
            loser = second if first.status_code == 201 else first
            assert sorted([first.status_code, second.status_code]) == [201, 409], (first.text, second.text)
            assert_overlap_conflict(loser)
            assert len(await stored_slots(database, psychologist)) == 1
    assert sum(outcomes.values()) == ROUNDS


@pytest.mark.postgres_only
async def test_the_database_refuses_an_overlapping_slot_row(database: Database) -> None:
    """Even a row written without the service (an import, a script) cannot overlap."""
    psychologist = await make_psychologist(database, now=NOW)
    first = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 10), now=NOW)

    with pytest.raises(IntegrityError, match="ex_slots_psychologist_overlap"):
        async with database.unit_of_work() as session:
            session.add(
                Slot(
                    psychologist_id=psychologist.id,
                    start_at=first.start_at + timedelta(minutes=30),
                    duration_minutes=60,
                    state=SlotState.FREE,
                    repeat_rule=RepeatRule.NONE,
                    is_over_event=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )

    assert [s.id for s in await stored_slots(database, psychologist)] == [first.id]


@pytest.mark.postgres_only
async def test_the_race_the_check_cannot_see_is_the_same_409(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The losing request's check ran before the winner committed (here: it sees nothing at all):
    the constraint refuses the row and the caller still gets the overlap 409, not a 500/503."""
    psychologist = await make_psychologist(database, now=NOW)
    await add(client, psychologist, "2026-03-04T10:00:00+03:00", 60)

    async def sees_nothing(*_: Any) -> list[Slot]:
        return []

    monkeypatch.setattr(repository, "list_overlapping_slots", sees_nothing)
    response = await add(client, psychologist, "2026-03-04T10:30:00+03:00", 60)
    again = await add(client, psychologist, "2026-03-04T10:00:00+03:00", 60)

    assert_overlap_conflict(response)
    assert again.status_code == 200  # the same start: the existing slot, as always
    assert len(await stored_slots(database, psychologist)) == 1


@pytest.mark.postgres_only
async def test_the_constraint_compares_the_slots_own_ranges(database: Database) -> None:
    """`end_at` cannot drift from start + duration behind the ORM's back."""
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 10), now=NOW)

    with pytest.raises(IntegrityError, match="ck_slots_end_at"):
        async with database.unit_of_work() as session:
            await session.execute(
                text("UPDATE slots SET duration_minutes = 30 WHERE id = :id"), {"id": slot.id}
            )
