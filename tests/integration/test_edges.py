"""Input at the edges of the clean API: dates, numbers, ids and nulls a database or `datetime`
cannot take get a 422 naming the field, never a 500 (or a 503 from the database), and change
nothing. Bounds: dates 2000-01-01 … 2100-12-31, offsets 0 … 2³¹−1 (docs/decisions.md)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from hraniteli.db import Database
from hraniteli.models import Application, Psychologist, SessionFeedback, Slot
from tests import payloads
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW

INT32_MAX = 2**31 - 1


def assert_invalid(response: httpx.Response, *fields: str) -> None:
    """A 422 in the error envelope whose details name every one of `fields`."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"]
    named = {detail.get("field") for detail in error["details"]}
    assert set(fields) <= named, error


async def count(database: Database, model: Any) -> int:
    async with database.unit_of_work(write=False) as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.fixture
async def anna(database: Database) -> Psychologist:
    psychologist = await make_psychologist(database, now=NOW, name="Иванова Анна")
    await make_slot(database, psychologist, start_at=msk(2026, 3, 4, 14), now=NOW)
    return psychologist


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"from": "9999-12-25", "to": "9999-12-31"}, "from"),
        ({"from": "2026-03-02", "to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
        ({"from": "1999-12-31", "to": "2000-01-02"}, "from"),
        ({"from": "2101-01-01"}, "from"),
    ],
)
@pytest.mark.parametrize("tz", ["Europe/Moscow", "Pacific/Kiritimati", "America/Adak"])
async def test_the_public_schedule_refuses_dates_outside_2000_to_2100(
    client: httpx.AsyncClient, anna: Psychologist, window: dict[str, str], field: str, tz: str
) -> None:
    """Anyone may read the schedule (no credential): year 9999 plus a day or a time zone used to
    overflow `datetime` (a 500)."""
    response = await client.get("/api/v1/schedule", params={**window, "tz": tz})

    assert_invalid(response, field)


async def test_the_public_schedule_serves_the_last_week_of_2100_in_any_zone(
    client: httpx.AsyncClient, anna: Psychologist
) -> None:
    for tz in ("Pacific/Kiritimati", "America/Adak", "Europe/Moscow"):
        response = await client.get(
            "/api/v1/schedule", params={"from": "2100-12-25", "to": "2100-12-31", "tz": tz}
        )
        assert response.status_code == 200, response.text
        assert response.json()["days"][-1]["date"] == "2100-12-31"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "9999-12-31T23:00:00+00:00"}, "from"),
        ({"from": "9999-12-31T23:00:00-05:00"}, "from"),
        ({"from": "9999-12-25T00:00:00+00:00", "to": "9999-12-31T00:00:00+00:00"}, "from"),
        ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
        ({"from": "2026-03-02T00:00:00+00:00", "to": "9999-12-31T00:00:00+00:00"}, "to"),
        ({"from": "2026-03-02T00:00:00"}, "from"),
    ],
)
async def test_listing_slots_refuses_instants_outside_2000_to_2100(
    client: httpx.AsyncClient, anna: Psychologist, params: dict[str, str], field: str
) -> None:
    """Admins and the psychologist (editor secret) list slots; year 9999 used to be a 500."""
    for headers in (ADMIN, {"X-Editor-Secret": anna.editor_secret}):
        response = await client.get(f"/api/v1/psychologists/{anna.id}/slots", params=params, headers=headers)
        assert_invalid(response, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start_at": "9999-12-31T10:00:00+00:00"}, "start_at"),
        ({"start_at": "9999-12-31T23:59:59+00:00"}, "start_at"),
        ({"start_at": "9999-12-30T10:00:00+00:00", "repeat": "weekly"}, "start_at"),
        ({"start_at": "2101-01-04T10:00:00+03:00"}, "start_at"),
        ({"local_date": "9999-12-31", "local_time": "23:00"}, "local_date"),
        ({"local_date": "9999-12-31", "local_time": "10:00"}, "local_date"),
        ({"local_date": "0001-01-01", "local_time": "10:00"}, "local_date"),
    ],
)
async def test_adding_a_slot_refuses_dates_outside_2000_to_2100(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, body: dict[str, str], field: str
) -> None:
    """Year 9999 was stored (a slot nobody could ever list), or a 500 near datetime.max."""
    for headers in (ADMIN, {"X-Editor-Secret": anna.editor_secret}):
        response = await client.post(f"/api/v1/psychologists/{anna.id}/slots", json=body, headers=headers)
        assert_invalid(response, field)

    assert await count(database, Slot) == 1


