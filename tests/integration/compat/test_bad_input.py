"""Bad input to the legacy webhooks: a clear 4xx (or the contract's in-band answer), never a 5xx,
and nothing changes."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from hraniteli.api import compat
from hraniteli.db import Database
from hraniteli.models import Psychologist
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW
from tests.integration.compat.helpers import assert_error, editor_day, schedule_request, snapshot

ANNA = "Иванова Анна"


@pytest.fixture
async def anna(database: Database) -> Psychologist:
    psychologist = await make_psychologist(database, now=NOW, name=ANNA)
    await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)
    return psychologist


# --- bodies that are not a JSON object ------------------------------------------------------

NOT_AN_OBJECT = [
    pytest.param(b"{not json", id="not-json"),
    pytest.param(b'{"secret": "x", "slot": "04.03 14:00"', id="truncated"),
    pytest.param(b"[1, 2]", id="array"),
    pytest.param(b'[{"a": 1}, {"b": 2}]', id="array-of-objects"),
    pytest.param(b'"04.03 14:00"', id="string"),
    pytest.param(b"42", id="number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"true", id="bool"),
    pytest.param(b"\xff\xfe\x00", id="not-utf8"),
]
POSTS = [
    "add-slot",
    "add-slot-over-event",
    "delete-slot-test-contur",
    "plan-free-slots",
    "get_general_slots",
    "get-aggregated-all",
    "assign-session",
    "cancel-session-test-contur",
]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("body", NOT_AN_OBJECT)
async def test_a_body_that_is_not_a_json_object_is_refused_with_400(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, path: str, body: bytes
) -> None:
    before = await snapshot(database)

    response = await client.post(
        f"/webhook/{path}",
        content=body,
        params={"secret": anna.editor_secret},
        headers={**ADMIN, "Content-Type": "application/json"},
    )

    assert_error(response, 400, "INVALID_INPUT")
    assert await snapshot(database) == before


async def test_a_one_element_array_around_the_object_is_tolerated(
    client: httpx.AsyncClient, anna: Psychologist
) -> None:
    response = await client.post(
        "/webhook/add-slot", json=[{"secret": anna.editor_secret, "slot": "05.03 10:00"}]
    )

    assert response.status_code == 200
    assert (await editor_day(client, anna.editor_secret, "2026-03-05"))["10:00"]


# --- slot strings -----------------------------------------------------------------------------

MALFORMED_SLOTS: list[Any] = [
    "32.01 10:00",
    "10.13 10:00",
    "00.03 10:00",
    "05.00 10:00",
    "31.04 10:00",
    "05.03 25:00",
    "05.03 10:60",
    "05.03 -1:00",
    "05.03",
    "10:00",
    "abc",
    "",
    " ",
    "null",
    "undefined",
    "05/03 10:00",
    "2026-03-05 10:00",
    "05.03 10:00;06.03 11:00",
    "05.03.2026.1 10:00",
    "05.03 10:00\x00",
    "9" * 5000,
    12,
    5.03,
    0,
    True,
    None,
    [],
    ["05.03 10:00"],
    {"date": "05.03", "time": "10:00"},
]


@pytest.mark.parametrize("slot", MALFORMED_SLOTS)
async def test_a_malformed_slot_string_is_refused_and_nothing_is_added(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, slot: Any
) -> None:
    before = await snapshot(database)

    for path in ("add-slot", "add-slot-over-event-test-contur"):
        response = await client.post(f"/webhook/{path}", json={"secret": anna.editor_secret, "slot": slot})
        error = assert_error(response, 400, "INVALID_INPUT")
        assert error["details"] == [{"field": "slot"}]
    deleted = await client.post("/webhook/delete-slot", json={"secret": anna.editor_secret, "slot": slot})
    planned = await client.post(
        "/webhook/plan-free-slots",
        json={"secret": anna.editor_secret, "slot": slot, "repeat_period": "раз в неделю"},
    )
    root = await client.get(
        "/webhook/get-root-planned-free-slot", params={"secret": anna.editor_secret, "slot": str(slot)}
    )

    assert_error(deleted, 400, "INVALID_INPUT")
    assert_error(planned, 400, "INVALID_INPUT")
    assert_error(root, 400, "INVALID_INPUT")
    assert await snapshot(database) == before


@pytest.mark.parametrize(
    "slot",
    [
        "02.03 08:00",  # earlier today
        "02.03 09:00",  # this very minute
        "01.03 10:00",  # yesterday (a Sunday, but in the past first)
        "24.02 10:00",  # last week
        "02.03.2025 10:00",  # explicit past year
    ],
)
async def test_a_slot_in_the_past_is_refused(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, slot: str
) -> None:
    before = await snapshot(database)

    response = await client.post("/webhook/add-slot", json={"secret": anna.editor_secret, "slot": slot})

    error = assert_error(response, 400, "INVALID_INPUT")
    assert "past" in error["message"]
    assert await snapshot(database) == before


@pytest.mark.parametrize("slot", ["08.03 10:00", "8.3 00:00", "15.03 23:00", "05.07 14:00"])
async def test_a_moscow_sunday_slot_is_refused(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, slot: str
) -> None:
    before = await snapshot(database)

    response = await client.post("/webhook/add-slot", json={"secret": anna.editor_secret, "slot": slot})

    assert_error(response, 400, "INVALID_INPUT")
    assert await snapshot(database) == before


async def test_a_local_slot_that_is_a_moscow_sunday_is_refused(
    client: httpx.AsyncClient, database: Database, anna: Psychologist
) -> None:
    before = await snapshot(database)

    response = await client.post(
        "/webhook/add-slot",
        json={"secret": anna.editor_secret, "slot": "09.03 02:00", "userTimeZone": "МСК+4"},
    )

    assert_error(response, 400, "INVALID_INPUT")
    assert await snapshot(database) == before


@pytest.mark.parametrize("label", ["Марс", "МСК+99", "Europe/Nowhere", "UTC+", 5])
async def test_an_unknown_time_zone_label_is_refused(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, label: Any
) -> None:
    before = await snapshot(database)

    response = await client.post(
        "/webhook/add-slot", json={"secret": anna.editor_secret, "slot": "05.03 10:00", "userTimeZone": label}
    )

    assert_error(response, 400, "INVALID_INPUT")
    assert await snapshot(database) == before


# --- secrets, missing keys, extra keys ----------------------------------------------------------


@pytest.mark.parametrize("secret", ["wrong", "", "null", None, 123, ["x"], {"x": 1}, "x" * 5000])
async def test_a_wrong_secret_is_forbidden_and_changes_nothing(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, secret: Any
) -> None:
    before = await snapshot(database)

    added = await client.post("/webhook/add-slot", json={"secret": secret, "slot": "05.03 10:00"})
    deleted = await client.post("/webhook/delete-slot", json={"secret": secret, "slot": "04.03 14:00"})
    planned = await client.post(
        "/webhook/plan-free-slots",
        json={"secret": secret, "slot": "04.03 14:00", "repeat_period": "раз в неделю"},
    )

    for response in (added, deleted, planned):
        assert_error(response, 403, "FORBIDDEN")
    assert await snapshot(database) == before


async def test_missing_keys_are_refused_with_a_clear_error(
    client: httpx.AsyncClient, database: Database, anna: Psychologist
) -> None:
    secret = anna.editor_secret
    before = await snapshot(database)

    cases = [
        (await client.post("/webhook/add-slot", json={"secret": secret}), 400),
        (await client.post("/webhook/add-slot", json={"slot": "05.03 10:00"}), 403),
        (await client.post("/webhook/add-slot", json={}), 400),
        (await client.post("/webhook/add-slot"), 400),
        (await client.post("/webhook/delete-slot", json={"secret": secret}), 400),
        (await client.post("/webhook/delete-slot", json={"secret": secret, "slot": None, "id": "null"}), 400),
        (await client.post("/webhook/plan-free-slots", json={"secret": secret, "slot": "04.03 14:00"}), 400),
        (await client.post("/webhook/plan-free-slots", json={"secret": secret, "repeat_period": "нет"}), 400),
        (
            await client.post(
                "/webhook/plan-free-slots",
                json={"secret": secret, "slot": "04.03 14:00", "repeat_period": "раз в год"},
            ),
            400,
        ),
        (await client.get("/webhook/get-root-planned-free-slot", params={"secret": secret}), 400),
        (await client.get("/webhook/get-ticket-for-slot", params={"secret": secret, "time": "14:00"}), 400),
        (
            await client.get("/webhook/get-ticket-for-slot", params={"secret": secret, "date": "2026-03-04"}),
            400,
        ),
    ]

    for response, status in cases:
        assert_error(response, status)
    assert await snapshot(database) == before


async def test_extra_unknown_keys_are_tolerated(
    client: httpx.AsyncClient, database: Database, anna: Psychologist
) -> None:
    secret = anna.editor_secret
    extra = {"fromGroup": "rp", "utm_psy": "null", "foo": {"bar": [1, 2]}, "userTimeZone": "МСК"}

    added = await client.post("/webhook/add-slot", json={"secret": secret, "slot": "05.03 10:00", **extra})
    planned = await client.post(
        "/webhook/plan-free-slots",
        json={"secret": secret, "slot": "05.03 10:00", "repeat_period": "раз в месяц", **extra},
    )
    deleted = await client.post(
        "/webhook/delete-slot", json={"secret": secret, "slot": "04.03 14:00", **extra}
    )
    general = await client.post("/webhook/get_general_slots", json={"psychologist_list": ANNA, **extra})

    for response in (added, planned, deleted, general):
        assert response.status_code == 200, response.text
    day = await editor_day(client, secret, "2026-04-05")
    assert day["10:00"] == []  # 05.04 is a Sunday: the monthly occurrence was skipped
    assert (await editor_day(client, secret, "2026-03-05"))["10:00"]
    assert (await editor_day(client, secret, "2026-03-04"))["14:00"] == []


# --- get-ticket-for-slot, dates and windows --------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "time"),
    [
        ("32.01", "14:00"),
        ("04.13", "14:00"),
        ("2026-02-30", "14:00"),
        ("2026/03/04", "14:00"),
        ("04.03", "25:00"),
        ("04.03", "14"),
        ("abc", "abc"),
        ("null", "null"),
    ],
)
async def test_get_ticket_for_slot_refuses_a_malformed_date_or_time(
    client: httpx.AsyncClient, anna: Psychologist, day: str, time: str
) -> None:
    response = await client.get(
        "/webhook/get-ticket-for-slot", params={"date": day, "time": time, "secret": anna.editor_secret}
    )

    assert_error(response, 400, "INVALID_INPUT")


async def test_get_ticket_for_a_time_without_a_slot_is_not_found(
    client: httpx.AsyncClient, anna: Psychologist
) -> None:
    response = await client.get(
        "/webhook/get-ticket-for-slot",
        params={"date": "2026-03-04", "time": "15:00", "secret": anna.editor_secret},
    )

    assert_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "dates",
    [
        {"startDate": "2026-13-01", "endDate": "2026-03-08"},
        {"startDate": "2026-03-08", "endDate": "2026-03-02"},
        {"startDate": "2026-03-02", "endDate": "2027-03-02"},
        {"startDate": "abc"},
        {"startDate": "9999-12-31"},
        {"startDate": "9999-12-31", "endDate": "9999-12-31"},
        {"startDate": "0001-01-01", "endDate": "0001-01-02"},
    ],
)
async def test_a_bad_window_is_refused(
    client: httpx.AsyncClient, anna: Psychologist, dates: dict[str, str]
) -> None:
    editor = await client.get("/webhook/get-slot", params={"secret": anna.editor_secret, **dates})
    aggregated = await client.post("/webhook/get-aggregated-all", json=schedule_request(**dates))
    by_psychologist = await client.get(
        "/webhook/get-aggregated-schedule-by-psychologist", params={"utm_psy": ANNA, **dates}
    )

    for response in (editor, aggregated, by_psychologist):
        assert_error(response, 400, "INVALID_INPUT")


# --- offsets, names -------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", ["abc", "", "null", "4", 4, "-1", None])
async def test_user_time_offset_accepts_numbers_and_numeric_strings_only(
    client: httpx.AsyncClient, anna: Psychologist, offset: Any
) -> None:
    response = await client.post(
        "/webhook/get-aggregated-all", json=schedule_request(userTimeOffsetMsk=offset)
    )

    if offset == "abc":
        assert_error(response, 400, "INVALID_INPUT")
    else:
        assert response.status_code == 200
        rows = [
            row for item in response.json()[0]["items"] for rows in item["slots"].values() for row in rows
        ]
        assert [row["time"] for row in rows] == ["14:00"]


@pytest.mark.parametrize("offset", [True, [4], {"h": 4}, 1e308, "1e400"])
async def test_user_time_offset_of_the_wrong_type_is_refused(
    client: httpx.AsyncClient, anna: Psychologist, offset: Any
) -> None:
    response = await client.post(
        "/webhook/get-aggregated-all", json=schedule_request(userTimeOffsetMsk=offset)
    )

    assert_error(response, 400, "INVALID_INPUT")


async def test_an_unknown_psychologist_name_is_not_found_everywhere(
    client: httpx.AsyncClient, database: Database, anna: Psychologist
) -> None:
    before = await snapshot(database)

    responses = [
        await client.get("/webhook/get-schedule", params={"psychologist": "Петров Пётр"}),
        await client.get("/webhook/get-slot", params={"psychologist": "Петров Пётр"}),
        await client.get(
            "/webhook/get-aggregated-schedule-by-psychologist", params={"utm_psy": "Петров Пётр"}
        ),
        await client.post("/webhook/get_general_slots", json={"psychologist_list": "Петров Пётр"}),
        await client.post(
            "/webhook/assign-session",
            json={"psychologist": "Петров Пётр", "date": "2026-03-04", "time": "14:00"},
            headers=ADMIN,
        ),
    ]

    for response in responses:
        assert_error(response, 404, "NOT_FOUND")
    assert await snapshot(database) == before


async def test_show_only_psy_with_an_unknown_name_lists_no_slots(
    client: httpx.AsyncClient, anna: Psychologist
) -> None:
    response = await client.post(
        "/webhook/get-aggregated-all", json=schedule_request(show_only_psy="Петров Пётр")
    )

    assert response.status_code == 200
    items = response.json()[0]["items"]
    assert items
    assert all(rows == [] for item in items for rows in item["slots"].values())


# --- text the database cannot hold -------------------------------------------------------------


async def test_nul_characters_are_refused_with_400_not_a_database_error(
    client: httpx.AsyncClient, database: Database, anna: Psychologist
) -> None:
    secret = anna.editor_secret
    before = await snapshot(database)

    responses = [
        await client.get("/webhook/get-slot", params={"secret": "a\x00b"}),
        await client.get("/webhook/get-schedule", params={"psychologist": "Иванова\x00Анна"}),
        await client.get("/webhook/get-aggregated-schedule-by-psychologist", params={"utm_psy": "\x00"}),
        await client.get("/webhook/get-root-planned-free-slot", params={"secret": secret, "slot": "\x00"}),
        await client.get(
            "/webhook/get-ticket-for-slot", params={"secret": "\x00", "date": "2026-03-04", "time": "14:00"}
        ),
        await client.post("/webhook/add-slot", json={"secret": "\x00", "slot": "05.03 10:00"}),
        await client.post("/webhook/delete-slot", json={"secret": secret, "id": "\x00"}),
        await client.post("/webhook/get-aggregated-all", json=schedule_request(show_only_psy="\x00")),
        await client.post("/webhook/get_general_slots", json={"psychologist_list": "Иванова Анна,\x00"}),
        await client.post("/webhook/assign-session", json={"psychologist": "\x00"}, headers=ADMIN),
        await client.post("/webhook/cancel-session", json={"ticket_id": "k\x00"}, headers=ADMIN),
        await client.post("/webhook/get-aggregated-all", json=schedule_request(form={"name": ["\x00"]})),
    ]

    for response in responses:
        assert_error(response, 400, "INVALID_INPUT")
    assert await snapshot(database) == before


@pytest.mark.parametrize(
    ("key", "length"),
    [("ticket", 65), ("meeting_link", 501), ("meeting_id", 201), ("calendar_meeting_id", 201)],
)
async def test_assign_session_refuses_a_field_longer_than_its_column(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, key: str, length: int
) -> None:
    before = await snapshot(database)
    row = {"psychologist": ANNA, "date": "2026-03-04", "time": "14:00", key: "x" * length}

    response = await client.post("/webhook/assign-session", json=row, headers=ADMIN)

    error = assert_error(response, 400, "INVALID_INPUT")
    assert error["details"] == [{"field": key}]
    assert await snapshot(database) == before
    fits = await client.post("/webhook/assign-session", json={**row, key: "x" * (length - 1)}, headers=ADMIN)
    assert fits.status_code == 200


async def test_a_deeply_nested_body_is_answered_without_a_server_error(
    client: httpx.AsyncClient, database: Database, anna: Psychologist
) -> None:
    before = await snapshot(database)
    deep = b'{"secret": "x", "slot": ' + b"[" * 5000 + b"]" * 5000 + b"}"

    response = await client.post(
        "/webhook/add-slot", content=deep, headers={"Content-Type": "application/json"}
    )

    assert 400 <= response.status_code < 500
    assert await snapshot(database) == before


# --- the broad sweep --------------------------------------------------------------------------------

GARBAGE_BODIES: list[bytes | None] = [
    None,
    b"",
    b"{",
    b"[]",
    b"[[]]",
    b'"x"',
    b"null",
    b"-1",
    b"\xff\xfe",
    b'{"secret": [1], "slot": {"a": 1}, "id": 5, "psychologist_list": 7, "userTimeOffsetMsk": {"x": 1},'
    b' "startDate": 5, "endDate": [], "repeat_period": null, "ticket_id": {"x": 1}, "show_only_psy": 3}',
    b'{"slot": "31.02 10:00", "id": "not-a-uuid", "psychologist": "", "date": "0001-01-01", "time": "00:00",'
    b' "userTimeOffsetMsk": "nan", "startDate": "9999-12-31", "endDate": "9999-12-31", "ticket_id": "x"}',
    b'{"slot": "01.01.0001 00:30", "userTimeZone": "\\u041c\\u0421\\u041a+4", "date": "9999-12-31",'
    b' "time": "23:59", "psychologist": "\\u0000", "ticket_id": "\\u0000", "show_only_psy": "\\u0000"}',
    b'{"slot": "31.12.9999 23:30", "userTimeZone": "\\u041c\\u0421\\u041a-15", "userTimeOffsetMsk": -15,'
    b' "psychologist_list": "' + b"a," * 2000 + b'x", "ticket": "' + b"t" * 5000 + b'"}',
]


def _compat_routes() -> list[tuple[str, str]]:
    """Every route of every module under `hraniteli.api.compat` (new modules are swept too)."""
    routes = []
    for module_info in pkgutil.iter_modules(compat.__path__):
        module = importlib.import_module(f"{compat.__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if router is None:
            continue
        for route in router.routes:
            if isinstance(route, APIRoute):
                routes.extend((method, route.path) for method in sorted(route.methods))
    assert len(routes) > 50
    return routes


def _garbage_queries(secret: str) -> list[dict[str, str]]:
    return [
        {},
        {"secret": secret},
        {"secret": secret, "startDate": "9999-12-31", "endDate": "9999-12-31"},
        {"secret": secret, "startDate": "0001-01-01", "endDate": "0001-01-02", "slot": "01.01.0001 00:00"},
        {"secret": "\x00", "psychologist": "\x00", "utm_psy": "\x00", "slot": "\x00"},
        {"secret": secret, "slot": "x" * 10_000, "date": "9999-12-31", "time": "23:59"},
        {"secret": secret, "date": "0001-01-01", "time": "00:00", "userTimeOffsetMsk": "1e400"},
        {"utm_psy": ANNA, "userTimeOffsetMsk": "-15", "startDate": "9999-12-01"},
        {"psychologist": ANNA, "userTimeOffsetMsk": "15", "startDate": "0001-01-01", "endDate": "0001-01-31"},
    ]


def _path_for(path: str, variant: int) -> str:
    values = ["abc", "0", "-15", "1e400", "nan", "%00", "15", "999999999999999999999"]
    return path.replace("{offset}", values[variant % len(values)])


async def test_no_garbage_makes_any_compat_path_fail_with_a_5xx_or_change_anything(
    client: httpx.AsyncClient, database: Database, anna: Psychologist
) -> None:
    before = await snapshot(database)
    failures = []

    for method, path in _compat_routes():
        for index, query in enumerate(_garbage_queries(anna.editor_secret)):
            for body in GARBAGE_BODIES if method in ("POST", "PUT", "PATCH") else [None]:
                url = _path_for(path, index)
                try:
                    response = await client.request(
                        method,
                        url,
                        params=query,
                        content=body,
                        headers={**ADMIN, "Content-Type": "application/json"},
                    )
                except Exception as exc:  # an unhandled error is what a client would see as a 500
                    failures.append((method, url, query, body, repr(exc)[:200]))
                    continue
                if response.status_code >= 500:
                    failures.append((method, url, query, body, response.status_code, response.text[:200]))

    assert failures == []
    assert await snapshot(database) == before
