"""J6 (contract §11): re-booking ("перезапись") after a J1 booking — the previous answers,
the schedule by mode, and `reassign` creating a linked application that books.

The page passes `lead_number` from its URL to every call unchanged: the link the service sends
carries the client's proof in it (`<number>-<token>`), and without that proof every call answers
as for an unknown number. The feedback part of J6 is in tests/integration/lifecycle."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from hraniteli.db import Database
from hraniteli.kit.proof import Purpose
from hraniteli.models import Booking
from tests.conftest import ADMIN, PROOFS
from tests.e2e.journey_helpers import (
    PANIC,
    SUICIDE,
    add_slot,
    application,
    application_payload,
    count_bookings,
    create_psychologist,
    free_rows,
)

PREVIOUS = "Смирнова Ольга"
OTHER = "Соколова Дарья"
THIRD = "Климова Юлия"
UNSAFE = "Кузнецова Мария"
LEAD = "ld4k5j"
LINK = PROOFS.attach(Purpose.CLIENT, LEAD)
"""`lead_number` as the link the service sends carries it."""


async def booked_lead(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """Three compatible psychologists and one without the skill; the lead booked PREVIOUS."""
    slots: dict[str, dict[str, str]] = {}
    profiles: dict[str, dict[str, Any]] = {
        PREVIOUS: {"skills": [SUICIDE]},
        OTHER: {"skills": [SUICIDE, PANIC]},
        THIRD: {"skills": [SUICIDE]},
        UNSAFE: {"skills": [PANIC]},
    }
    for name, fields in profiles.items():
        _, secret = await create_psychologist(client, name, sex="female", **fields)
        slots[name] = {
            s: await add_slot(client, secret, s) for s in ("04.03 14:00", "11.03 14:00", "12.03 10:00")
        }
    body = application_payload(
        LEAD,
        slots=["04.3 14:00"],
        chosen=[PREVIOUS],
        matched=[PREVIOUS, OTHER, THIRD],
        client_states=[SUICIDE],
    )
    response = await client.post("/webhook/tilda-zayavka", json=body)
    assert response.status_code == 200, response.text
    assert (await application(client, LEAD))["status"] == "booked"
    return slots


async def previous_answers(client: httpx.AsyncClient) -> str:
    """I1, then the page joins the answers with ';' into `_queries`."""
    response = await client.get(
        "/webhook/get-ticket-info-for-reassigment-without-schedule", params={"lead_number": LINK}
    )
    assert response.status_code == 200, response.text
    form = response.json()["form"]
    assert form["question_to_psychologist"] == "Хочу разобраться с тревогой"
    assert form["clientStates"] == [SUICIDE]
    assert isinstance(form["traumaticEvents"], list)
    assert isinstance(form["diagnoses"], list)
    parts = [
        form["question_to_psychologist"],
        *form["traumaticEvents"],
        *form["clientStates"],
        *form["diagnoses"],
    ]
    return ";".join(p for p in parts if p)


async def schedule(client: httpx.AsyncClient, mode: str) -> dict[str, Any]:
    response = await client.get(
        "/webhook/get-ticket-info-for-reassigment", params={"lead_number": LINK, "mode": mode}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["psychologist"] == PREVIOUS
    assert isinstance(body["schedule"], list)
    return body


async def test_j6_rebooking_with_another_psychologist(client: httpx.AsyncClient, database: Database) -> None:
    slots = await booked_lead(client)
    queries = await previous_answers(client)

    by_time = await schedule(client, "time")
    rows = free_rows(by_time["schedule"])
    assert {row["psychologist"] for row in rows} == {PREVIOUS}
    assert {row["id"] for row in rows} == {slots[PREVIOUS]["11.03 14:00"], slots[PREVIOUS]["12.03 10:00"]}

    by_psychologist = await schedule(client, "psychologist")
    rows = free_rows(by_psychologist["schedule"])
    shown = {row["psychologist"] for row in rows}
    assert PREVIOUS not in shown
    assert UNSAFE not in shown, "only the psychologists matched before"
    assert shown == {OTHER, THIRD}

    await client.put("/webhook/update-tracking-step", json={"step": "Слоты", "ticket_id": LINK})
    await client.put("/webhook/update-tracker", json={"ticket_id": LINK, "form": {"ticket_id": LINK}})
    # the user picks OTHER's Thursday 10:00 and THIRD's Wednesday 14:00 (slots_to_db: DD.MM HH:mm)
    response = await client.post(
        "/webhook/reassign",
        json={
            "lead_number": LINK,
            "filtered_psychologists": f"{OTHER};{THIRD}",
            "slots": "12.03 10:00;11.03 14:00",
            "_queries": queries,
        },
    )
    assert 200 <= response.status_code < 300, response.text

    previous = await application(client, LEAD)
    rebooked = await application(client, f"{LEAD}-r1")
    assert rebooked["previous_id"] == previous["id"]
    assert rebooked["status"] == "booked"
    assert rebooked["contact"] == previous["contact"]
    assert rebooked["client_states"] == [SUICIDE]
    assert set(rebooked["wanted_psychologists"]) == {OTHER, THIRD}
    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, uuid.UUID(rebooked["booking_id"]))
        assert booking is not None
        # automatch pairs every named psychologist with every chosen time (docs/matching.md)
        chosen = {slots[name][time] for name in (OTHER, THIRD) for time in ("12.03 10:00", "11.03 14:00")}
        assert str(booking.slot_id) in chosen
        assert booking.application_ref == f"{LEAD}-r1"
    assert await count_bookings(database) == 2


async def test_j6_rebooking_the_same_psychologist_at_another_time(
    client: httpx.AsyncClient, database: Database
) -> None:
    slots = await booked_lead(client)
    queries = await previous_answers(client)
    rows = free_rows((await schedule(client, "time"))["schedule"])
    picked = next(row for row in rows if row["date"] == "2026-03-11")
    slot = f"{picked['date'][8:10]}.{picked['date'][5:7]} {picked['time']}"
    assert slot == "11.03 14:00"
    response = await client.post(
        "/webhook/reassign",
        json={"lead_number": LINK, "filtered_psychologists": PREVIOUS, "slots": slot, "_queries": queries},
    )
    assert 200 <= response.status_code < 300, response.text
    rebooked = await application(client, f"{LEAD}-r1")
    assert rebooked["status"] == "booked"
    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, uuid.UUID(rebooked["booking_id"]))
        assert booking is not None
        assert str(booking.slot_id) == slots[PREVIOUS]["11.03 14:00"]
        # the new session replaces the old one, whose hour is free again
        old = await session.get(Booking, uuid.UUID((await application(client, LEAD))["booking_id"]))
        assert old is not None
        assert (old.status, old.cancellation_reason) == ("cancelled", "клиент перезаписался")
    rows = free_rows((await schedule(client, "time"))["schedule"])
    assert slots[PREVIOUS]["04.03 14:00"] in {row["id"] for row in rows}

    # a second re-booking gets the next number, and the schedule no longer shows the hour
    rows = free_rows((await schedule(client, "time"))["schedule"])
    assert slots[PREVIOUS]["11.03 14:00"] not in {row["id"] for row in rows}
    response = await client.post(
        "/webhook/reassign",
        json={
            "lead_number": LINK,
            "filtered_psychologists": PREVIOUS,
            "slots": "12.03 10:00",
            "_queries": queries,
        },
    )
    assert 200 <= response.status_code < 300, response.text
    assert (await application(client, f"{LEAD}-r2"))["status"] == "booked"


async def test_j6_unknown_lead_is_a_clear_404(client: httpx.AsyncClient) -> None:
    for path in ("get-ticket-info-for-reassigment-without-schedule", "get-ticket-info-for-reassigment"):
        response = await client.get(f"/webhook/{path}", params={"lead_number": "nosuch", "mode": "time"})
        assert response.status_code == 404, path
    response = await client.post(
        "/webhook/reassign",
        json={"lead_number": "nosuch", "filtered_psychologists": "", "slots": "12.03 10:00"},
    )
    assert response.status_code == 404


async def test_j6_without_the_links_proof_nothing_is_revealed_or_changed(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Who may call: the client, with the link the service sent (or the service key). A stranger
    with the bare number, or a forged token, gets what an unknown number gets: 404, no answers,
    no schedule, no new booking."""
    await booked_lead(client)
    forged = f"{LEAD}-{'x' * 22}"
    other = PROOFS.attach(Purpose.CLIENT, "someone-else")
    for lead in (LEAD, forged, other, f"{LEAD}-{LINK[-22:-1]}"):
        for path in ("get-ticket-info-for-reassigment-without-schedule", "get-ticket-info-for-reassigment"):
            response = await client.get(f"/webhook/{path}", params={"lead_number": lead, "mode": "time"})
            assert response.status_code == 404, (path, lead)
            assert "Анна" not in response.text
            assert SUICIDE not in response.text
        response = await client.post(
            "/webhook/reassign",
            json={"lead_number": lead, "filtered_psychologists": OTHER, "slots": "12.03 10:00"},
        )
        assert response.status_code == 404, lead
    assert await count_bookings(database) == 1
    # the service itself (its API key) may
    response = await client.get(
        "/webhook/get-ticket-info-for-reassigment-without-schedule",
        params={"lead_number": LEAD},
        headers=ADMIN,
    )
    assert response.status_code == 200