async def test_a_slot_late_in_2100_is_accepted(client: httpx.AsyncClient, anna: Psychologist) -> None:
    response = await client.post(
        f"/api/v1/psychologists/{anna.id}/slots",
        json={"local_date": "2100-12-30", "local_time": "23:00"},
        headers=ADMIN,
    )

    assert response.status_code == 201, response.text
    assert response.json()["slot"]["local_start"] == "2100-12-30T23:00:00+03:00"


async def test_an_application_refuses_chosen_times_outside_2000_to_2100(
    client: httpx.AsyncClient, database: Database
) -> None:
    """The public intake form: a chosen time of year 9999 overflowed on its way to Moscow time."""
    for start in ("9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+05:00"):
        response = await client.post(
            "/api/v1/applications", json={"number": "abc12", "chosen_starts": [start]}
        )
        assert_invalid(response, "chosen_starts.0")

    assert await count(database, Application) == 0


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/psychologists", "/api/v1/applications"])
@pytest.mark.parametrize("offset", [INT32_MAX + 1, 2**63, 10**30, -1])
async def test_an_offset_beyond_32_bits_is_refused(
    client: httpx.AsyncClient, anna: Psychologist, path: str, offset: int
) -> None:
    """Admin lists: SQLite cannot bind an int past 64 bits (a 500), asyncpg past 64 (a 503)."""
    response = await client.get(path, params={"offset": offset}, headers=ADMIN)

    assert_invalid(response, "offset")


@pytest.mark.parametrize("path", ["/api/v1/psychologists", "/api/v1/applications"])
async def test_the_largest_offset_is_an_empty_page(
    client: httpx.AsyncClient, anna: Psychologist, path: str
) -> None:
    response = await client.get(path, params={"offset": INT32_MAX}, headers=ADMIN)

    assert response.status_code == 200, response.text
    assert response.json() == []
    assert (await client.get(path, params={"offset": INT32_MAX})).status_code == 401


@pytest.mark.parametrize(("bid", "kept"), [(INT32_MAX + 1, None), (INT32_MAX, INT32_MAX), (2**63, None)])
async def test_an_application_forms_row_number_beyond_32_bits_is_not_kept(
    client: httpx.AsyncClient, database: Database, bid: int, kept: int | None
) -> None:
    """The public form (no credential): a research row number of 2³¹ passed the form's check and
    overflowed PostgreSQL's integer column (503); the application is kept without it."""
    response = await client.post(
        "/webhook/tilda-zayavka", json=payloads.application_payload(bid=bid, rid=None, ticket_id="big01")
    )

    assert response.status_code == 200, response.text
    async with database.unit_of_work(write=False) as session:
        stored = (await session.execute(select(Application.research_row_id))).scalars().all()
    assert stored == [kept]


