"""J2 (contract §11): the research questionnaire → its row numbers → a matching application
that carries them → `update-contacts-stb` puts the contact on the research row."""

from __future__ import annotations

from typing import Any

import httpx

from hraniteli.db import Database
from hraniteli.models import Application, ResearchResponse
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
    assert isinstance(rid, int)
    assert isinstance(bid, int)
    assert rid > 0
    assert bid > 0
    async with database.unit_of_work(write=False) as session:
        row = await session.get(ResearchResponse, bid)
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
        row = await session.get(ResearchResponse, bid)
        assert row is not None
        assert (row.contact, row.contact_type, row.name) == ("@anna_k", "Telegram", "Анна")
        found = await session.get(Application, _uuid(stored["id"]))
        assert found is not None
        assert found.research_row_id == bid


async def test_j2_contacts_for_an_unknown_row_are_refused(client: httpx.AsyncClient) -> None:
    """A failure here makes [HN] show its error toast: it must be a clear 4xx, not a 500."""
    response = await client.put(
        "/webhook/update-contacts-stb",
        json={"rid": 999, "bid": 999, "contact": "@x", "contactType": "Telegram", "name": "X", "age": "30"},
    )
    assert 400 <= response.status_code < 500


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)
