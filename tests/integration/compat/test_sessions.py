"""assign-session / cancel-session with the seed-001 slot row and seed 002's ticket body."""

from __future__ import annotations

import httpx
import pytest

from hraniteli.clock import FrozenClock
from hraniteli.db import Database
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW
from tests.integration.compat.helpers import (
    BOTH,
    SLOT_ROW_KEYS,
    assert_error,
    editor_day,
    free_hours,
    seed_slot_row,
    snapshot,
)

ANNA = "Иванова Анна"


@pytest.mark.parametrize("suffix", BOTH)
async def test_assign_session_by_id_books_the_slot_and_a_second_attempt_is_a_conflict(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    slot = await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    row = seed_slot_row(id=str(slot.id), meeting_link="https://zoom.us/j/1", confirmed="false")

    first = await client.post(f"/webhook/assign-session{suffix}", json=row, headers=ADMIN)
    after_first = await snapshot(database)
    second = await client.post(
        f"/webhook/assign-session{suffix}", json={**row, "ticket": "other"}, headers=ADMIN
    )

    assert first.status_code == 200
    booked = first.json()
    assert set(booked) == SLOT_ROW_KEYS
    assert booked["id"] == str(slot.id)
    assert booked["psychologist"] == ANNA
    assert (booked["date"], booked["time"]) == ("2026-03-04", "14:00")
    assert booked["state"] == "Забронирован"
    assert booked["ticket"] == "k3f9a"
    assert booked["meeting_link"] == "https://zoom.us/j/1"
    assert booked["auto_assigned"] is True
    assert booked["confirmed"] is False
    assert_error(second, 409, "CONFLICT")
    assert await snapshot(database) == after_first
    assert "14:00" not in await free_hours(client, ANNA, "2026-03-04")
    assert (await editor_day(client, anna.editor_secret, "2026-03-04"))["14:00"][0][
        "status"
    ] == "Забронирован"


@pytest.mark.parametrize("row_id", [None, "", "null"])
async def test_assign_session_by_psychologist_date_and_time(
    client: httpx.AsyncClient, database: Database, row_id: str | None
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    slot = await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)

    response = await client.post("/webhook/assign-session", json=seed_slot_row(id=row_id), headers=ADMIN)

    assert response.status_code == 200
    assert response.json()["id"] == str(slot.id)
    assert response.json()["state"] == "Забронирован"
    assert response.json()["ticket"] == "k3f9a"


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
async def test_assign_and_cancel_session_need_the_api_key(
    client: httpx.AsyncClient, database: Database, headers: dict[str, str]
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    slot = await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    before = await snapshot(database)

    assign = await client.post(
        "/webhook/assign-session", json=seed_slot_row(id=str(slot.id)), headers=headers
    )
    cancel = await client.post("/webhook/cancel-session", json={"ticket_id": "k3f9a"}, headers=headers)

    assert_error(assign, 401, "UNAUTHORIZED")
    assert_error(cancel, 401, "UNAUTHORIZED")
    assert await snapshot(database) == before


async def test_assign_session_refuses_unknown_malformed_and_past_slots(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    slot = await make_slot(database, anna, start_at=msk(2026, 3, 2, 10), now=NOW)
    before = await snapshot(database)

    unknown_id = await client.post(
        "/webhook/assign-session",
        json=seed_slot_row(id="00000000-0000-0000-0000-000000000000"),
        headers=ADMIN,
    )
    bad_id = await client.post("/webhook/assign-session", json=seed_slot_row(id="abc"), headers=ADMIN)
    no_slot_then = await client.post("/webhook/assign-session", json=seed_slot_row(), headers=ADMIN)
    unknown_name = await client.post(
        "/webhook/assign-session", json=seed_slot_row(psychologist="Нет Такого"), headers=ADMIN
    )
    bad_time = await client.post(
        "/webhook/assign-session", json=seed_slot_row(date="2026-03-02", time="25:00"), headers=ADMIN
    )
    bad_date = await client.post(
        "/webhook/assign-session", json=seed_slot_row(date="2026-02-30", time="10:00"), headers=ADMIN
    )
    clock.advance(hours=2)
    past = await client.post("/webhook/assign-session", json=seed_slot_row(id=str(slot.id)), headers=ADMIN)

    assert_error(unknown_id, 404, "NOT_FOUND")
    assert_error(bad_id, 400, "INVALID_INPUT")
    assert_error(no_slot_then, 404, "NOT_FOUND")
    assert_error(unknown_name, 404, "NOT_FOUND")
    assert_error(bad_time, 400, "INVALID_INPUT")
    assert_error(bad_date, 400, "INVALID_INPUT")
    assert_error(past, 400, "INVALID_INPUT")
    assert await snapshot(database) == before


@pytest.mark.parametrize("suffix", BOTH)
async def test_cancel_session_with_the_slot_row_frees_the_slot(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    slot = await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    booked = await client.post("/webhook/assign-session", json=seed_slot_row(id=str(slot.id)), headers=ADMIN)

    cancelled = await client.post(f"/webhook/cancel-session{suffix}", json=booked.json(), headers=ADMIN)

    assert cancelled.status_code == 200
    assert (await free_hours(client, ANNA, "2026-03-04"))["14:00"] == [str(slot.id)]
    assert (await editor_day(client, anna.editor_secret, "2026-03-04"))["14:00"][0]["status"] == "Свободен"
    again = await client.post("/webhook/assign-session", json=seed_slot_row(id=str(slot.id)), headers=ADMIN)
    assert again.status_code == 200


async def test_cancel_session_by_ticket_cancels_that_tickets_booking_only(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    mine = await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    theirs = await make_slot(database, anna, start_at=msk(2026, 3, 4, 16), now=NOW)
    for slot, ticket in ((mine, "k3f9a"), (theirs, "zz9")):
        response = await client.post(
            "/webhook/assign-session", json=seed_slot_row(id=str(slot.id), ticket=ticket), headers=ADMIN
        )
        assert response.status_code == 200

    cancelled = await client.post(
        "/webhook/cancel-session",
        json={"ticket_id": "k3f9a", "cancellation_reason": "Клиент заболел"},
        headers=ADMIN,
    )
    repeated = await client.post("/webhook/cancel-session", json={"ticket_id": "k3f9a"}, headers=ADMIN)

    assert cancelled.status_code == 200
    assert await free_hours(client, ANNA, "2026-03-04") == {"14:00": [str(mine.id)]}
    assert_error(repeated, 404, "NOT_FOUND")


async def test_cancel_session_refuses_a_free_slot_an_unknown_ticket_and_an_empty_body(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    slot = await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    before = await snapshot(database)

    free_slot = await client.post(
        "/webhook/cancel-session", json=seed_slot_row(id=str(slot.id)), headers=ADMIN
    )
    unknown = await client.post("/webhook/cancel-session", json={"ticket_id": "nope"}, headers=ADMIN)
    empty = await client.post("/webhook/cancel-session", json={}, headers=ADMIN)
    nulls = await client.post(
        "/webhook/cancel-session", json={"ticket_id": "null", "id": "null"}, headers=ADMIN
    )

    assert_error(free_slot, 404, "NOT_FOUND")
    assert_error(unknown, 404, "NOT_FOUND")
    assert_error(empty, 400, "INVALID_INPUT")
    assert_error(nulls, 400, "INVALID_INPUT")
    assert await snapshot(database) == before
