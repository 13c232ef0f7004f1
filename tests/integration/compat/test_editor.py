"""The psychologist's schedule editor: get-slot grid, add/delete-slot, repeats, ticket-for-slot."""

from __future__ import annotations

import httpx
import pytest

from hraniteli.db import Database
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW
from tests.integration.compat.helpers import (
    BOTH,
    EDITOR_SLOT_KEYS,
    HOUR_KEYS,
    assert_error,
    editor_day,
    snapshot,
)


@pytest.mark.parametrize("suffix", BOTH)
async def test_get_slot_returns_the_full_24_hour_grid_for_every_day_including_sunday(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    free = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)
    booked = await make_slot(database, psychologist, start_at=msk(2026, 3, 5, 10), now=NOW)
    assert (
        await client.post("/api/v1/bookings", json={"slot_id": str(booked.id)}, headers=ADMIN)
    ).status_code == 201

    response = await client.get(
        f"/webhook/get-slot{suffix}",
        params={"secret": psychologist.editor_secret, "startDate": "2026-03-02", "endDate": "2026-03-08"},
    )

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 1
    items = body[0]["items"]
    assert [item["date"] for item in items] == [f"2026-03-0{day}" for day in range(2, 9)]
    assert [item["pretty_date"] for item in items] == [f"0{day}.03" for day in range(2, 9)]
    assert [item["day_name"] for item in items] == [
        "понедельник",
        "вторник",
        "среда",
        "четверг",
        "пятница",
        "суббота",
        "воскресенье",
    ]
    for item in items:
        assert set(item) == {"date", "pretty_date", "day_name", "slots"}
        assert list(item["slots"]) == HOUR_KEYS
    wednesday, thursday = items[2]["slots"], items[3]["slots"]
    assert wednesday["14:00"] == [
        {
            "id": str(free.id),
            "status": "Свободен",
            "event": None,
            "event_modal_type": None,
            "slot_over_event": False,
            "time": "14:00",
        }
    ]
    (booked_row,) = thursday["10:00"]
    assert set(booked_row) == EDITOR_SLOT_KEYS
    assert booked_row["id"] == str(booked.id)
    assert booked_row["status"] == "Забронирован"
    occupied = [(item["date"], hour) for item in items for hour, rows in item["slots"].items() if rows]
    assert occupied == [("2026-03-04", "14:00"), ("2026-03-05", "10:00")]


async def test_get_slot_without_dates_shows_four_weeks_from_this_monday(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)

    response = await client.get("/webhook/get-slot", params={"secret": psychologist.editor_secret})

    items = response.json()[0]["items"]
    assert len(items) == 28
    assert items[0]["date"] == "2026-03-02"
    assert items[-1]["date"] == "2026-03-29"
    assert items[-1]["day_name"] == "воскресенье"


