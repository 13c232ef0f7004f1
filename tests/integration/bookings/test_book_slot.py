"""Booking a slot through the clean API: one winner, clear conflicts, slot state follows."""

from __future__ import annotations

import httpx

from hraniteli.db import Database
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW


async def test_booking_takes_the_slot_and_a_second_attempt_gets_409(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)

    first = await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=ADMIN)
    second = await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=ADMIN)

    assert first.status_code == 201
    assert first.json()["status"] == "pending"
    assert second.status_code == 409
    assert "booked by someone else" in second.json()["error"]["message"]
    schedule = await client.post(
        "/webhook/get-aggregated-all", json={"startDate": "2026-03-04", "endDate": "2026-03-04"}
    )
    assert schedule.json()[0]["items"][0]["slots"]["14:00"] == []


async def test_cancelling_frees_the_slot_again(client: httpx.AsyncClient, database: Database) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)
    booking = (await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=ADMIN)).json()

    cancelled = await client.post(
        f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "заболел"}, headers=ADMIN
    )
    rebooked = await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=ADMIN)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert rebooked.status_code == 201


async def test_idempotency_key_returns_the_first_booking(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)
    headers = {**ADMIN, "Idempotency-Key": "retry-1"}

    first = await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=headers)
    retry = await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=headers)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]


async def test_unknown_or_past_slot_is_refused(client: httpx.AsyncClient, database: Database) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 2, 10), now=NOW)
    unknown = await client.post(
        "/api/v1/bookings", json={"slot_id": "00000000-0000-0000-0000-000000000000"}, headers=ADMIN
    )
    assert unknown.status_code == 404

    from tests.conftest import FrozenClock  # noqa: F401  (the clock fixture type)

    later = await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=ADMIN)
    assert later.status_code == 201  # 10:00 MSK is still ahead of 09:00 MSK


async def test_booking_without_the_admin_key_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)

    response = await client.post(
        "/api/v1/bookings", json={"slot_id": str(slot.id)}, headers={"X-API-Key": "wrong"}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


async def test_booking_for_an_unknown_client_is_a_404_naming_the_field(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)

    response = await client.post(
        "/api/v1/bookings",
        json={"slot_id": str(slot.id), "client_id": "00000000-0000-4000-8000-000000000000"},
        headers=ADMIN,
    )
    again = await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=ADMIN)

    assert response.status_code == 404, response.text
    assert response.json()["error"]["details"] == [{"field": "client_id"}]
    assert again.status_code == 201, "the slot stayed free"
