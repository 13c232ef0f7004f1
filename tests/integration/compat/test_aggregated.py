"""Aggregated schedules: by psychologist (GET) and all psychologists (POST ScheduleRequest)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from hraniteli.clock import FrozenClock
from hraniteli.db import Database
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW
from tests.integration.compat.helpers import (
    BOTH,
    HOUR_KEYS,
    SLOT_ROW_KEYS,
    assert_error,
    schedule_request,
)

ANNA = "Иванова Анна"
PETR = "Петров Пётр"


def _rows(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(item date, hour key, psychologist) of every listed row, in response order."""
    return [
        (item["date"], hour, row["psychologist"])
        for item in items
        for hour, rows in item["slots"].items()
        for row in rows
    ]


def _assert_days_shape(items: list[dict[str, Any]]) -> None:
    for item in items:
        assert set(item) == {"date", "day_name", "pretty_date", "slots"}
        day = date.fromisoformat(item["date"])
        assert item["pretty_date"] == f"{day.day:02d}.{day.month:02d}"
        assert item["day_name"] != "воскресенье"
        assert day.weekday() != 6
        assert list(item["slots"]) == HOUR_KEYS
        for rows in item["slots"].values():
            for row in rows:
                assert set(row) == SLOT_ROW_KEYS
                assert row["state"] == "Свободен"


