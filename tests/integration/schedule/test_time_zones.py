"""A psychologist's local wall clock in, UTC stored, each client's own clock out."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from hraniteli.db import Database
from tests.builders import make_psychologist
from tests.conftest import ADMIN, NOW


async def add_slot(client: httpx.AsyncClient, psychologist_id: uuid.UUID, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/psychologists/{psychologist_id}/slots", json=body, headers=ADMIN)


async def aggregated_day(client: httpx.AsyncClient, day: str, offset: object) -> dict[str, Any]:
    response = await client.post(
        "/webhook/get-aggregated-all",
        json={"startDate": day, "endDate": day, "userTimeOffsetMsk": offset},
    )
    assert response.status_code == 200
    items = response.json()[0]["items"]
    assert [item["date"] for item in items] == [day]
    day_item: dict[str, Any] = items[0]
    return day_item


def shown(schedule: httpx.Response) -> list[tuple[str, str]]:
    """(date, local time) of every slot a GET /api/v1/schedule answer shows."""
    assert schedule.status_code == 200, schedule.text
    return [(day["date"], entry["local_time"]) for day in schedule.json()["days"] for entry in day["slots"]]


def occupied_hours(day_item: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {hour: rows for hour, rows in day_item["slots"].items() if rows}


async def test_a_novosibirsk_slot_is_stored_in_utc_and_shown_in_each_clients_time(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Novosibirsk is UTC+7 = MSK+4: 10:00 there is 03:00 UTC and 06:00 in Moscow."""
    psychologist = await make_psychologist(database, now=NOW, time_zone="Asia/Novosibirsk")

    added = await add_slot(client, psychologist.id, local_date="2026-03-04", local_time="10:00")

    assert added.status_code == 201, added.text
    slot = added.json()["slot"]
    assert slot["start_at"] in ("2026-03-04T03:00:00Z", "2026-03-04T03:00:00+00:00")
    assert slot["local_start"] == "2026-03-04T10:00:00+07:00"

    schedule = await client.get("/api/v1/schedule", params={"tz": "Europe/Moscow"})
    assert shown(schedule) == [("2026-03-04", "06:00")]
    assert [entry["id"] for day in schedule.json()["days"] for entry in day["slots"]] == [slot["id"]]

    in_novosibirsk = await client.get("/api/v1/schedule", params={"tz": "Asia/Novosibirsk"})
    assert shown(in_novosibirsk) == [("2026-03-04", "10:00")]

    moscow = occupied_hours(await aggregated_day(client, "2026-03-04", 0))
    assert list(moscow) == ["06:00"]
    [row] = moscow["06:00"]
    assert row["id"] == slot["id"]
    assert row["time"] == "06:00"
    assert row["date"] == "2026-03-04"
    assert row["Время Локальное"] == "06:00"
    assert row["state"] == "Свободен"

    msk_plus_4 = occupied_hours(await aggregated_day(client, "2026-03-04", 4))
    assert list(msk_plus_4) == ["10:00"]
    [row] = msk_plus_4["10:00"]
    assert row["id"] == slot["id"]
    assert row["Время Локальное"] == "10:00"
    assert row["Дата Локальная"] == "2026-03-04"
    assert row["time"] == "06:00"

    as_string = occupied_hours(await aggregated_day(client, "2026-03-04", "4"))
    assert list(as_string) == ["10:00"]


