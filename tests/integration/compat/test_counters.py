"""Admin helpers: slot-counter and get_general_slots (seed 001/003)."""

from __future__ import annotations

import httpx
import pytest

from hraniteli.db import Database
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW
from tests.integration.compat.helpers import BOTH, assert_error

ANNA = "Иванова Анна"
PETR = "Петров Пётр"
OLGA = "Смирнова Ольга"


async def _three_schedules(client: httpx.AsyncClient, database: Database) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    petr = await make_psychologist(database, now=NOW, name=PETR)
    olga = await make_psychologist(database, now=NOW, name=OLGA)
    for who, start in (
        (anna, msk(2026, 3, 4, 14)),
        (anna, msk(2026, 3, 5, 10)),
        (anna, msk(2026, 3, 6, 12)),
        (petr, msk(2026, 3, 6, 12)),
        (petr, msk(2026, 3, 4, 14)),
        (petr, msk(2026, 3, 7, 11)),
        (olga, msk(2026, 3, 3, 9)),
        (olga, msk(2026, 3, 5, 10)),
        (olga, msk(2026, 4, 30, 10)),  # beyond the 28-day window
    ):
        await make_slot(database, who, start_at=start, now=NOW)
    booked = await make_slot(database, petr, start_at=msk(2026, 3, 5, 10), now=NOW)
    response = await client.post("/api/v1/bookings", json={"slot_id": str(booked.id)}, headers=ADMIN)
    assert response.status_code == 201


@pytest.mark.parametrize("suffix", BOTH)
async def test_slot_counter_counts_free_slots_in_the_window_per_psychologist(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    await _three_schedules(client, database)

    response = await client.get(f"/webhook/slot-counter{suffix}")

    assert response.status_code == 200
    result = response.json()["result"]
    assert isinstance(result, str)
    assert result.splitlines()[0].endswith(": 8")
    assert f"{ANNA}: 3" in result.splitlines()
    assert f"{PETR}: 3" in result.splitlines()
    assert f"{OLGA}: 2" in result.splitlines()


async def test_slot_counter_with_no_slots_says_zero(client: httpx.AsyncClient, database: Database) -> None:
    response = await client.get("/webhook/slot-counter")

    assert response.status_code == 200
    assert response.json()["result"].endswith(": 0")


@pytest.mark.parametrize("suffix", BOTH)
@pytest.mark.parametrize(
    "names", [f"{ANNA}, {PETR}", f"{ANNA},{PETR}", f"{ANNA}; {PETR}", f" {ANNA} ,  {PETR} "]
)
async def test_general_slots_lists_the_three_hours_most_of_them_are_free(
    client: httpx.AsyncClient, database: Database, suffix: str, names: str
) -> None:
    await _three_schedules(client, database)

    response = await client.post(f"/webhook/get_general_slots{suffix}", json={"psychologist_list": names})

    assert response.status_code == 200
    assert response.json() == {
        "formated_result": (
            "Топ-3 наиболее свободных слота\n\n04.03 14:00: 2\n06.03 12:00: 2\n05.03 10:00: 1\n"
        )
    }


async def test_general_slots_of_everyone_counts_every_psychologist(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _three_schedules(client, database)

    response = await client.post(
        "/webhook/get_general_slots", json={"psychologist_list": f"{ANNA},{PETR},{OLGA}"}
    )

    assert response.json()["formated_result"] == (
        "Топ-3 наиболее свободных слота\n\n04.03 14:00: 2\n05.03 10:00: 2\n06.03 12:00: 2\n"
    )


async def test_general_slots_with_an_unknown_name_is_not_found(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _three_schedules(client, database)

    response = await client.post(
        "/webhook/get_general_slots", json={"psychologist_list": f"{ANNA}, Нет Такого"}
    )

    error = assert_error(response, 404, "NOT_FOUND")
    assert "Нет Такого" in error["message"]
