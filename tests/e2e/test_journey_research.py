"""J2 (contract §11): the research questionnaire → its row numbers → a matching application
that carries them → `update-contacts-stb` puts the contact on the research row."""

from __future__ import annotations

from typing import Any

import httpx

from hraniteli.db import Database
from hraniteli.kit.proof import Purpose, split
from hraniteli.models import Application, ResearchResponse
from tests.conftest import PROOFS
from tests.e2e.journey_helpers import (
    RESEARCH_FORM,
    SUICIDE,
    add_slot,
    application,
    application_payload,
    create_psychologist,
    form_psy_client_info,
)
from tests.payloads import UTM_NULL

PSYCHOLOGIST = "Смирнова Ольга"
RESEARCH_NOTE = "Клиент перешёл из исследовательской анкеты"


def research_body() -> dict[str, Any]:
    """[HN] ResearchStages/FinalStage: flat, no wrapper, the Cyrillic "С" in `selectionСriteria`."""
    return {
        "age": "",
        "city": "Казань",
        "sex": "",
        "psychoEducated": "Нет",
        "anxieties": [],
        "customAnexiety": "",
        "hasPsychoExperience": "Да, я работал(а) с психологом/психотерапевтом",
        "meetType": "Онлайн",
        "selectionСriteria": "Через сервис, который сам подбирает подходящего специалиста",
        "custmCreteria": "",
        "importancePsycho": [],
        "customImportance": "",
        "agePsycho": "",
        "sexPsycho": "",
        "priceLastSession": "Меньше 3000 руб.",
        "durationSession": "2-3 месяца",
        "reasonCancel": "Дорого",
        "pricePsycho": "Меньше 3000 руб.",
        "reasonNonApplication": "",
        "contactType": "",
        "contact": "",
        "name": "",
        "is_adult": False,
        "is_last_page": False,
        "occupation": "Фрилансер/самозанятый/работаю на себя",
        **UTM_NULL,
        "referer": "https://hrani.live/psy-client-info",
    }


async def test_j2_research_row_linked_to_the_application(
    client: httpx.AsyncClient, database: Database
) -> None:
    _, secret = await create_psychologist(client, PSYCHOLOGIST, sex="female", skills=[SUICIDE])
    await add_slot(client, secret, "04.03 14:00")

    # 1. the research form
    research_ticket = "r5t6y7"
    response = await client.post(
        "/webhook/init-form-tracking",
        json={"ticket_id": research_ticket, "form_type": RESEARCH_FORM, "step": "Начало"},
    )
    assert response.status_code == 200
    for step in ("Трудовое положение", "Формат сессии", "Исследовательская часть отправлена"):
        response = await client.put(
            "/webhook/update-tracking-step", json={"step": step, "ticket_id": research_ticket}
        )
        assert response.status_code == 200

    # 2. final stage mount: the row, then its numbers
    response = await client.post("/webhook/research-tilda-zayavka", json=research_body())
    assert response.status_code == 200, response.text
    response = await client.get("/webhook/get-sheets-row-number")
    assert response.status_code == 200
    numbers = response.json()
    rid, bid = numbers["rowId"], numbers["baserowId"]
    assert rid == bid
    row_id = int(split(bid).ref)
    assert bid == PROOFS.attach(Purpose.RESEARCH, str(row_id)), "the row number carries its proof"
    async with database.unit_of_work(write=False) as session:
        row = await session.get(ResearchResponse, row_id)
        assert row is not None
        assert row.raw["selectionСriteria"] == "Через сервис, который сам подбирает подходящего специалиста"
        assert row.raw["occupation"] == "Фрилансер/самозанятый/работаю на себя"
        assert row.contact is None

    # 3. "Подобрать психолога" → J1 with ?research=true
    ticket = "m1n2b3"
    info = form_psy_client_info(
        is_last_page=True,
        contact="@anna_k",
        sexPsycho="Женщина",
        city="Казань",
        meetType="Онлайн",
        occupation="Фрилансер/самозанятый/работаю на себя",
    )
    body = application_payload(
        ticket,
        slots=["04.3 14:00"],
        chosen=[PSYCHOLOGIST],
        matched=[PSYCHOLOGIST],
        promocode=RESEARCH_NOTE,
        rid=rid,
        bid=bid,
        formPsyClientInfo=info,
    )
    response = await client.post("/webhook/tilda-zayavka", json=body)
    assert response.status_code == 200, response.text
    response = await client.put(
        "/webhook/update-contacts-stb",
        json={
            "rid": rid,
            "bid": bid,
            "contact": "@anna_k",
            "contactType": "Telegram",
            "name": "Анна",
            "age": "27",
            "formPsyClientInfo": info,
        },
    )
    assert response.status_code == 200, response.text

    stored = await application(client, ticket)
    assert stored["status"] == "booked"
    assert stored["promocode"] == RESEARCH_NOTE
    async with database.unit_of_work(write=False) as session:
        row = await session.get(ResearchResponse, row_id)
        assert row is not None
        assert (row.contact, row.contact_type, row.name) == ("@anna_k", "Telegram", "Анна")
        found = await session.get(Application, _uuid(stored["id"]))
        assert found is not None
        assert found.research_row_id == row_id


async def test_j2_contacts_for_an_unknown_row_are_refused(client: httpx.AsyncClient) -> None:
    """A failure here makes [HN] show its error toast: it must be a clear 4xx, not a 500."""
    response = await client.put(
        "/webhook/update-contacts-stb",
        json={"rid": 999, "bid": 999, "contact": "@x", "contactType": "Telegram", "name": "X", "age": "30"},
    )
    assert 400 <= response.status_code < 500


async def test_j2_only_the_sender_of_a_row_learns_its_number_and_sets_its_contact(
    app: Any, client: httpx.AsyncClient, database: Database
) -> None:
    """Who may call: the person who sent the questionnaire (the row numbers come back to them
    with a proof). Someone else asking for "the newest row" gets nulls, and row ids alone
    (sequential, guessable) change nothing."""
    response = await client.post("/webhook/research-tilda-zayavka", json=research_body())
    assert response.status_code == 200
    mine = (await client.get("/webhook/get-sheets-row-number")).json()
    row_id = int(split(mine["baserowId"]).ref)

    stranger = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5000)), base_url="http://testserver"
    )
    async with stranger:
        theirs = (await stranger.get("/webhook/get-sheets-row-number")).json()
        assert theirs == {"rowId": None, "baserowId": None, "row": None}
        attempts = [
            {"bid": row_id, "rid": row_id},
            {"bid": str(row_id), "rid": str(row_id)},
            {"bid": f"{row_id}-{'A' * 22}"},
            {"bid": "²"},
            {"bid": "9" * 400},
            {"bid": -1},
            {"rid": PROOFS.attach(Purpose.CLIENT, str(row_id))},  # a proof for something else
        ]
        for attempt in attempts:
            response = await stranger.put(
                "/webhook/update-contacts-stb",
                json={**attempt, "contact": "@intruder", "contactType": "Telegram", "name": "Чужой"},
            )
            assert 400 <= response.status_code < 500, (attempt, response.text)
    async with database.unit_of_work(write=False) as session:
        row = await session.get(ResearchResponse, row_id)
        assert row is not None
        assert row.contact is None, "nothing was overwritten"


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)