async def test_a_slot_near_midnight_moves_to_the_next_day_for_an_eastern_client(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    added = await add_slot(client, psychologist.id, local_date="2026-03-04", local_time="22:00")
    assert added.status_code == 201, added.text

    assert occupied_hours(await aggregated_day(client, "2026-03-04", 4)) == {}
    [row] = occupied_hours(await aggregated_day(client, "2026-03-05", 4))["02:00"]
    assert row["Дата Локальная"] == "2026-03-05"
    assert (row["date"], row["time"]) == ("2026-03-04", "22:00")


async def test_a_berlin_psychologists_local_time_follows_berlins_dst(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW, time_zone="Europe/Berlin")

    winter = await add_slot(client, psychologist.id, local_date="2026-03-27", local_time="10:00")
    summer = await add_slot(client, psychologist.id, local_date="2026-03-30", local_time="10:00")

    assert winter.status_code == summer.status_code == 201
    assert winter.json()["slot"]["local_start"] == "2026-03-27T10:00:00+01:00"
    assert summer.json()["slot"]["local_start"] == "2026-03-30T10:00:00+02:00"
    schedule = await client.get(
        "/api/v1/schedule", params={"tz": "Europe/Moscow", "from": "2026-03-27", "to": "2026-03-30"}
    )
    assert shown(schedule) == [("2026-03-27", "12:00"), ("2026-03-30", "11:00")]


async def test_a_local_time_skipped_by_dst_is_refused(client: httpx.AsyncClient, database: Database) -> None:
    psychologist = await make_psychologist(database, now=NOW, time_zone="Europe/Berlin")

    response = await add_slot(client, psychologist.id, local_date="2026-03-29", local_time="02:30")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    assert "does not exist" in error["message"]
    slots = await client.get(f"/api/v1/psychologists/{psychologist.id}/slots", headers=ADMIN)
    assert slots.json() == []


async def test_a_slot_in_the_past_is_refused(client: httpx.AsyncClient, database: Database) -> None:
    """NOW is 09:00 in Moscow: 08:00 today is gone, 10:00 is still ahead."""
    psychologist = await make_psychologist(database, now=NOW)

    gone = await add_slot(client, psychologist.id, local_date="2026-03-02", local_time="08:00")
    yesterday = await add_slot(client, psychologist.id, start_at="2026-03-01T10:00:00+03:00")
    ahead = await add_slot(client, psychologist.id, local_date="2026-03-02", local_time="10:00")

    assert gone.status_code == yesterday.status_code == 400
    assert "past" in gone.json()["error"]["message"]
    assert ahead.status_code == 201


async def test_the_past_is_judged_by_the_instant_not_by_the_psychologists_wall_clock(
    client: httpx.AsyncClient, database: Database
) -> None:
    """At 09:00 in Moscow it is already 13:00 in Novosibirsk: 12:00 there is past."""
    psychologist = await make_psychologist(database, now=NOW, time_zone="Asia/Novosibirsk")

    past = await add_slot(client, psychologist.id, local_date="2026-03-02", local_time="12:00")
    ahead = await add_slot(client, psychologist.id, local_date="2026-03-02", local_time="14:00")

    assert past.status_code == 400
    assert ahead.status_code == 201


async def test_a_slot_on_a_moscow_sunday_is_refused(client: httpx.AsyncClient, database: Database) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    eastern = await make_psychologist(database, now=NOW, name="Петров Пётр", time_zone="Asia/Novosibirsk")

    sunday = await add_slot(client, psychologist.id, local_date="2026-03-08", local_time="10:00")
    # 02:00 on Monday in Novosibirsk is still 22:00 on Sunday in Moscow.
    sunday_in_moscow = await add_slot(client, eastern.id, local_date="2026-03-09", local_time="02:00")
    # 01:00 on Sunday in Novosibirsk is 21:00 on Saturday in Moscow: open.
    saturday_in_moscow = await add_slot(client, eastern.id, local_date="2026-03-08", local_time="01:00")

    assert sunday.status_code == sunday_in_moscow.status_code == 400
    assert "weekday" in sunday.json()["error"]["message"]
    assert saturday_in_moscow.status_code == 201


async def test_weekly_repeat_opens_four_more_weekly_slots(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW, time_zone="Asia/Novosibirsk")

    added = await add_slot(
        client, psychologist.id, local_date="2026-03-04", local_time="10:00", repeat="weekly"
    )

    assert added.status_code == 201, added.text
    assert added.json()["slot"]["repeat_rule"] == "weekly"
    assert [slot["local_start"] for slot in added.json()["repeated"]] == [
        "2026-03-11T10:00:00+07:00",
        "2026-03-18T10:00:00+07:00",
        "2026-03-25T10:00:00+07:00",
        "2026-04-01T10:00:00+07:00",
    ]
    listed = await client.get(
        f"/api/v1/psychologists/{psychologist.id}/slots",
        params={"from": "2026-03-01T00:00:00+03:00", "to": "2026-05-01T00:00:00+03:00"},
        headers=ADMIN,
    )
    assert len(listed.json()) == 5
    schedule = await client.get(
        "/api/v1/schedule", params={"tz": "Europe/Moscow", "from": "2026-03-02", "to": "2026-04-05"}
    )
    assert shown(schedule) == [
        ("2026-03-04", "06:00"),
        ("2026-03-11", "06:00"),
        ("2026-03-18", "06:00"),
        ("2026-03-25", "06:00"),
        ("2026-04-01", "06:00"),
    ]


@pytest.mark.parametrize("tz", ["Mars/Olympus", "Europe", "Asia/" + "x" * 300])
async def test_an_unknown_client_zone_is_a_clear_400(client: httpx.AsyncClient, tz: str) -> None:
    response = await client.get("/api/v1/schedule", params={"tz": tz})

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "tz"}]


async def test_a_psychologist_cannot_get_a_zone_that_is_not_one(client: httpx.AsyncClient) -> None:
    for tz in ("Europe", "Mars/Olympus"):
        response = await client.post(
            "/api/v1/psychologists", json={"name": "Сидорова Ольга", "time_zone": tz}, headers=ADMIN
        )
        assert response.status_code == 422, response.text


async def test_weekly_repeat_keeps_the_psychologists_wall_clock_across_dst(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW, time_zone="Europe/Berlin")

    added = await add_slot(
        client, psychologist.id, local_date="2026-03-23", local_time="10:00", repeat="weekly"
    )

    assert added.status_code == 201, added.text
    assert [slot["local_start"] for slot in added.json()["repeated"]] == [
        "2026-03-30T10:00:00+02:00",
        "2026-04-06T10:00:00+02:00",
        "2026-04-13T10:00:00+02:00",
        "2026-04-20T10:00:00+02:00",
    ]
