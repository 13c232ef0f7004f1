"""J1 (contract §11): the matching questionnaire → matched psychologists' schedules → pick a
slot → `tilda-zayavka`, replayed request by request as [HN] /application_form sends them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hraniteli.db import Database
from hraniteli.models import Booking, Slot
from tests.conftest import ADMIN, LiveServer
from tests.e2e.journey_helpers import (
    MATCHING_FORM,
    PANIC,
    SUICIDE,
    add_slot,
    application,
    application_payload,
    client_slot_string,
    count_bookings,
    create_psychologist,
    editor_hour,
    free_ids_of,
    free_rows,
    schedule_request,
    upcoming_workday,
)

COMPATIBLE = "Смирнова Ольга"
ALSO_COMPATIBLE = "Соколова Дарья"
WRONG_SEX = "Петров Пётр"
NO_SUICIDE_SKILL = "Кузнецова Мария"
TOO_YOUNG_ONLY = "Волкова Ирина"
NO_QUOTA = "Орлова Елена"

SLOT_ROW_KEYS = {
    "id",
    "psychologist",
    "date",
    "time",
    "state",
    "ticket",
    "client_id",
    "meeting_link",
    "meeting_id",
    "calendar_meeting_id",
    "confirmed",
    "auto_assigned",
    "auto_canceled",
    "is_helpful_hand",
    "Дата Локальная",
    "Время Локальное",
}
STAGES = [
    ("Имя", "client_name", "Анна"),
    ("Возраст клиента", "client_age", "27"),
    ("Пол клиента", "client_sex", "Женский"),
    ("Что важно в психологе", "client_preferences", ["Чуткость, мягкость, умение выслушивать"]),
    ("Пол психолога", "psychologist_sex", "female"),
    ("Запрос клиента", "psy_queries", "Хочу разобраться с тревогой"),
    ("Состояние клиента", "client_state", [SUICIDE]),
    ("Травматическое событие", "traumatic_events", ["Ничего из вышеперечисленного"]),
    ("Психические заболевания", "diagnose", ["Нет диагноза"]),
]


@dataclass
class Seeded:
    ids: dict[str, str]
    secrets: dict[str, str]
    slots: dict[tuple[str, str], str]
    """(name, "DD.MM HH:mm") → slot id"""


async def seed(client: httpx.AsyncClient) -> Seeded:
    """Two compatible psychologists and four that one rule each leaves out, all free on
    Wednesday 4 March at 14:00 (Moscow)."""
    profiles: dict[str, dict[str, Any]] = {
        COMPATIBLE: {"sex": "female", "skills": [SUICIDE], "queries": ["Хочу разобраться с тревогой"]},
        ALSO_COMPATIBLE: {"sex": "female", "skills": [SUICIDE, PANIC]},
        WRONG_SEX: {"sex": "male", "skills": [SUICIDE]},
        NO_SUICIDE_SKILL: {"sex": "female", "skills": [PANIC]},
        TOO_YOUNG_ONLY: {"sex": "female", "skills": [SUICIDE], "min_client_age": 18, "max_client_age": 25},
        NO_QUOTA: {"sex": "female", "skills": [SUICIDE], "debt": 0},
    }
    seeded = Seeded({}, {}, {})
    for name, fields in profiles.items():
        seeded.ids[name], seeded.secrets[name] = await create_psychologist(client, name, **fields)
        for slot in ("04.03 14:00", "05.03 10:00"):
            seeded.slots[(name, slot)] = await add_slot(client, seeded.secrets[name], slot)
    seeded.slots[(ALSO_COMPATIBLE, "06.03 16:00")] = await add_slot(
        client, seeded.secrets[ALSO_COMPATIBLE], "06.03 16:00"
    )
    return seeded


async def questionnaire(client: httpx.AsyncClient, ticket: str) -> None:
    """Page load and the stages up to the diagnosis: tracking calls the page fires."""
    response = await client.post(
        "/webhook/init-form-tracking",
        json={"ticket_id": ticket, "form_type": MATCHING_FORM, "step": "Начало"},
    )
    assert response.status_code == 200
    for step, field, value in STAGES:
        response = await client.put("/webhook/update-tracking-step", json={"step": step, "ticket_id": ticket})
        assert response.status_code == 200
        response = await client.put(
            "/webhook/step-analytics", json={"ticketID": ticket, "field": field, "value": value}
        )
        assert response.status_code == 200


async def submit(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/webhook/tilda-zayavka", json=body)
    assert response.status_code == 200, response.text  # [HN] checks `=== 200`


async def test_j1_matching_questionnaire_to_booking(client: httpx.AsyncClient, database: Database) -> None:
    seeded = await seed(client)
    ticket = "k3f9ab"
    await questionnaire(client, ticket)

    # 3. the matched schedule
    response = await client.post("/webhook/get-agregated-schedule-v2", json=schedule_request(ticket))
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    days = body[0]["items"]
    assert days, "the window has days"
    assert all(date.fromisoformat(day["date"]).weekday() != 6 for day in days), "Sundays are closed"
    rows = free_rows(body)
    shown = {row["psychologist"] for row in rows}
    assert shown == {COMPATIBLE, ALSO_COMPATIBLE}
    # ranked: Smirnova's queries cover the client's request (docs/matching.md, score)
    assert body[0]["name_order"] == [COMPATIBLE, ALSO_COMPATIBLE]
    for row in rows:
        assert set(row) >= SLOT_ROW_KEYS
        assert row["id"]
        assert row["date"]
        assert row["time"].endswith(":00")

    # the catalogue cards; the client keeps those with a free slot, in `name_order`
    cards = (await client.get("/cards")).json()
    by_name = {card["name"]: card for card in cards}
    kept = [by_name[name] for name in body[0]["name_order"] if name in by_name]
    assert [card["name"] for card in kept] == body[0]["name_order"]
    assert all("debt" not in card and "editor_secret" not in card for card in cards)

    # 4. the psychologist stage: the user picks Smirnova's Wednesday 14:00
    (picked,) = [
        row
        for row in rows
        if row["psychologist"] == COMPATIBLE and row["date"] == "2026-03-04" and row["time"] == "14:00"
    ]
    slot_string = client_slot_string(picked)
    assert slot_string == "04.3 14:00"
    for step in ("Слоты", "Промокод", "Контакты клиента"):
        await client.put("/webhook/update-tracking-step", json={"step": step, "ticket_id": ticket})

    # 6. the phone stage
    await submit(
        client,
        application_payload(ticket, slots=[slot_string], chosen=[COMPATIBLE], matched=body[0]["name_order"]),
    )
    # 7. gratitude stage
    response = await client.put(
        "/webhook/update-tracking-step", json={"step": "Заявка отправлена", "ticket_id": ticket}
    )
    assert response.status_code == 200

    # server side: the application, its candidates, its booking
    stored = await application(client, ticket)
    assert stored["status"] == "booked"
    assert stored["kind"] == "matching"
    assert stored["promocode"] == "PROMO"
    assert stored["utm"] == {}, "the literal 'null' utm values are no values"
    assert stored["client_name"] == "Анна"
    assert stored["client_age"] == 27
    assert stored["client_sex"] == "female"
    assert stored["contact"] == "@anna_k"
    assert stored["contact_type"] == "Telegram"
    assert stored["client_states"] == [SUICIDE]
    assert stored["wanted_psychologists"] == [COMPATIBLE]
    assert stored["chosen_slots"] == ["04.3 14:00"]
    assert COMPATIBLE in stored["result_reason"]
    candidates = {c["psychologist_id"]: c for c in stored["candidates"]}
    assert set(candidates) == {seeded.ids[COMPATIBLE], seeded.ids[ALSO_COMPATIBLE]}
    assert all(c["reason"] for c in candidates.values())
    assert [h["status"] for h in stored["history"]][-1] == "booked"

    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, _uuid(stored["booking_id"]))
        assert booking is not None
        assert str(booking.slot_id) == seeded.slots[(COMPATIBLE, "04.03 14:00")]
        assert booking.start_at == datetime(2026, 3, 4, 11, 0, tzinfo=UTC)  # 14:00 MSK, year inferred
        assert booking.application_ref == ticket
        assert booking.is_auto_assigned
        assert not booking.is_helpful_hand

    # the slot is gone for everyone else …
    booked_id = seeded.slots[(COMPATIBLE, "04.03 14:00")]
    assert booked_id not in await free_ids_of(client, COMPATIBLE, "2026-03-04")
    again = await client.post("/webhook/get-agregated-schedule-v2", json=schedule_request("zz9yx"))
    assert booked_id not in {row["id"] for row in free_rows(again.json())}
    assert seeded.slots[(WRONG_SEX, "04.03 14:00")] in await free_ids_of(client, WRONG_SEX, "2026-03-04")
    # … and booked in the psychologist's own grid
    (grid_row,) = await editor_hour(client, seeded.secrets[COMPATIBLE], date(2026, 3, 4), "14:00")
    assert grid_row["id"] == booked_id
    assert grid_row["status"] == "Забронирован"

    # the funnel counts the steps of this form
    response = await client.get(
        "/api/v1/analytics/funnel", params={"form_type": MATCHING_FORM}, headers=ADMIN
    )
    assert response.status_code == 200
    steps = {s["step"]: s["sessions"] for s in response.json()["steps"]}
    for step in ["Начало", *(s for s, _, _ in STAGES), "Слоты", "Промокод", "Контакты клиента"]:
        assert steps[step] == 1, step
    assert steps["Заявка отправлена"] == 1


async def test_j1_resubmitting_the_same_application_is_idempotent(
    client: httpx.AsyncClient, database: Database
) -> None:
    await seed(client)
    ticket = "q7w8e9"
    body = application_payload(ticket, slots=["04.3 14:00"], chosen=[COMPATIBLE], matched=[COMPATIBLE])
    await submit(client, body)
    await submit(client, body)  # a double click / a retry after a network error

    response = await client.get("/api/v1/applications", headers=ADMIN)
    assert [a["number"] for a in response.json()] == [ticket]
    assert (await application(client, ticket))["status"] == "booked"
    assert await count_bookings(database) == 1
    assert await count_bookings(database, application_ref=ticket) == 1


async def test_j1_second_client_choosing_a_taken_slot_goes_to_an_administrator(
    client: httpx.AsyncClient, database: Database
) -> None:
    seeded = await seed(client)
    await submit(client, application_payload("first1", slots=["04.3 14:00"], chosen=[COMPATIBLE], matched=[]))
    # the second client's page had loaded the schedule before the first booked
    await submit(
        client,
        application_payload(
            "secnd2",
            slots=["04.3 14:00"],
            chosen=[COMPATIBLE],
            matched=[COMPATIBLE],
            contact="@boris_m",
            name="Борис",
        ),
    )
    first = await application(client, "first1")
    second = await application(client, "secnd2")
    assert first["status"] == "booked"
    assert second["status"] == "handed_to_admin"
    assert second["booking_id"] is None
    assert second["result_reason"], "the administrator sees why"
    assert "занято" in second["result_reason"]
    assert await count_bookings(database) == 1
    async with database.unit_of_work(write=False) as session:
        slot = await session.get(Slot, _uuid(seeded.slots[(COMPATIBLE, "04.03 14:00")]))
        assert slot is not None
        assert slot.state == "booked"
        bookings = (await session.execute(select(Booking.application_ref))).scalars().all()
        assert bookings == ["first1"]


async def test_j1_old_form_local_time_slot_string(client: httpx.AsyncClient, database: Database) -> None:
    """[OLD] forms send `${pretty_date} ${slotTime}` in the client's local time with `userTimeZone`."""
    seeded = await seed(client)
    body = application_payload(
        "Ab3dE5f", slots=["04.03 18:00"], chosen=[COMPATIBLE], matched=[], userTimeZone="МСК+4"
    )
    body["userTimeOffsetMsk"] = 4
    await submit(client, body)
    stored = await application(client, "Ab3dE5f")
    assert stored["status"] == "booked"
    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, _uuid(stored["booking_id"]))
        assert booking is not None
        assert str(booking.slot_id) == seeded.slots[(COMPATIBLE, "04.03 14:00")]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (WRONG_SEX, "wrong sex asked for"),
        (NO_SUICIDE_SKILL, "no skill for the client's state"),
        (TOO_YOUNG_ONLY, "outside the client age range"),
    ],
)
async def test_j1_naming_an_unsafe_psychologist_does_not_book(
    client: httpx.AsyncClient, database: Database, name: str, why: str
) -> None:
    """Safety filters hold even when the client named the psychologist (docs/matching.md)."""
    await seed(client)
    await submit(client, application_payload("unsafe1", slots=["04.3 14:00"], chosen=[name], matched=[]))
    stored = await application(client, "unsafe1")
    assert stored["status"] == "handed_to_admin", why
    assert await count_bookings(database) == 0


