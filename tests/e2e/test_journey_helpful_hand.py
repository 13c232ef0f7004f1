"""J4 (contract §11): "Рука помощи" — the client registers, a psychologist takes the
application, the client books that psychologist's slot at least a day ahead; and the race of
psychologists claiming one application at once, against a real server process."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hraniteli.db import Database
from hraniteli.kit.moscow import MSK
from hraniteli.kit.proof import Purpose
from hraniteli.models import Application, ApplicationEvent, Booking
from tests.conftest import ADMIN, PROOFS, LiveServer
from tests.e2e.journey_helpers import (
    HELPFUL_HAND_FORM,
    NOTHING,
    add_slot,
    application,
    count_bookings,
    create_psychologist,
    form_psy_client_info,
    free_rows,
    link_params,
    sent_texts,
    upcoming_workday,
)
from tests.payloads import LOW_MOOD

TAKER = "Лебедева Наталья"
TAKER_TG = "700001"
LATE = "Морозова Вера"
LATE_TG = "700002"
TICKET = "hh_a1b2c3d"
CLAIM_PAGE = "https://psy.hrani.live/confirm-help-hand-by-psychologist"
BOOKING_PAGE = "https://hrani.live/help_hand_confirm"
CLIENT_NAME = "Дарья"
CLIENT_CONTACT = "@darya_hh"
MARKETING = {
    "utm_source": "null",
    "utm_medium": "null",
    "utm_campaign": "null",
    "utm_content": "null",
    "utm_term": "null",
    "utm_client": "null",
    "utm_anketa": "null",
}


def registration_body(ticket: str, category: str = "500 руб") -> dict[str, Any]:
    """[HN] features/actions/HelpHand.ts submitHelpHandQuestionnaire (contract §4.D1)."""
    return {
        **MARKETING,
        "formPsyClientInfo": form_psy_client_info(
            age="24",
            sex="Женский",
            sexPsycho="Не имеет значения",
            hasPsychoExperience="Нет, но рассматривал(а) такую возможность",
            contact=CLIENT_CONTACT,
            name=CLIENT_NAME,
            is_last_page=True,
            occupation="Не работаю, нет доп. источников доходов",
        ),
        "anxieties": [],
        "questions": ["Не понимаю, чего хочу от жизни"],
        "customQuestion": [],
        "diagnoses": ["Нет диагноза"],
        "diagnoseInfo": "",
        "diagnoseMedicaments": "",
        "traumaticEvents": [NOTHING],
        "clientStates": [LOW_MOOD],
        "selectedPsychologistsNames": [],
        "shownPsychologists": "",
        "psychos": [],
        "top_3_psychologists": [],
        "lastExperience": "",
        "amountExpectations": "",
        "age": "24",
        "slots": [],
        "slots_objects": [],
        "contactType": "Telegram",
        "contact": CLIENT_CONTACT,
        "name": CLIENT_NAME,
        "promocode": "",
        "ticket_id": ticket,
        "emptySlots": False,
        "userTimeZone": "МСК",
        "userTimeOffsetMsk": "0",
        "categoryType": category,
        "customCategory": "",
        "question_to_psychologist": "Не понимаю, чего хочу от жизни",
        "filtered_by_automatch_psy_names": [],
        "_queries": "",
        "customTraumaticEvent": "",
        "customState": "",
    }


def booking_body(ticket: str, psychologist: str, slot_string: str, slot_id: str) -> dict[str, Any]:
    """[HN] HelpHandConfirmStages/ConfirmPsychologistForm (contract §4.D5): mostly empty fields."""
    return {
        **MARKETING,
        "anxieties": [],
        "questions": [],
        "customQuestion": [],
        "diagnoses": [],
        "diagnoseInfo": "",
        "diagnoseMedicaments": "",
        "traumaticEvents": [],
        "clientStates": [],
        "selectedPsychologistsNames": [],
        "shownPsychologists": "",
        "psychos": [],
        "lastExperience": "",
        "amountExpectations": "",
        "age": "",
        "slots": [slot_string],
        "slots_objects": [slot_id],
        "contactType": "",
        "contact": "",
        "name": "",
        "promocode": "",
        "ticket_id": ticket,
        "emptySlots": False,
        "userTimeZone": "МСК",
        "bid": 0,
        "rid": 0,
        "categoryType": "500 руб",
        "customCategory": "",
        "question_to_psychologist": "",
        "filtered_by_automatch_psy_names": [psychologist],
        "_queries": "",
        "customTraumaticEvent": "",
        "customState": "",
        "utm_psy": psychologist,
    }


def hh_schedule_request(ticket: str, psychologist: str) -> dict[str, Any]:
    """D4: Monday of this week … +1 month, the price resolved from get-ticket-info."""
    return {
        "startDate": "2026-03-02",
        "endDate": "2026-04-02",
        "formPsyClientInfo": form_psy_client_info(age="", sex="", name=""),
        "form": {"ticket_id": ticket, "categoryType": "500 руб", "userTimeZone": "МСК", "slots": []},
        "ticket_id": ticket,
        "userTimeOffsetMsk": 0,
        "utm_psy": psychologist,
    }


async def allowed(client: httpx.AsyncClient, ticket: str) -> Any:
    response = await client.get(
        "/webhook/check-allotment-for-slot-confirmation", params={"ticket_id": ticket}
    )
    assert response.status_code == 200
    return response.json()["is_allowed"]


async def test_j4_register_claim_and_book(client: httpx.AsyncClient, database: Database) -> None:
    _, taker_secret = await create_psychologist(
        client,
        TAKER,
        sex="female",
        group="helpful_hand",
        is_help_hand=True,
        help_hand_min_price=300,
        telegram_id=TAKER_TG,
    )
    late_id, late_secret = await create_psychologist(
        client, LATE, sex="female", group="helpful_hand", is_help_hand=True, telegram_id=LATE_TG
    )
    # now = Monday 09:00 MSK: Tuesday 05:00 is 20 h ahead, Wednesday 19:00 is 58 h ahead
    too_soon = await add_slot(client, taker_secret, "03.03 05:00")
    wednesday = await add_slot(client, taker_secret, "04.03 19:00")
    thursday = await add_slot(client, taker_secret, "05.03 19:00")
    others = await add_slot(client, late_secret, "04.03 19:00")

    # 1. the client's form
    response = await client.post(
        "/webhook/init-form-tracking",
        json={"ticket_id": TICKET, "form_type": HELPFUL_HAND_FORM, "step": "Начало"},
    )
    assert response.status_code == 200
    response = await client.post("/webhook/register-ticket-for-help-hand", json=registration_body(TICKET))
    assert 200 <= response.status_code < 300, response.text
    stored = await application(client, TICKET)
    assert stored["kind"] == "helpful_hand"
    assert stored["status"] == "awaiting_psychologist"
    assert stored["price_category"] == "500 руб"
    assert await count_bookings(database) == 0

    # 2. the bot lists open applications (no name, no contact, no free text)
    for price in ("500 руб", "Все"):
        response = await client.post("/webhook/get-help-hand-tickets", json={"price": price}, headers=ADMIN)
        assert response.status_code == 200, response.text
        tickets = response.json()["tickets"]
        assert [t["link_id"] for t in tickets] == [TICKET], price
        listed = json.dumps(tickets, ensure_ascii=False)
        for secret in (CLIENT_NAME, CLIENT_CONTACT, "Не понимаю"):
            assert secret not in listed
        assert tickets[0]["price"] == "500 руб"
        assert tickets[0]["client_age"] == 24
    response = await client.post("/webhook/get-help-hand-tickets", json={"price": "1000 руб"}, headers=ADMIN)
    assert response.json()["tickets"] == []
    # the bot asks for the tickets of one psychologist: each comes with the claim link for them
    response = await client.post(
        "/webhook/get-help-hand-tickets", json={"price": "Все", "telegram_id": TAKER_TG}, headers=ADMIN
    )
    (offered,) = response.json()["tickets"]
    assert offered["link_id"] == TICKET
    claim_link = link_params(offered["confirm_link"], CLAIM_PAGE)
    assert claim_link["link_id"] == TICKET
    assert claim_link["telegram_id"].startswith(f"{TAKER_TG}-"), "the psychologist's proof rides on it"

    assert await allowed(client, TICKET) is False, "nobody took it yet: emergency screen"

    # a stranger who knows a psychologist's Telegram id cannot claim in their name
    for forged in (TAKER_TG, f"{TAKER_TG}-{'A' * 22}", f"{LATE_TG}-{claim_link['telegram_id'][-22:]}"):
        response = await client.post(
            "/webhook/confirm-help-hand-by-psychologist", json={"telegram_id": forged, "link_id": TICKET}
        )
        assert response.status_code == 200
        assert set(response.json()) == {"error"}, forged
    response = await client.get("/webhook/confirm-help-hand-by-psychologist", params=claim_link)
    assert response.status_code == 405, "a GET (a link preview, a crawler) never claims"
    assert (await application(client, TICKET))["status"] == "awaiting_psychologist"

    # the psychologist opens /confirm-help-hand-by-psychologist?telegram_id=…&link_id=… (the link)
    response = await client.post("/webhook/confirm-help-hand-by-psychologist", json=claim_link)
    assert response.status_code == 200
    assert response.json() == {}
    late_link = {"telegram_id": f"{LATE_TG}-{PROOFS.token(Purpose.PSYCHOLOGIST, late_id)}", "link_id": TICKET}
    response = await client.post("/webhook/confirm-help-hand-by-psychologist", json=late_link)
    assert response.status_code == 200
    late = response.json()
    assert set(late) == {"error"}
    assert isinstance(late["error"], str)
    assert "другой психолог" in late["error"], "shown verbatim to the psychologist"
    response = await client.post("/webhook/confirm-help-hand-by-psychologist", json=claim_link)
    assert response.json() == {}, "the taker reloading the page still sees success"
    response = await client.post("/webhook/get-help-hand-tickets", json={"price": "Все"}, headers=ADMIN)
    assert response.json()["tickets"] == [], "a taken application is no longer offered"

    # the client is told, with the link to the taker's slots (kept until they open the bot)
    (told,) = await sent_texts(database, "helpful-hand-claimed:")
    assert TAKER in told
    page = link_params(told, BOOKING_PAGE)
    assert page["utm_psy"] == TAKER
    ticket = page["ticket_id"]
    assert ticket.startswith(f"{TICKET}-"), "the client's proof rides on the number"

    # a stranger with the bare number learns the price category only
    response = await client.get("/webhook/get-ticket-info", params={"ticket_id": TICKET})
    assert response.status_code == 200
    assert response.json()["ticket"] == {"id": TICKET, "ticket_id": TICKET, "psychologist_price": "500 руб"}

    # 3. the client's confirm page /help_hand_confirm?ticket_id=…&utm_psy=…
    response = await client.get("/webhook/get-ticket-info", params={"ticket_id": ticket})
    assert response.status_code == 200
    info = response.json()
    ticket_obj = info.get("ticket", info)
    assert ticket_obj["psychologist_price"] == "500 руб"
    assert ticket_obj["psychologist_name"] == TAKER
    assert CLIENT_CONTACT not in json.dumps(info, ensure_ascii=False)
    cards = {card["name"]: card for card in (await client.get("/cards")).json()}
    assert TAKER in cards
    assert await allowed(client, ticket) is True
    response = await client.put("/webhook/update-tracking-step", json={"step": "Слоты", "ticket_id": ticket})
    assert response.status_code == 200

    response = await client.post(
        "/webhook/get-agregated-schedule-helpful-hand", json=hh_schedule_request(ticket, TAKER)
    )
    assert response.status_code == 200, response.text
    rows = [row for row in free_rows(response.json()) if row["id"]]
    assert {row["psychologist"] for row in rows} == {TAKER}
    assert {row["id"] for row in rows} == {wednesday, thursday}, "20 h ahead is too soon"
    assert too_soon not in {row["id"] for row in rows}
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    for row in rows:
        start = datetime.fromisoformat(f"{row['date']}T{row['time']}").replace(tzinfo=MSK)
        assert start - now >= timedelta(hours=24)

    # the client picks Wednesday 19:00: `format(msk,'d.M') + ' ' + format(msk,'HH:mm')`
    picked = next(row for row in rows if row["id"] == wednesday)
    moment = datetime.fromisoformat(f"{picked['date']}T{picked['time']}")
    slot_string = f"{moment.day}.{moment.month} {moment:%H:%M}"
    assert slot_string == "4.3 19:00"

    # refused: another psychologist's slot, a slot less than a day ahead
    response = await client.post(
        "/webhook/helpful-hand-zayavka-new", json=booking_body(ticket, TAKER, "4.3 19:00", others)
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["message"]
    response = await client.post(
        "/webhook/helpful-hand-zayavka-new", json=booking_body(ticket, TAKER, "3.3 05:00", too_soon)
    )
    assert 400 <= response.status_code < 500, response.text
    assert "24" in response.json()["error"]["message"]
    assert await count_bookings(database) == 0
    assert await allowed(client, ticket) is True, "a refused attempt leaves the page usable"

    response = await client.post(
        "/webhook/helpful-hand-zayavka-new", json=booking_body(ticket, TAKER, slot_string, wednesday)
    )
    assert response.status_code == 200, response.text
    response = await client.post(  # a double click
        "/webhook/helpful-hand-zayavka-new", json=booking_body(ticket, TAKER, slot_string, wednesday)
    )
    assert response.status_code == 200, response.text
    for _ in range(2):  # the form and FinalStage both report it
        await client.put(
            "/webhook/update-tracking-step", json={"step": "Заявка отправлена", "ticket_id": ticket}
        )

    stored = await application(client, TICKET)
    assert stored["status"] == "booked"
    async with database.unit_of_work(write=False) as session:
        (booking,) = (await session.execute(select(Booking))).scalars().all()
        assert str(booking.slot_id) == wednesday
        assert booking.is_helpful_hand
        assert booking.application_ref == TICKET
        assert booking.start_at == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    assert await allowed(client, ticket) is False, "booked: the page shows no more slots"
    response = await client.post(
        "/webhook/get-agregated-schedule-helpful-hand", json=hh_schedule_request(ticket, TAKER)
    )
    assert {row["id"] for row in free_rows(response.json())} == {thursday}
    response = await client.get("/webhook/get-ticket-info", params={"ticket_id": ticket})
    assert response.json()["psychologist_name"] == TAKER
    response = await client.post(
        "/webhook/helpful-hand-zayavka-new", json=booking_body(TICKET, TAKER, "5.3 19:00", thursday)
    )
    assert response.status_code == 404, "the bare number books nothing"
    assert await count_bookings(database) == 1


async def test_j4_booking_before_any_claim_is_refused(client: httpx.AsyncClient, database: Database) -> None:
    _, secret = await create_psychologist(
        client, TAKER, sex="female", group="helpful_hand", is_help_hand=True, telegram_id=TAKER_TG
    )
    slot = await add_slot(client, secret, "04.03 19:00")
    response = await client.post("/webhook/register-ticket-for-help-hand", json=registration_body(TICKET))
    assert response.status_code == 200
    response = await client.post(
        "/webhook/helpful-hand-zayavka-new", json=booking_body(TICKET, TAKER, "4.3 19:00", slot)
    )
    assert 400 <= response.status_code < 500
    assert await count_bookings(database) == 0


async def test_j4_unknown_links_answer_in_band(client: httpx.AsyncClient) -> None:
    """The confirm page shows `error` verbatim; check-allotment says `false` (emergency screen)."""
    await create_psychologist(client, TAKER, sex="female", is_help_hand=True, telegram_id=TAKER_TG)
    response = await client.post(
        "/webhook/confirm-help-hand-by-psychologist", json={"telegram_id": TAKER_TG, "link_id": "hh_nope000"}
    )
    assert response.status_code == 200
    assert set(response.json()) == {"error"}
    response = await client.post(
        "/webhook/confirm-help-hand-by-psychologist", json={"telegram_id": "000", "link_id": "hh_nope000"}
    )
    assert response.status_code == 200
    assert set(response.json()) == {"error"}
    assert await allowed(client, "hh_nope000") is False


# --- the race, against a real server process ---------------------------------------------------

RACERS = 10


@pytest.mark.server
async def test_j4_concurrent_claims_exactly_one_wins(live_server: LiveServer, database: Database) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        telegram_ids = [f"80000{i}" for i in range(RACERS)]
        proven_ids = []
        for i, telegram_id in enumerate(telegram_ids):
            psychologist_id, _ = await create_psychologist(
                http,
                f"Психолог{i} Рука",
                sex="female",
                group="helpful_hand",
                is_help_hand=True,
                telegram_id=telegram_id,
            )
            proven_ids.append(f"{telegram_id}-{PROOFS.token(Purpose.PSYCHOLOGIST, psychologist_id)}")
        ticket = "hh_race" + uuid.uuid4().hex[:4]
        response = await http.post("/webhook/register-ticket-for-help-hand", json=registration_body(ticket))
        assert response.status_code == 200, response.text

        responses = await asyncio.gather(
            *(
                http.post(
                    "/webhook/confirm-help-hand-by-psychologist",
                    json={"telegram_id": telegram_id, "link_id": ticket},
                )
                for telegram_id in proven_ids
            )
        )
    assert [r.status_code for r in responses] == [200] * RACERS, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    winners = [telegram_ids[i] for i, body in enumerate(bodies) if body == {}]
    losers = [body for body in bodies if body != {}]
    assert len(winners) == 1, bodies
    assert all(set(body) == {"error"} and body["error"] for body in losers)

    async with database.unit_of_work(write=False) as session:
        found = (await session.execute(select(Application).where(Application.number == ticket))).scalar_one()
        assert found.status == "claimed"
        assert found.claimed_by_id is not None
        from hraniteli.models import Psychologist

        claimer = await session.get(Psychologist, found.claimed_by_id)
        assert claimer is not None
        assert claimer.telegram_id == winners[0]
        claims = (
            (
                await session.execute(
                    select(ApplicationEvent).where(
                        ApplicationEvent.application_id == found.id, ApplicationEvent.status == "claimed"
                    )
                )
            )
            .scalars()
            .all()
        )
        assert len(claims) == 1


@pytest.mark.server
async def test_j4_double_click_on_booking_answers_200(live_server: LiveServer, database: Database) -> None:
    """helpful-hand-zayavka-new sent several times at once: all 200 (the page insists on it),
    one booking — not "taken by someone else" for the client's own twin request."""
    day = upcoming_workday(3)
    ticket = "hh_dbl" + uuid.uuid4().hex[:4]
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        _, secret = await create_psychologist(
            http, TAKER, sex="female", group="helpful_hand", is_help_hand=True, telegram_id=TAKER_TG
        )
        slot = await add_slot(http, secret, f"{day:%d.%m} 14:00")
        response = await http.post("/webhook/register-ticket-for-help-hand", json=registration_body(ticket))
        assert response.status_code == 200, response.text
        response = await http.post(  # the psychologist's editor secret proves them too
            "/webhook/confirm-help-hand-by-psychologist",
            json={"telegram_id": TAKER_TG, "link_id": ticket, "secret": secret},
        )
        assert response.json() == {}
        proven = PROOFS.attach(Purpose.CLIENT, ticket)
        body = booking_body(proven, TAKER, f"{day.day}.{day.month} 14:00", slot)
        responses = await asyncio.gather(
            *(http.post("/webhook/helpful-hand-zayavka-new", json=body) for _ in range(5))
        )
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert len({r.json()["booking_id"] for r in responses}) == 1
    assert await count_bookings(database) == 1
