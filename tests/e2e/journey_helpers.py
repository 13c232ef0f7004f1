"""Shared bits of the user-journey tests (contract §11): the clients' request bodies as the
real front-ends build them, psychologists and slots made through the public APIs, and small
readers of the legacy responses."""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from sqlalchemy import func, select

from hraniteli.db import Database
from hraniteli.models import Booking, OutboxMessage
from tests import payloads
from tests.conftest import ADMIN

SUICIDE = "Намерения или попытки суицида"
PANIC = "Состояние ужаса, панические атаки"
NOTHING = "Ничего из вышеперечисленного"
MATCHING_FORM = "Заявка на подбор психолога"
HELPFUL_HAND_FORM = "Заявка на руку помощи"
RESEARCH_FORM = "Исследовательская анкета"


# --- psychologists and slots through the public APIs -------------------------------------------


async def create_psychologist(client: httpx.AsyncClient | Any, name: str, **fields: Any) -> tuple[str, str]:
    """POST /api/v1/psychologists (admin key): (id, editor secret). Defaults: an active
    community psychologist, any client sex, 18–100, with quota left."""
    body = {"name": name, "group": "community", "debt": 5, **fields}
    response = await client.post("/api/v1/psychologists", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    created = response.json()
    return created["id"], created["editor_secret"]


async def add_slot(client: httpx.AsyncClient | Any, secret: str, slot: str) -> str:
    """The schedule editor's `add-slot` ("DD.MM HH:mm", Moscow time): the new slot's id."""
    response = await client.post("/webhook/add-slot", json={"secret": secret, "slot": slot})
    assert response.status_code == 200, response.text
    slot_id: str = response.json()["id"]
    return slot_id


# --- the clients' bodies -------------------------------------------------------------------------


def form_psy_client_info(**overrides: Any) -> dict[str, Any]:
    """`formPsyClientInfo` of contract §3.1 (note the Cyrillic "С" in `selectionСriteria`) of a
    client who wants a female psychologist."""
    return payloads.client_info(**{"sexPsycho": "Женский", **overrides})


def schedule_request(
    ticket_id: str,
    *,
    start: str = "2026-03-02",
    end: str = "2026-04-02",
    client_states: list[str] | None = None,
    info: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """The `ScheduleRequest` (§3.1) the matching questionnaire sends after the diagnosis stage."""
    form = {
        "diagnoses": ["Нет диагноза"],
        "traumaticEvents": [NOTHING],
        "clientStates": [SUICIDE] if client_states is None else client_states,
        "ticket_id": ticket_id,
    }
    return payloads.schedule_request(
        form,
        **{
            "startDate": start,
            "endDate": end,
            "ticket_id": ticket_id,
            "formPsyClientInfo": info if info is not None else form_psy_client_info(),
            **top,
        },
    )


def application_payload(
    ticket_id: str,
    *,
    slots: list[str],
    chosen: list[str],
    matched: list[str],
    contact: str = "@anna_k",
    client_states: list[str] | None = None,
    promocode: str = '"PROMO"',
    **overrides: Any,
) -> dict[str, Any]:
    """`ApplicationPayload` (§3.3) as [HN] PhoneStage sends it to `tilda-zayavka`, outside the
    research flow: no row numbers (`bid`, `rid`) and none of the keys the service must ignore."""
    body = payloads.application_payload(
        traumaticEvents=[NOTHING],
        clientStates=[SUICIDE] if client_states is None else client_states,
        selectedPsychologistsNames=chosen,
        shownPsychologists=";".join(chosen),
        top_3_psychologists=matched,
        lastExperience="Нет, я не работал(а) с психологом/психотерапевтом",
        slots=slots,
        contact=contact,
        promocode=promocode,
        ticket_id=ticket_id,
        filtered_by_automatch_psy_names=chosen,
        formPsyClientInfo=form_psy_client_info(is_last_page=True, contact=contact, sexPsycho="Женщина"),
    )
    for key in ("bid", "rid", "utm_anketa", "some_future_key"):
        del body[key]
    body.update(overrides)  # after the deletions: a research journey passes its own `bid`/`rid`
    return body


def client_slot_string(row: dict[str, Any]) -> str:
    """[HN] PsychologistStage: `format(new Date(date + 'T' + time), 'dd.M HH:00')`."""
    moment = datetime.fromisoformat(f"{row['date']}T{row['time']}")
    return f"{moment.day:02d}.{moment.month} {moment.hour:02d}:00"


# --- reading the answers -----------------------------------------------------------------------


def free_rows(body: Any) -> list[dict[str, Any]]:
    """Every `state === 'Свободен'` row of an aggregated schedule answer (`data[0].items`),
    or of a bare list of days (the re-booking page's `schedule`)."""
    items = body[0]["items"] if body and "items" in body[0] else body
    return [
        row for day in items for rows in day["slots"].values() for row in rows if row["state"] == "Свободен"
    ]


async def application(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    """The application as administrators see it (clean API)."""
    response = await client.get(f"/api/v1/applications/{number}", headers=ADMIN)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def count_bookings(database: Database, **where: Any) -> int:
    async with database.unit_of_work(write=False) as session:
        query = select(func.count(Booking.id))
        for key, value in where.items():
            query = query.where(getattr(Booking, key) == value)
        return int((await session.execute(query)).scalar_one())


async def editor_hour(client: httpx.AsyncClient, secret: str, day: date, hour: str) -> list[dict[str, Any]]:
    """The psychologist's editor grid (`get-slot`) at one hour of one day."""
    response = await client.get(
        "/webhook/get-slot",
        params={"secret": secret, "startDate": day.isoformat(), "endDate": day.isoformat()},
    )
    assert response.status_code == 200, response.text
    (item,) = response.json()[0]["items"]
    rows: list[dict[str, Any]] = item["slots"].get(hour, [])
    return rows


async def free_ids_of(client: httpx.AsyncClient, name: str, day: str) -> set[str]:
    """`get-aggregated-all` with `show_only_psy` for one day: the free slot ids."""
    response = await client.post(
        "/webhook/get-aggregated-all",
        json={"startDate": day, "endDate": day, "show_only_psy": name, "userTimeOffsetMsk": 0},
    )
    assert response.status_code == 200, response.text
    return {row["id"] for row in free_rows(response.json())}


async def sent_texts(database: Database, dedupe_prefix: str) -> list[str]:
    """The texts of the outbox messages whose key starts so (what the service sent, or keeps
    for someone without a chat yet)."""
    async with database.unit_of_work(write=False) as session:
        query = (
            select(OutboxMessage.text)
            .where(OutboxMessage.dedupe_key.like(f"{dedupe_prefix}%"))
            .order_by(OutboxMessage.created_at)
        )
        return list((await session.execute(query)).scalars())


def link_params(text: str, url_prefix: str) -> dict[str, str]:
    """The query parameters of the link starting with `url_prefix` inside a message text."""
    found = re.search(re.escape(url_prefix) + r"\?(\S+)", text)
    assert found, f"no {url_prefix} link in {text!r}"
    return dict(parse_qsl(found.group(1)))


def deep(value: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(value)


def upcoming_workday(days_ahead: int) -> date:
    """A Moscow date at least `days_ahead` days from the real today, not a Sunday (closed):
    for tests against a real server process, which reads the real clock."""
    from datetime import timedelta

    from hraniteli.kit.moscow import MSK

    day = datetime.now(MSK).date() + timedelta(days=days_ahead)
    return day + timedelta(days=1) if day.weekday() == 6 else day