async def test_get_slot_shows_only_the_psychologists_own_slots(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine = await make_psychologist(database, now=NOW, name="Иванова Анна")
    other = await make_psychologist(database, now=NOW, name="Петров Пётр")
    await make_slot(database, other, start_at=msk(2026, 3, 4, 14), now=NOW)

    slots = await editor_day(client, mine.editor_secret, "2026-03-04")

    assert slots["14:00"] == []


@pytest.mark.parametrize("suffix", BOTH)
@pytest.mark.parametrize(
    "params",
    [
        {"secret": "wrong-secret"},
        {"secret": ""},
        {"secret": "null"},
        {},
        {"startDate": "2026-03-02", "endDate": "2026-03-08"},
        {"secret": "x" * 1000, "startDate": "2026-03-02"},
    ],
)
async def test_get_slot_with_a_bad_or_missing_secret_answers_unauthored_with_200(
    client: httpx.AsyncClient, database: Database, params: dict[str, str], suffix: str
) -> None:
    await make_psychologist(database, now=NOW)

    response = await client.get(f"/webhook/get-slot{suffix}", params=params)

    assert response.status_code == 200
    assert response.json() == {"error": "unauthored"}


# --- add-slot ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", BOTH)
@pytest.mark.parametrize("slot", ["06.07 14:00", "06.7 14:00", "6.7 14:00"])
async def test_add_slot_accepts_every_slot_string_shape_the_clients_send(
    client: httpx.AsyncClient, database: Database, slot: str, suffix: str
) -> None:
    psychologist = await make_psychologist(database, now=NOW)

    response = await client.post(
        f"/webhook/add-slot{suffix}", json={"secret": psychologist.editor_secret, "slot": slot}
    )

    assert response.status_code == 200
    slot_id = response.json()["id"]
    day = await editor_day(client, psychologist.editor_secret, "2026-07-06")
    assert day["14:00"][0]["id"] == slot_id
    assert day["14:00"][0]["status"] == "Свободен"


async def test_adding_the_same_slot_again_in_another_shape_returns_the_same_slot(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    secret = psychologist.editor_secret

    ids = [
        (await client.post("/webhook/add-slot", json={"secret": secret, "slot": slot})).json()["id"]
        for slot in ("06.07 14:00", "06.7 14:00", "6.7 14:00", "06.07 14:00")
    ]

    assert len(set(ids)) == 1
    assert len((await snapshot(database))["slots"]) == 1


async def test_add_slot_converts_a_local_time_zone_label_to_moscow(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)

    response = await client.post(
        "/webhook/add-slot",
        json={"secret": psychologist.editor_secret, "slot": "04.03 18:00", "userTimeZone": "МСК+4"},
    )

    assert response.status_code == 200
    day = await editor_day(client, psychologist.editor_secret, "2026-03-04")
    assert [row["id"] for row in day["14:00"]] == [response.json()["id"]]


async def test_add_slot_refuses_a_moscow_sunday(client: httpx.AsyncClient, database: Database) -> None:
    psychologist = await make_psychologist(database, now=NOW)

    response = await client.post(
        "/webhook/add-slot", json={"secret": psychologist.editor_secret, "slot": "05.07 14:00"}
    )

    assert_error(response, 400, "INVALID_INPUT")
    assert (await snapshot(database))["slots"] == []


# --- delete-slot ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", BOTH)
async def test_delete_slot_by_slot_string_removes_it_from_the_grid(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)
    keep = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 15), now=NOW)

    response = await client.post(
        f"/webhook/delete-slot{suffix}", json={"secret": psychologist.editor_secret, "slot": "4.3 14:00"}
    )

    assert response.status_code == 200
    day = await editor_day(client, psychologist.editor_secret, "2026-03-04")
    assert day["14:00"] == []
    assert [row["id"] for row in day["15:00"]] == [str(keep.id)]


async def test_delete_slot_accepts_the_legacy_id_body(client: httpx.AsyncClient, database: Database) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)

    response = await client.post(
        "/webhook/delete-slot", json={"secret": psychologist.editor_secret, "id": str(slot.id)}
    )

    assert response.status_code == 200
    assert (await editor_day(client, psychologist.editor_secret, "2026-03-04"))["14:00"] == []


async def test_deleting_a_booked_slot_is_a_conflict_and_keeps_the_booking(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)
    await client.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=ADMIN)
    before = await snapshot(database)

    by_string = await client.post(
        "/webhook/delete-slot", json={"secret": psychologist.editor_secret, "slot": "04.03 14:00"}
    )
    by_id = await client.post(
        "/webhook/delete-slot", json={"secret": psychologist.editor_secret, "id": str(slot.id)}
    )

    assert_error(by_string, 409, "CONFLICT")
    assert_error(by_id, 409, "CONFLICT")
    assert await snapshot(database) == before
    day = await editor_day(client, psychologist.editor_secret, "2026-03-04")
    assert day["14:00"][0]["status"] == "Забронирован"


async def test_deleting_an_unknown_or_someone_elses_slot_is_not_found(
    client: httpx.AsyncClient, database: Database
) -> None:
    mine = await make_psychologist(database, now=NOW, name="Иванова Анна")
    other = await make_psychologist(database, now=NOW, name="Петров Пётр")
    theirs = await make_slot(database, other, start_at=msk(2026, 3, 4, 14), now=NOW)
    before = await snapshot(database)

    unknown = await client.post(
        "/webhook/delete-slot", json={"secret": mine.editor_secret, "slot": "04.03 14:00"}
    )
    foreign = await client.post(
        "/webhook/delete-slot", json={"secret": mine.editor_secret, "id": str(theirs.id)}
    )
    unknown_id = await client.post(
        "/webhook/delete-slot",
        json={"secret": mine.editor_secret, "id": "00000000-0000-0000-0000-000000000000"},
    )

    for response in (unknown, foreign, unknown_id):
        assert_error(response, 404, "NOT_FOUND")
    assert await snapshot(database) == before


