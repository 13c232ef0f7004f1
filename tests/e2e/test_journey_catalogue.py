"""J3 (contract §11): the catalogue → a psychologist's card → a time → contacts: a direct
booking with the chosen psychologist; and the card questionnaire variant."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import httpx

from hraniteli.db import Database
from hraniteli.models import Booking, Slot
from tests.e2e.journey_helpers import (
    SUICIDE,
    add_slot,
    application,
    application_payload,
    client_slot_string,
    count_bookings,
    create_psychologist,
    free_rows,
    schedule_request,
)

CHOSEN = "Иванова Анна"
OTHER = "Белова Светлана"
SUPERVISOR = "Сидоров Иван"


async def seed(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    slots: dict[str, dict[str, str]] = {}
    _, secret = await create_psychologist(
        client,
        CHOSEN,
        sex="female",
        age=38,
        experience="5-10",
        main_modal="КПТ",
        min_price=3000,
        max_price=4000,
        queries=["Страх будущего и неопределенности"],
        skills=[SUICIDE],
        education=[
            {"title": "МГУ", "program_title": "Клиническая психология", "doc_type": "Диплом", "year": 2015}
        ],
    )
    slots[CHOSEN] = {s: await add_slot(client, secret, s) for s in ("04.03 14:00", "05.03 11:00")}
    _, secret = await create_psychologist(client, OTHER, sex="female")
    slots[OTHER] = {s: await add_slot(client, secret, s) for s in ("04.03 14:00",)}
    _, secret = await create_psychologist(client, SUPERVISOR, sex="male", group="supervision")
    slots[SUPERVISOR] = {s: await add_slot(client, secret, s) for s in ("04.03 15:00",)}
    return slots


def contact_stage_body(ticket: str, slot: str, name: str) -> dict[str, Any]:
    """[HN] SessionStages/ContactStage: real nulls for utm, `DD.MM HH:MM` slot, no questionnaire."""
    return {
        "utm_client": None,
        "utm_campaign": None,
        "utm_content": None,
        "utm_medium": None,
        "utm_source": None,
        "utm_term": None,
        "anxieties": [],
        "questions": [],
        "customQuestion": [],
        "diagnoses": [],
        "diagnoseInfo": "",
        "traumaticEvents": [],
        "clientStates": [],
        "selectedPsychologistsNames": [],
        "shownPsychologists": "",
        "psychos": [],
        "lastExperience": "",
        "amountExpectations": "",
        "age": "",
        "slots": [slot],
        "slots_objects": [],
        "contactType": "Telegram",
        "contact": "+79991234567",
        "name": "Ольга",
        "promocode": "",
        "ticket_id": ticket,
        "emptySlots": False,
        "userTimeZone": "МСК",
        "userTimeOffsetMsk": "0",
        "categoryType": "",
        "customCategory": "",
        "question_to_psychologist": "",
        "filtered_by_automatch_psy_names": [name],
        "_queries": "",
        "customTraumaticEvent": "",
        "customState": "",
    }


async def test_j3_catalogue_card_time_contact(client: httpx.AsyncClient, database: Database) -> None:
    slots = await seed(client)

    # 1. the catalogue: cards of the community, education, everyone's converted schedule
    response = await client.get("/cards")
    assert response.status_code == 200
    community = [card for card in response.json() if card["group"] == "Сообщество"]
    assert {card["name"] for card in community} == {CHOSEN, OTHER}
    card = next(card for card in community if card["name"] == CHOSEN)
    assert card["sex"] == "Женщина"
    assert card["min_session_price"] == 3000
    assert card["queries"] == "Страх будущего и неопределенности"
    assert SUICIDE in card["works_with"]
    others = {c["name"]: c["group"] for c in response.json() if c["group"] != "Сообщество"}
    assert others == {SUPERVISOR: "Супервизии"}

    response = await client.get("/edu-keys-pipeline-batch", params={"batch_size": 1000, "use_cache": "true"})
    assert response.status_code == 200
    education = [r for r in response.json() if r["psychologist"] == CHOSEN.replace(" ", "_")]
    assert education == [
        {
            "psychologist": "Иванова_Анна",
            "program_title": "Клиническая психология",
            "year": 2015,
            "title": "МГУ",
            "doc_type": "Диплом",
        }
    ]

    # 2. the Time modal: the client keeps the chosen psychologist's free rows, by pretty_date
    response = await client.post("/convert-schedule-timezone/0", json=schedule_request("", ageFilter=""))
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    assert "items" in body[0]
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for day in body[0]["items"]:
        for rows in day["slots"].values():
            for row in rows:
                if row["psychologist"] == CHOSEN and row["state"] == "Свободен":
                    by_day[day["pretty_date"]].append(row)
    assert {d: sorted(r["time"] for r in rows) for d, rows in by_day.items()} == {
        "04.03": ["14:00"],
        "05.03": ["11:00"],
    }
    row = by_day["04.03"][0]
    assert row["Дата Локальная"] == "2026-03-04"
    assert row["Время Локальное"] == "14:00"

    # 3. contacts → tilda-zayavka → t.me/HraniLiveBot?start=cd_…
    ticket = "cd_Xy7Qp2L"
    response = await client.post(
        "/webhook/tilda-zayavka", json=contact_stage_body(ticket, f"04.03 {row['time']}", CHOSEN)
    )
    assert response.status_code == 200, response.text

    stored = await application(client, ticket)
    assert stored["status"] == "booked"
    assert stored["kind"] == "card"
    assert stored["wanted_psychologists"] == [CHOSEN]
    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, uuid.UUID(stored["booking_id"]))
        assert booking is not None
        assert str(booking.slot_id) == slots[CHOSEN]["04.03 14:00"]
        other_slot = await session.get(Slot, uuid.UUID(slots[OTHER]["04.03 14:00"]))
        assert other_slot is not None
        assert other_slot.state == "free", "the other psychologist's hour stays"
    response = await client.post("/convert-schedule-timezone/0", json={})
    assert slots[CHOSEN]["04.03 14:00"] not in {r["id"] for r in free_rows(response.json())}


async def test_j3_card_questionnaire_with_show_only_psy(
    client: httpx.AsyncClient, database: Database
) -> None:
    """[HN] views/cards_form.tsx: the questionnaire of one card → its schedule → tilda-zayavka."""
    slots = await seed(client)
    ticket = "cd_k2j3h4"
    response = await client.post(
        "/webhook/init-form-tracking",
        json={"ticket_id": ticket, "form_type": "Заявка из карточки психолога", "step": "Начало"},
    )
    assert response.status_code == 200
    request = schedule_request(ticket, show_only_psy=CHOSEN)
    response = await client.post("/webhook/get-agregated-schedule-cards", json=request)
    assert response.status_code == 200, response.text
    rows = free_rows(response.json())
    assert {row["psychologist"] for row in rows} == {CHOSEN}
    assert {row["id"] for row in rows} == set(slots[CHOSEN].values())
    assert response.json()[0]["name_order"] == [CHOSEN]

    picked = next(row for row in rows if row["date"] == "2026-03-05")
    slot_string = client_slot_string(picked)
    assert slot_string == "05.3 11:00"
    body = application_payload(ticket, slots=[slot_string], chosen=[CHOSEN], matched=[CHOSEN])
    response = await client.post("/webhook/tilda-zayavka", json=body)
    assert response.status_code == 200, response.text
    stored = await application(client, ticket)
    assert stored["status"] == "booked"
    assert stored["kind"] == "card"
    assert await count_bookings(database, slot_id=uuid.UUID(slots[CHOSEN]["05.03 11:00"])) == 1


async def test_j3_show_only_psy_keeps_the_safety_filters(client: httpx.AsyncClient) -> None:
    """A card client with a suicide risk does not see a psychologist without that skill."""
    await seed(client)
    request = schedule_request("cd_p0o9i8", show_only_psy=OTHER)
    response = await client.post("/webhook/get-agregated-schedule-cards", json=request)
    assert response.status_code == 200
    assert free_rows(response.json()) == []
    # "continue anyway" ([HN] handleContinueAnyway): get-aggregated-all with show_only_psy
    response = await client.post(
        "/webhook/get-aggregated-all",
        json={
            "startDate": "2026-03-02",
            "endDate": "2026-04-02",
            "show_only_psy": OTHER,
            "userTimeOffsetMsk": 0,
        },
    )
    assert {row["psychologist"] for row in free_rows(response.json())} == {OTHER}