@pytest.mark.parametrize("suffix", BOTH)
@pytest.mark.parametrize("param", ["utm_psy", "psychologist"])
async def test_schedule_by_psychologist_lists_free_hours_without_sundays(
    client: httpx.AsyncClient, database: Database, suffix: str, param: str
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    petr = await make_psychologist(database, now=NOW, name=PETR)
    free = await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    booked = await make_slot(database, anna, start_at=msk(2026, 3, 5, 10), now=NOW)
    await make_slot(database, petr, start_at=msk(2026, 3, 4, 15), now=NOW)
    await client.post("/api/v1/bookings", json={"slot_id": str(booked.id)}, headers=ADMIN)

    response = await client.get(
        f"/webhook/get-aggregated-schedule-by-psychologist{suffix}",
        params={param: ANNA, "userTimeOffsetMsk": 0},
    )

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 1
    items = body[0]["items"]
    _assert_days_shape(items)
    expected_days = [NOW.date() + timedelta(days=n) for n in range(29)]
    assert [item["date"] for item in items] == [d.isoformat() for d in expected_days if d.weekday() != 6]
    assert items[0]["day_name"] == "понедельник"
    assert items[0]["pretty_date"] == "02.03"
    assert _rows(items) == [("2026-03-04", "14:00", ANNA)]
    (row,) = items[2]["slots"]["14:00"]
    assert row == {
        "id": str(free.id),
        "psychologist": ANNA,
        "date": "2026-03-04",
        "time": "14:00",
        "state": "Свободен",
        "ticket": None,
        "client_id": None,
        "meeting_link": None,
        "meeting_id": None,
        "calendar_meeting_id": None,
        "confirmed": False,
        "auto_assigned": False,
        "auto_canceled": False,
        "is_helpful_hand": None,
        "Дата Локальная": "2026-03-04",
        "Время Локальное": "14:00",
    }


@pytest.mark.parametrize("offset", [4, "4", "+4", "4.0"])
async def test_a_positive_offset_keys_hours_by_local_time_but_keeps_moscow_date_and_time(
    client: httpx.AsyncClient, database: Database, offset: Any
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    late = await make_slot(database, anna, start_at=msk(2026, 3, 4, 22), now=NOW)
    await make_slot(database, anna, start_at=msk(2026, 3, 7, 20), now=NOW)  # Sunday 00:00 at MSK+4

    response = await client.get(
        "/webhook/get-aggregated-schedule-by-psychologist",
        params={"utm_psy": ANNA, "userTimeOffsetMsk": offset},
    )

    assert response.status_code == 200
    items = response.json()[0]["items"]
    _assert_days_shape(items)
    assert _rows(items) == [("2026-03-04", "18:00", ANNA), ("2026-03-05", "02:00", ANNA)]
    (row,) = items[2]["slots"]["18:00"]
    assert (row["date"], row["time"]) == ("2026-03-04", "14:00")
    assert (row["Дата Локальная"], row["Время Локальное"]) == ("2026-03-04", "18:00")
    (late_row,) = items[3]["slots"]["02:00"]
    assert late_row["id"] == str(late.id)
    assert (late_row["date"], late_row["time"]) == ("2026-03-04", "22:00")
    assert (late_row["Дата Локальная"], late_row["Время Локальное"]) == ("2026-03-05", "02:00")
    assert "2026-03-08" not in [item["date"] for item in items]


async def test_a_negative_offset_drops_slots_that_fall_on_the_clients_sunday(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    await make_slot(database, anna, start_at=msk(2026, 3, 9, 2), now=NOW)  # Sunday 22:00 at MSK-4
    await make_slot(database, anna, start_at=msk(2026, 3, 9, 10), now=NOW)

    msk_view = await client.get(
        "/webhook/get-aggregated-schedule-by-psychologist", params={"utm_psy": ANNA, "userTimeOffsetMsk": 0}
    )
    minus_four = await client.get(
        "/webhook/get-aggregated-schedule-by-psychologist",
        params={"utm_psy": ANNA, "userTimeOffsetMsk": "-4"},
    )

    assert _rows(msk_view.json()[0]["items"]) == [
        ("2026-03-09", "02:00", ANNA),
        ("2026-03-09", "10:00", ANNA),
    ]
    assert _rows(minus_four.json()[0]["items"]) == [("2026-03-09", "06:00", ANNA)]


@pytest.mark.parametrize("suffix", BOTH)
async def test_schedule_by_psychologist_refuses_an_unknown_name(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    await make_psychologist(database, now=NOW, name=ANNA)

    unknown = await client.get(
        f"/webhook/get-aggregated-schedule-by-psychologist{suffix}", params={"utm_psy": "Нет Такого"}
    )
    missing = await client.get(f"/webhook/get-aggregated-schedule-by-psychologist{suffix}")
    null = await client.get(
        f"/webhook/get-aggregated-schedule-by-psychologist{suffix}", params={"utm_psy": "null"}
    )

    assert_error(unknown, 404, "NOT_FOUND")
    assert_error(missing, 404, "NOT_FOUND")
    assert_error(null, 404, "NOT_FOUND")


@pytest.mark.parametrize("offset", ["abc", "4 hours", "99", "-20", "nan", "inf"])
async def test_schedule_by_psychologist_refuses_a_bad_offset(
    client: httpx.AsyncClient, database: Database, offset: str
) -> None:
    await make_psychologist(database, now=NOW, name=ANNA)

    response = await client.get(
        "/webhook/get-aggregated-schedule-by-psychologist",
        params={"utm_psy": ANNA, "userTimeOffsetMsk": offset},
    )

    error = assert_error(response, 400, "INVALID_INPUT")
    assert error["details"] == [{"field": "userTimeOffsetMsk"}]


# --- get-aggregated-all -----------------------------------------------------------------------


async def _two_psychologists(database: Database) -> dict[str, str]:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    petr = await make_psychologist(database, now=NOW, name=PETR)
    ids = {}
    for who, start in ((anna, msk(2026, 3, 4, 14)), (petr, msk(2026, 3, 4, 14)), (petr, msk(2026, 3, 9, 10))):
        slot = await make_slot(database, who, start_at=start, now=NOW)
        ids[f"{who.name} {start:%d.%m %H}"] = str(slot.id)
    await make_slot(database, anna, start_at=msk(2026, 3, 20, 10), now=NOW)  # outside the window
    return ids


@pytest.mark.parametrize("suffix", BOTH)
async def test_aggregated_all_returns_every_psychologists_free_hours_for_the_window(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    ids = await _two_psychologists(database)

    response = await client.post(f"/webhook/get-aggregated-all{suffix}", json=schedule_request())

    assert response.status_code == 200
    items = response.json()[0]["items"]
    _assert_days_shape(items)
    assert [item["date"] for item in items] == [
        "2026-03-02",
        "2026-03-03",
        "2026-03-04",
        "2026-03-05",
        "2026-03-06",
        "2026-03-07",
        "2026-03-09",
    ]
    assert _rows(items) == [
        ("2026-03-04", "14:00", ANNA),
        ("2026-03-04", "14:00", PETR),
        ("2026-03-09", "10:00", PETR),
    ]
    assert [row["id"] for row in items[2]["slots"]["14:00"]] == [
        ids[f"{ANNA} 04.03 14"],
        ids[f"{PETR} 04.03 14"],
    ]


@pytest.mark.parametrize("suffix", BOTH)
async def test_aggregated_all_with_show_only_psy_lists_one_psychologist(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    await _two_psychologists(database)

    response = await client.post(
        f"/webhook/get-aggregated-all{suffix}", json=schedule_request(show_only_psy=PETR)
    )

    assert response.status_code == 200
    assert _rows(response.json()[0]["items"]) == [
        ("2026-03-04", "14:00", PETR),
        ("2026-03-09", "10:00", PETR),
    ]


async def test_aggregated_all_tolerates_null_strings_string_numbers_and_unknown_keys(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _two_psychologists(database)
    body = schedule_request(
        show_only_psy="null",
        ageFilter="null",
        userTimeOffsetMsk="0",
        utm_psy="null",
        top_3_psychologists=[ANNA],
        utm_anketa="x",
    )

    response = await client.post("/webhook/get-aggregated-all", json=body)

    assert response.status_code == 200
    assert len(_rows(response.json()[0]["items"])) == 3


async def test_aggregated_all_at_offset_plus_four_uses_the_clients_calendar(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _two_psychologists(database)

    response = await client.post("/webhook/get-aggregated-all", json=schedule_request(userTimeOffsetMsk="4"))

    assert response.status_code == 200
    items = response.json()[0]["items"]
    _assert_days_shape(items)
    assert _rows(items) == [
        ("2026-03-04", "18:00", ANNA),
        ("2026-03-04", "18:00", PETR),
        ("2026-03-09", "14:00", PETR),
    ]
    assert {row["time"] for rows in items[2]["slots"].values() for row in rows} == {"14:00"}


async def test_aggregated_all_refuses_a_non_numeric_offset(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _two_psychologists(database)

    response = await client.post(
        "/webhook/get-aggregated-all", json=schedule_request(userTimeOffsetMsk="abc")
    )

    assert_error(response, 400, "INVALID_INPUT")


async def test_aggregated_views_follow_schedule_changes_and_the_clock(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    await make_slot(database, anna, start_at=msk(2026, 3, 2, 10), now=NOW)
    body = schedule_request(startDate="2026-03-02", endDate="2026-03-04")

    async def listed() -> list[tuple[str, str, str]]:
        response = await client.post("/webhook/get-aggregated-all", json=body)
        assert response.status_code == 200
        return _rows(response.json()[0]["items"])

    assert await listed() == [("2026-03-02", "10:00", ANNA)]
    added = await client.post("/webhook/add-slot", json={"secret": anna.editor_secret, "slot": "04.03 14:00"})
    assert added.status_code == 200
    assert await listed() == [("2026-03-02", "10:00", ANNA), ("2026-03-04", "14:00", ANNA)]
    booked = await client.post(
        "/webhook/assign-session", json={"id": added.json()["id"], "ticket": "k3f9a"}, headers=ADMIN
    )
    assert booked.status_code == 200
    assert await listed() == [("2026-03-02", "10:00", ANNA)]
    clock.advance(hours=2)  # 11:00 MSK: the 10:00 hour has passed
    assert await listed() == []


async def test_aggregated_all_shows_a_psychologists_new_name_right_after_a_rename(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await make_psychologist(database, now=NOW, name=ANNA)
    await make_slot(database, anna, start_at=msk(2026, 3, 4, 14), now=NOW)
    body = schedule_request(startDate="2026-03-04", endDate="2026-03-04")
    assert _rows((await client.post("/webhook/get-aggregated-all", json=body)).json()[0]["items"]) == [
        ("2026-03-04", "14:00", ANNA)
    ]

    renamed = await client.patch(
        f"/api/v1/psychologists/{anna.id}", json={"name": "Иванова-Смирнова Анна"}, headers=ADMIN
    )

    assert renamed.status_code == 200
    response = await client.post("/webhook/get-aggregated-all", json=body)
    assert _rows(response.json()[0]["items"]) == [("2026-03-04", "14:00", "Иванова-Смирнова Анна")]