# --- repeats ----------------------------------------------------------------------------------


async def test_a_new_slot_has_no_repeat_period_by_uuid_or_by_slot_string(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 3, 10), now=NOW)

    for suffix in BOTH:
        for ref in (str(slot.id), "03.03 10:00", "3.3 10:00"):
            response = await client.get(
                f"/webhook/get-root-planned-free-slot{suffix}",
                params={"secret": psychologist.editor_secret, "slot": ref},
            )
            assert response.status_code == 200
            assert response.json()["repeat_period"] == "нет"


@pytest.mark.parametrize(
    ("repeat_period", "expected_days"),
    [
        ("раз в неделю", ["2026-03-10", "2026-03-17", "2026-03-24", "2026-03-31"]),
        ("раз в 2 недели", ["2026-03-17", "2026-03-31"]),
        ("раз в месяц", ["2026-04-03"]),
        ("нет", []),
    ],
)
async def test_plan_free_slots_opens_the_occurrences_that_then_appear_in_the_grid(
    client: httpx.AsyncClient, database: Database, repeat_period: str, expected_days: list[str]
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    root = await make_slot(database, psychologist, start_at=msk(2026, 3, 3, 10), now=NOW)
    secret = psychologist.editor_secret

    response = await client.post(
        "/webhook/plan-free-slots",
        json={"secret": secret, "slot": "03.03 10:00", "repeat_period": repeat_period},
    )

    assert response.status_code == 200
    assert len(response.json()["created"]) == len(expected_days)
    grid = await client.get(
        "/webhook/get-slot", params={"secret": secret, "startDate": "2026-03-02", "endDate": "2026-04-05"}
    )
    days_with_10 = [item["date"] for item in grid.json()[0]["items"] if item["slots"]["10:00"]]
    assert days_with_10 == ["2026-03-03", *expected_days]
    for day in expected_days:
        occurrence = (await editor_day(client, secret, day))["10:00"][0]
        root_of_it = await client.get(
            "/webhook/get-root-planned-free-slot", params={"secret": secret, "slot": occurrence["id"]}
        )
        assert root_of_it.json()["repeat_period"] == repeat_period
    by_root = await client.get(
        "/webhook/get-root-planned-free-slot", params={"secret": secret, "slot": str(root.id)}
    )
    assert by_root.json()["repeat_period"] == repeat_period


async def test_plan_free_slots_by_uuid_on_the_test_contour(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    root = await make_slot(database, psychologist, start_at=msk(2026, 3, 3, 10), now=NOW)

    response = await client.post(
        "/webhook/plan-free-slots-test-contur",
        json={"secret": psychologist.editor_secret, "slot": str(root.id), "repeat_period": "раз в 2 недели"},
    )

    assert response.status_code == 200
    assert len(response.json()["created"]) == 2
    assert (await editor_day(client, psychologist.editor_secret, "2026-03-17"))["10:00"]


# --- get-ticket-for-slot ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", BOTH)
@pytest.mark.parametrize("day", ["2026-03-04", "04.03", "4.3"])
async def test_ticket_for_a_slot_is_an_empty_object(
    client: httpx.AsyncClient, database: Database, day: str, suffix: str
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)

    response = await client.get(
        f"/webhook/get-ticket-for-slot{suffix}",
        params={"date": day, "time": "14:00", "secret": psychologist.editor_secret},
    )

    assert response.status_code == 200
    assert response.json() == {}


async def test_ticket_for_a_slot_with_a_wrong_secret_is_forbidden(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)
    await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)

    wrong = await client.get(
        "/webhook/get-ticket-for-slot", params={"date": "2026-03-04", "time": "14:00", "secret": "nope"}
    )
    missing = await client.get("/webhook/get-ticket-for-slot", params={"date": "2026-03-04", "time": "14:00"})

    assert_error(wrong, 403, "FORBIDDEN")
    assert_error(missing, 403, "FORBIDDEN")