async def test_feedback_for_an_application_number_longer_than_its_column_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    """rate-session (admin key) and the client's feedback form (public): a 5,000-character
    number reached PostgreSQL's 64-character column (503)."""
    number = "x" * 65

    rated = await client.post("/webhook/rate-session", json={"ticket_id": number, "rating": 5}, headers=ADMIN)
    form = await client.post("/webhook/client-os", json={"utm_client": number, "anketa": {"mark": "5"}})

    # the form's number is unproven (no link's proof): it gets what an unknown number gets
    for response, field, status in ((rated, "ticket_id", 400), (form, "utm_client", 404)):
        assert response.status_code == status, response.text
        assert response.json()["error"]["details"] == [{"field": field}]
    assert await count(database, SessionFeedback) == 0
    assert (
        await client.post("/webhook/rate-session", json={"ticket_id": number, "rating": 5})
    ).status_code == 401


# --- ids ------------------------------------------------------------------------------------

NOT_UUIDS = ["-" * 36, "g" * 36, "0" * 35 + "x", "{" + "0" * 34 + "}", "not-a-uuid"]


@pytest.mark.parametrize("value", NOT_UUIDS)
async def test_a_36_character_non_uuid_psychologist_id_is_refused(
    client: httpx.AsyncClient, anna: Psychologist, value: str
) -> None:
    """Helpful Hand tickets for an admin: the id passed a 36-character pattern, then uuid parsing
    raised (a 500)."""
    response = await client.get(
        "/api/v1/helpful-hand/tickets", params={"psychologist_id": value}, headers=ADMIN
    )

    assert_invalid(response, "psychologist_id")


async def test_helpful_hand_tickets_of_an_unknown_psychologist_are_not_found(
    client: httpx.AsyncClient, anna: Psychologist
) -> None:
    unknown = await client.get(
        "/api/v1/helpful-hand/tickets", params={"psychologist_id": str(uuid.uuid4())}, headers=ADMIN
    )
    stranger = await client.get("/api/v1/helpful-hand/tickets", params={"psychologist_id": str(anna.id)})

    assert unknown.status_code == 404
    assert stranger.status_code == 401


@pytest.mark.parametrize("value", NOT_UUIDS)
@pytest.mark.parametrize(
    ("method", "template", "field"),
    [
        ("GET", "/api/v1/psychologists/{id}", "psychologist_id"),
        ("PATCH", "/api/v1/psychologists/{id}", "psychologist_id"),
        ("GET", "/api/v1/psychologists/{id}/slots", "psychologist_id"),
        ("DELETE", "/api/v1/psychologists/{anna}/slots/{id}", "slot_id"),
        ("GET", "/api/v1/bookings/{id}", "booking_id"),
        ("GET", "/api/v1/bookings/{id}/timeline", "booking_id"),
        ("GET", "/api/v1/schedule?psychologist_id={id}", "psychologist_id.0"),
    ],
)
async def test_a_malformed_id_anywhere_is_a_422_naming_it(
    client: httpx.AsyncClient, anna: Psychologist, method: str, template: str, field: str, value: str
) -> None:
    url = template.format(id=value, anna=anna.id)
    body = {"debt": 1} if method == "PATCH" else None

    response = await client.request(method, url, json=body, headers=ADMIN)

    assert_invalid(response, field)


# --- nulls ----------------------------------------------------------------------------------

NOT_NULLABLE = [
    "name",
    "time_zone",
    "additional_modals",
    "skills",
    "queries",
    "education",
    "is_verified",
    "in_community",
    "is_onboarding_finished",
    "is_first_free",
    "is_help_hand",
    "is_all_with_price",
    "does_diagnostics",
    "help_hand_min_price",
    "group",
    "debt",
    "sessions_provided",
    "client_sex",
    "min_client_age",
    "max_client_age",
    "is_active",
    "allow_assignment",
]


@pytest.mark.parametrize("field", NOT_NULLABLE)
async def test_patching_a_field_that_cannot_be_empty_with_null_is_refused(
    client: httpx.AsyncClient, anna: Psychologist, field: str
) -> None:
    """Admin key: `{"additional_modals": null}` used to be stored and then fail the answer (500);
    `{"is_active": null}` was reported as a name conflict."""
    before = (await client.get(f"/api/v1/psychologists/{anna.id}", headers=ADMIN)).json()

    response = await client.patch(f"/api/v1/psychologists/{anna.id}", json={field: None}, headers=ADMIN)

    assert_invalid(response, field)
    after = (await client.get(f"/api/v1/psychologists/{anna.id}", headers=ADMIN)).json()
    assert after == before