async def test_j1_naming_a_psychologist_without_quota_still_books(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Quota steers the service's own choices; a psychologist the client chose is booked."""
    seeded = await seed(client)
    await submit(client, application_payload("quota1", slots=["05.3 10:00"], chosen=[NO_QUOTA], matched=[]))
    stored = await application(client, "quota1")
    assert stored["status"] == "booked"
    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, _uuid(stored["booking_id"]))
        assert booking is not None
        assert str(booking.slot_id) == seeded.slots[(NO_QUOTA, "05.03 10:00")]


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


@pytest.mark.server
async def test_j1_double_click_concurrent_submissions_all_answer_200(
    live_server: LiveServer, database: Database
) -> None:
    """The same application sent several times at once (a double click, a retry while the first
    is in flight): every copy gets the 200 the page insists on; one application, one booking."""
    day = upcoming_workday(2)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        _, secret = await create_psychologist(http, COMPATIBLE, sex="female", skills=[SUICIDE])
        slot_id = await add_slot(http, secret, f"{day:%d.%m} 14:00")
        body = application_payload(
            "dbl7k2", slots=[f"{day:%d}.{day.month} 14:00"], chosen=[COMPATIBLE], matched=[COMPATIBLE]
        )
        responses = await asyncio.gather(*(http.post("/webhook/tilda-zayavka", json=body) for _ in range(5)))
        assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
        response = await http.get("/api/v1/applications", headers=ADMIN)
        assert [a["number"] for a in response.json()] == ["dbl7k2"]
        assert response.json()[0]["status"] == "booked"
    assert await count_bookings(database) == 1
    assert await count_bookings(database, slot_id=_uuid(slot_id)) == 1
