"""The legacy application endpoints of the bot/admin side (admin key), the diagnostic and
seed-002 intake forms, and the analytics extras: what an administrator or the bot would see."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.e2e.journey_helpers import add_slot, create_psychologist

ANNA, PETR = "Иванова Анна", "Петров Пётр"


async def _setup(client: httpx.AsyncClient) -> dict[str, str]:
    _, anna = await create_psychologist(
        client, ANNA, sex="female", telegram_id="101", is_help_hand=True, debt=1
    )
    _, petr = await create_psychologist(client, PETR, sex="male", telegram_id="102", debt=9)
    return {
        "anna_wed": await add_slot(client, anna, "04.03 14:00"),
        "petr_wed": await add_slot(client, petr, "04.03 14:00"),
        "petr_thu": await add_slot(client, petr, "05.03 10:00"),
        "anna_secret": anna,
    }


async def _application(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/applications/{number}", headers=ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_automatch_books_the_psychologist_with_most_quota_at_a_chosen_time(
    client: httpx.AsyncClient,
) -> None:
    await _setup(client)
    body = {
        "psychologists": f"{ANNA};{PETR}",
        "slots": "04.03 14:00;05.03 10:00",
        "tiket_info": {"ticket_id": "bot001", "name": "Олег", "age": "30", "contact": "@oleg"},
        "client_info": {"contactType": "Telegram"},
        "slots_id": "",
    }

    unauthorised = await client.post("/webhook/automatch", json=body)
    response = await client.post("/webhook/automatch", json=body, headers=ADMIN)
    again = await client.post("/webhook/automatch", json=body, headers=ADMIN)

    assert unauthorised.status_code == 401
    assert response.status_code == 200
    assert response.json()["success"] is True
    assert response.json()["assigned_psychologist"] == PETR  # 9 sessions of quota left against Anna's 1
    assert again.status_code == 409
    stored = await _application(client, "bot001")
    assert stored["status"] == "booked"
    assert stored["contact"] == "@oleg"


async def test_automatch_with_taken_times_hands_the_application_to_an_administrator(
    client: httpx.AsyncClient,
) -> None:
    await _setup(client)
    body = {
        "ticket_info": {"ticket_id": "bot002", "contact": "@ira"},
        "psychologists": ANNA,
        "slots": "06.03 09:00",
    }

    response = await client.post("/webhook/automatch", json=body, headers=ADMIN)

    assert response.json()["success"] is False
    assert response.json()["status"] == "handed_to_admin"
    assert "занято" in response.json()["reason"]


async def test_assign_and_auto_assign_psychologist(client: httpx.AsyncClient) -> None:
    await _setup(client)
    await client.post("/webhook/tilda-zayavka", json={"ticket_id": "t1", "contact": "@a", "slots": []})
    await client.post("/webhook/tilda-zayavka", json={"ticket_id": "t2", "contact": "@b", "slots": []})

    assigned = await client.post(
        "/webhook/assign-psychologist",
        json={"ticket_id": "t1", "psychologist_name": ANNA, "slot_time": "04.03 14:00"},
        headers=ADMIN,
    )
    auto = await client.post(
        "/webhook/auto-assign-psychologist",
        json={"ticket_id": "t2", "psychologist_list": [ANNA, PETR], "slot_time": "04.03 14:00"},
        headers=ADMIN,
    )
    unknown = await client.post(
        "/webhook/assign-psychologist",
        json={"ticket_id": "t1", "psychologist_name": "Никто Никтов", "slot_time": "04.03 14:00"},
        headers=ADMIN,
    )

    assert assigned.json() == {"success": True, "message": f"Клиент записан к {ANNA}"}
    assert auto.json()["assigned_psychologist"] == PETR  # Anna's 14:00 is taken now
    assert unknown.status_code == 404


async def test_ticket_status_hand_off_and_the_assignment_coefficient(client: httpx.AsyncClient) -> None:
    await _setup(client)
    await client.post("/webhook/tilda-zayavka", json={"ticket_id": "t3", "contact": "@c", "slots": []})

    handed = await client.post(
        "/webhook/send-ticket-data-to-admin",
        json={"tiket_info": {"ticket_id": "t3"}, "psychologists": ANNA, "slots": "04.03 14:00"},
        headers=ADMIN,
    )
    closed = await client.post(
        "/webhook/update-ticket-status", json={"ticket_id": "t3", "status": "closed"}, headers=ADMIN
    )
    bad = await client.post(
        "/webhook/update-ticket-status", json={"ticket_id": "t3", "status": "??"}, headers=ADMIN
    )
    coefficient = await client.get(
        "/webhook/get-assigment-coeff", params={"psychologist_name": PETR}, headers=ADMIN
    )

    assert handed.json()["success"] is True
    assert closed.json()["success"] is True
    assert bad.status_code == 400
    history = [h["status"] for h in (await _application(client, "t3"))["history"]]
    assert history[-2:] == ["handed_to_admin", "closed"]
    assert coefficient.json()["coefficient"] == 9
    assert coefficient.json()["debt"] == 9


async def test_confirm_ticket_lets_a_helpful_hand_psychologist_take_an_application_once(
    client: httpx.AsyncClient,
) -> None:
    await _setup(client)
    registered = await client.post(
        "/webhook/register-ticket-for-help-hand",
        json={"ticket_id": "hh_abcdefg", "categoryType": "Бесплатно", "contact": "@hh", "name": "Оля"},
    )
    taken = await client.post(
        "/webhook/confirm-ticket", json={"ticket_id": "hh_abcdefg", "psychologist_name": ANNA}, headers=ADMIN
    )
    listed = await client.get("/webhook/get-helpful-hand-tickets", headers=ADMIN)

    assert registered.status_code == 200
    assert taken.json()["success"] is True
    ticket = listed.json()["tickets"][0]
    assert (ticket["id"], ticket["psychologist_name"], ticket["status"]) == ("hh_abcdefg", ANNA, "claimed")
    assert ticket["client_telegram"] == "@hh" or ticket["client_name"] == "Оля"


async def test_diagnostic_forms_and_the_seed_002_intake(client: httpx.AsyncClient) -> None:
    ids = await _setup(client)
    await client.patch(
        f"/api/v1/psychologists/{(await client.get('/api/v1/psychologists', headers=ADMIN)).json()[0]['id']}",
        json={"does_diagnostics": True},
        headers=ADMIN,
    )
    schedule = await client.post(
        "/webhook/schedule-diagnosis-v2", json={"form": {"ticket_id": "ds_x1"}, "startDate": "2026-03-02"}
    )
    diagnostic = await client.post(
        "/webhook/tilda-zayavka-diagnostic-v2",
        json={
            "ticket_id": "ds_x1",
            "contact": "@d",
            "slots": ["04.3 14:00"],
            "selectedPsychologistsNames": [ANNA],
        },
    )
    request = await client.post(
        "/webhook/diagnostic-session-request",
        json={
            "client_name": "Ира",
            "client_telegram": "@ira",
            "request_text": "Диагностика",
            "utm": {"source": "vk"},
        },
    )
    seed_form = await client.post(
        "/webhook/submit-application",
        json={
            "name": "Лев",
            "age": 40,
            "contact": {"type": "telegram", "value": "@lev"},
            "selected_slots": ["05.03 10:00"],
            "preferences": {"gender": "Мужской", "price_max": 5000},
        },
    )
    booked_diagnostic = await client.post(
        "/webhook/process-diagnostic-session-request",
        json={"client_id": request.json()["ticket_id"], "slot_id": ids["petr_wed"]},
        headers=ADMIN,
    )

    assert schedule.json()[0]["name_order"] == [ANNA]
    assert diagnostic.status_code == 200
    assert (await _application(client, "ds_x1"))["status"] == "booked"
    assert request.json()["ticket_id"].startswith("ds_")
    assert seed_form.status_code == 200
    seed_app = await _application(client, seed_form.json()["ticket_id"])
    assert (seed_app["status"], seed_app["wanted_psychologist_sex"]) == ("booked", "male")
    assert booked_diagnostic.status_code == 409  # Petr does no diagnostics: nothing booked…
    assert (await _application(client, request.json()["ticket_id"]))["status"] == "new"  # …or changed


async def test_analytics_extras_are_recorded_for_the_funnel(client: httpx.AsyncClient) -> None:
    form = {"ticket_id": "f1", "age": "27"}
    await client.post(
        "/webhook/init-form-tracking",
        json={"ticket_id": "f1", "form_type": "Заявка на подбор психолога", "step": "Начало"},
    )
    await client.put("/webhook/step-analytics", json={"ticketID": "f1", "field": "client_age", "value": "27"})
    await client.put(
        "/webhook/update-tracker", json={"ticket_id": "f1", "form": form, "formPsyClientInfo": {}}
    )
    await client.put("/webhook/update-analytics-before-slots", json={"ticket_id": "f1", "form": form})
    missing = await client.put("/webhook/update-tracking-step", json={"ticket_id": "f1"})

    funnel = await client.get(
        "/api/v1/analytics/funnel", params={"form_type": "Заявка на подбор психолога"}, headers=ADMIN
    )

    assert missing.status_code == 400
    assert {s["step"]: s["sessions"] for s in funnel.json()["steps"]} == {"Начало": 1, "Слоты": 1}
