"""Anonymous abuse: public writes are rate limited per address and per contact (429 with
Retry-After), one client holds one upcoming session per psychologist unless staff book more,
wrong API keys and links without proof are limited too, and bodies above the limit get 413
before they are read."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hraniteli.app import create_app
from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.models import Application, Booking, FormStep, ResearchResponse
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW
from tests.payloads import LOW_MOOD, application_payload

ANNA = "Иванова Анна"


def _client(app: Any, address: str = "198.51.100.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver"
    )


async def _count(database: Database, model: Any) -> int:
    async with database.unit_of_work(write=False) as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _free_hours(database: Database, hours: int) -> list[str]:
    """`hours` free slots of Анна from Tuesday 3 March on, as the form writes them."""
    psychologist = await make_psychologist(
        database, now=NOW, name=ANNA, sex="female", skills=["Утрата близкого", LOW_MOOD], debt=100
    )
    slots = []
    start = msk(2026, 3, 3, 8)
    for index in range(hours):
        at = start + timedelta(days=index // 12, hours=index % 12)
        if at.weekday() == 6:
            continue
        await make_slot(database, psychologist, start_at=at, now=NOW)
        slots.append(f"{at:%d.%m %H:%M}")
    return slots


def _application(number: str, slot: str, contact: str) -> dict[str, Any]:
    return application_payload(
        ticket_id=number, slots=[slot], contact=contact, selectedPsychologistsNames=[ANNA], bid=None, rid=None
    )


async def test_one_address_cannot_drain_the_schedule(app: Any, database: Database) -> None:
    """Who may call `tilda-zayavka`: anyone, 20 a minute per address (the default)."""
    hours = await _free_hours(database, 30)
    async with _client(app) as http:
        answers = [
            await http.post(
                "/webhook/tilda-zayavka", json=_application(f"dr{index:03d}", slot, f"@drain{index:03d}")
            )
            for index, slot in enumerate(hours)
        ]

    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * 20 + [429] * (len(hours) - 20)
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert await _count(database, Booking) == 20
    assert await _count(database, Application) == 20, "a refused request stores nothing"
    async with _client(app, "198.51.100.2") as other:
        response = await other.post(
            "/webhook/tilda-zayavka", json=_application("other1", hours[-1], "@other")
        )
    assert response.status_code == 200, "another address is not affected"


async def test_one_contact_cannot_apply_from_many_addresses(app: Any, database: Database) -> None:
    hours = await _free_hours(database, 8)
    statuses = []
    for index, slot in enumerate(hours[:7]):
        async with _client(app, f"203.0.113.{index + 1}") as http:
            response = await http.post(
                "/webhook/tilda-zayavka", json=_application(f"ct{index}", slot, "+7 (999) 123-45-67")
            )
            statuses.append(response.status_code)
    # 5 an hour per contact (the default), however it is written
    async with _client(app, "203.0.113.99") as http:
        spelled = await http.post("/webhook/tilda-zayavka", json=_application("ct9", hours[7], "89991234567"))

    assert statuses == [200] * 5 + [429] * 2
    assert spelled.status_code == 429


async def test_a_client_holds_one_upcoming_session_per_psychologist_unless_staff_book_more(
    client: httpx.AsyncClient, database: Database
) -> None:
    hours = await _free_hours(database, 3)
    first = await client.post("/webhook/tilda-zayavka", json=_application("one1", hours[0], "@vera"))
    second = await client.post("/webhook/tilda-zayavka", json=_application("one2", hours[1], "@Vera"))
    assert first.status_code == second.status_code == 200

    stored = (await client.get("/api/v1/applications/one2", headers=ADMIN)).json()
    assert stored["status"] == "handed_to_admin"
    assert "уже есть предстоящая сессия" in stored["result_reason"]
    assert await _count(database, Booking) == 1

    staff = await client.post(
        "/webhook/automatch",
        json={"ticket_id": "one2", "slots": hours[1], "psychologists": ANNA},
        headers=ADMIN,
    )
    assert staff.status_code == 200, staff.text
    assert staff.json()["success"] is True
    assert await _count(database, Booking) == 2


async def test_wrong_api_keys_are_limited_and_then_every_attempt_waits(app: Any) -> None:
    """Who may call internal operations: the key's holder. Ten wrong keys a minute per address;
    after that even the right key waits (else guessing would go on, told apart by the answers)."""
    async with _client(app) as http:
        wrong = [
            (await http.get("/api/v1/applications", headers={"X-API-Key": f"guess-{i}"})).status_code
            for i in range(10)
        ]
        blocked = await http.get("/api/v1/applications", headers={"X-API-Key": "guess-x"})
        right = await http.get("/api/v1/applications", headers=ADMIN)
    async with _client(app, "198.51.100.77") as elsewhere:
        fine = await elsewhere.get("/api/v1/applications", headers=ADMIN)

    assert wrong == [401] * 10
    assert blocked.status_code == right.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    assert fine.status_code == 200


async def test_guessing_numbers_on_the_rebooking_page_is_stopped(app: Any) -> None:
    async with _client(app) as http:
        answers = [
            (
                await http.get(
                    "/webhook/get-ticket-info-for-reassigment-without-schedule",
                    params={"lead_number": f"g{index:05d}"},
                )
            ).status_code
            for index in range(12)
        ]
    assert answers == [404] * 10 + [429] * 2


async def test_bodies_above_the_limit_are_refused_before_they_are_read(app: Any, database: Database) -> None:
    big = b'{"ticket_id": "big1", "questions": ["' + b"x" * (300 * 1024) + b'"]}'
    async with _client(app) as http:
        declared = await http.post(
            "/webhook/tilda-zayavka", content=big, headers={"Content-Type": "application/json"}
        )

        async def chunks() -> Any:  # no Content-Length: counted as it arrives
            for _ in range(40):
                yield b"x" * 10_000

        streamed = await http.post("/webhook/research-tilda-zayavka", content=chunks())
        tracking = await http.put(
            "/webhook/update-tracking-step", json={"ticket_id": "big2", "step": "y" * 300_000}
        )

    for response in (declared, streamed, tracking):
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await _count(database, Application) == 0
    assert await _count(database, ResearchResponse) == 0
    assert await _count(database, FormStep) == 0


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(
    not _redis_reachable() and os.environ.get("CI") != "true", reason="no Redis at 127.0.0.1:6379"
)
async def test_with_redis_every_process_shares_the_limits(
    settings: Settings, clock: FrozenClock, database: Database
) -> None:
    """Two apps (as two processes) on one Redis count one budget; the database says each was
    refused after the shared budget was spent."""
    shared = settings.model_copy(
        update={"rate_limit_storage": "redis://127.0.0.1:6379/0", "rate_limit_tracking": "6/minute"}
    )
    first, second = (create_app(shared, clock=clock, database=database) for _ in range(2))
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    statuses = []
    for index in range(8):  # Redis outlives the test: a fresh address counts from zero
        async with _client(first if index % 2 else second, address) as http:
            response = await http.put(
                "/webhook/update-tracking-step", json={"ticket_id": "rd1", "step": f"s{index}"}
            )
            statuses.append(response.status_code)

    assert statuses == [200] * 6 + [429] * 2
    assert await _count(database, FormStep) == 6
