"""The bot's 4-week text schedule: get-slot?psychologist= (seed 003) and get-schedule (seed 002)."""

from __future__ import annotations

import httpx
import pytest

from hraniteli.clock import FrozenClock
from hraniteli.db import Database
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW
from tests.integration.compat.helpers import BOTH, assert_error

NAME = "Иванова Анна"


async def _week_with_slots(database: Database) -> None:
    psychologist = await make_psychologist(database, now=NOW, name=NAME)
    for start in (msk(2026, 3, 3, 10), msk(2026, 3, 3, 14), msk(2026, 3, 6, 18), msk(2026, 3, 10, 11)):
        await make_slot(database, psychologist, start_at=start, now=NOW)
    await make_slot(database, psychologist, start_at=msk(2026, 3, 5, 12), now=NOW)


async def _book(client: httpx.AsyncClient, name: str, date: str, time: str) -> None:
    response = await client.post(
        "/webhook/assign-session",
        json={"psychologist": name, "date": date, "time": time, "ticket": "k3f9a"},
        headers=ADMIN,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("get-slot", "psychologist"),
        ("get-slot-test-contur", "psychologist"),
        ("get-schedule", "psychologist"),
        ("get-schedule-test-contur", "psychologist"),
        ("get-schedule", "utm_psy"),
    ],
)
async def test_text_schedule_lists_four_weeks_of_free_and_booked_hours(
    client: httpx.AsyncClient, database: Database, path: str, param: str
) -> None:
    await _week_with_slots(database)
    await _book(client, NAME, "2026-03-05", "12:00")

    response = await client.get(f"/webhook/{path}", params={param: NAME})

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 1
    assert set(body[0]) == {"res"}
    weeks = body[0]["res"]
    assert len(weeks) == 4
    assert weeks[0] == (
        "Расписание на первую неделю (02.03-08.03)\n\n"
        "🟩 Свободно:\n\n"
        "03.03 Вт: 10:00, 14:00\n"
        "06.03 Пт: 18:00\n\n"
        "✅Забронировано\n\n"
        "05.03 Чт: 12:00\n"
    )
    assert weeks[1].startswith("Расписание на вторую неделю (09.03-15.03)\n\n🟩 Свободно:\n\n10.03 Вт: 11:00")
    assert weeks[2].startswith("Расписание на третью неделю (16.03-22.03)\n\n🟩 Свободно:\n\n")
    assert weeks[3].startswith("Расписание на четвёртую неделю (23.03-29.03)\n\n🟩 Свободно:\n\n")
    for week in weeks:
        assert "✅Забронировано" in week


async def test_text_schedule_drops_free_hours_that_have_passed(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    psychologist = await make_psychologist(database, now=NOW, name=NAME)
    await make_slot(database, psychologist, start_at=msk(2026, 3, 2, 10), now=NOW)
    await make_slot(database, psychologist, start_at=msk(2026, 3, 2, 15), now=NOW)

    before = (await client.get("/webhook/get-schedule", params={"psychologist": NAME})).json()
    clock.advance(hours=2)  # 11:00 MSK
    after = (await client.get("/webhook/get-schedule", params={"psychologist": NAME})).json()

    assert "02.03 Пн: 10:00, 15:00" in before[0]["res"][0]
    assert "02.03 Пн: 15:00\n" in after[0]["res"][0]
    assert "10:00" not in after[0]["res"][0]


@pytest.mark.parametrize("suffix", BOTH)
async def test_text_schedule_of_an_unknown_psychologist_is_not_found(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    await make_psychologist(database, now=NOW, name=NAME)

    by_slot = await client.get(f"/webhook/get-slot{suffix}", params={"psychologist": "Нет Такого"})
    by_schedule = await client.get(f"/webhook/get-schedule{suffix}", params={"psychologist": "Нет Такого"})
    empty = await client.get(f"/webhook/get-schedule{suffix}")

    assert_error(by_slot, 404, "NOT_FOUND")
    assert_error(by_schedule, 404, "NOT_FOUND")
    assert_error(empty, 404, "NOT_FOUND")


async def test_text_schedule_matches_the_name_despite_extra_spaces(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _week_with_slots(database)

    response = await client.get("/webhook/get-schedule", params={"psychologist": "  Иванова   Анна "})

    assert response.status_code == 200
    assert "03.03 Вт: 10:00, 14:00" in response.json()[0]["res"][0]