async def test_null_clears_a_field_that_may_be_empty(client: httpx.AsyncClient, anna: Psychologist) -> None:
    await client.patch(f"/api/v1/psychologists/{anna.id}", json={"city": "Казань"}, headers=ADMIN)

    response = await client.patch(
        f"/api/v1/psychologists/{anna.id}", json={"city": None, "min_price": None}, headers=ADMIN
    )

    assert response.status_code == 200, response.text
    assert (response.json()["city"], response.json()["min_price"]) == (None, None)


async def test_creating_with_null_for_a_field_that_cannot_be_empty_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        "/api/v1/psychologists", json={"name": "Петров Пётр", "skills": None}, headers=ADMIN
    )

    assert_invalid(response, "skills")
    assert await count(database, Psychologist) == 0


async def test_a_price_range_broken_by_a_patch_is_refused_naming_the_field(
    client: httpx.AsyncClient, anna: Psychologist
) -> None:
    """The database's check caught it and the answer said "a psychologist with this name already
    exists" (409)."""
    await client.patch(
        f"/api/v1/psychologists/{anna.id}", json={"min_price": 1000, "max_price": 2000}, headers=ADMIN
    )

    response = await client.patch(f"/api/v1/psychologists/{anna.id}", json={"min_price": 5000}, headers=ADMIN)

    assert_invalid(response, "min_price")
    assert (await client.get(f"/api/v1/psychologists/{anna.id}", headers=ADMIN)).json()["min_price"] == 1000


# --- NUL characters -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["\x00", "Каз\x00ань"])
async def test_text_with_a_nul_character_is_refused_before_the_database(
    client: httpx.AsyncClient, database: Database, anna: Psychologist, value: str
) -> None:
    """PostgreSQL cannot store NUL in text: it used to answer 503 "the database is busy"."""
    created = await client.post(
        "/api/v1/psychologists", json={"name": "Петров Пётр", "city": value}, headers=ADMIN
    )
    patched = await client.patch(f"/api/v1/psychologists/{anna.id}", json={"about": value}, headers=ADMIN)
    nested = await client.patch(
        f"/api/v1/psychologists/{anna.id}", json={"education": [{"title": value}]}, headers=ADMIN
    )
    in_path = quote(value, safe="")
    by_number = await client.get(f"/api/v1/applications/{in_path}", headers=ADMIN)
    claimed = await client.post(
        f"/api/v1/helpful-hand/tickets/{in_path}/claim", headers={"X-Editor-Secret": anna.editor_secret}
    )
    funnel = await client.get("/api/v1/analytics/funnel", params={"form_type": value}, headers=ADMIN)

    assert_invalid(created, "city")
    assert_invalid(patched, "about")
    assert_invalid(nested, "education.0.title")
    assert_invalid(by_number, "number")
    assert_invalid(claimed, "number")
    assert_invalid(funnel, "form_type")
    assert await count(database, Psychologist) == 1
    assert (await client.get(f"/api/v1/psychologists/{anna.id}", headers=ADMIN)).json()["about"] is None


async def test_a_wall_clock_time_that_is_already_2101_in_utc_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    """23:00 on 31 December 2100 in New York is 2101 in UTC: the service's own bound answers."""
    psychologist = await make_psychologist(database, now=NOW, time_zone="America/New_York")

    response = await client.post(
        f"/api/v1/psychologists/{psychologist.id}/slots",
        json={"local_date": "2100-12-31", "local_time": "23:00"},
        headers=ADMIN,
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"] == [{"field": "slot"}]
    assert await count(database, Slot) == 0
