"""`POST /api/v1/applications`: anyone may apply; repeating a number tells nothing about the
application already stored under it unless the caller proves it is theirs."""

from __future__ import annotations

from typing import Any

import httpx

from hraniteli.db import Database
from hraniteli.kit.proof import Purpose
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW, PROOFS

SESSION = msk(2026, 3, 5, 14)


def _body(number: str, contact: str | None = "@vera_k", **fields: Any) -> dict[str, Any]:
    client = {"name": "Вера", "contact_type": "Telegram", "contact": contact} if contact else {}
    return {"number": number, "client": client, **fields}


async def test_a_repeated_number_reveals_nothing_to_whoever_repeats_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW, name="Иванова Анна")
    slot = await make_slot(database, psychologist, start_at=SESSION, now=NOW)
    first = await client.post(
        "/api/v1/applications",
        json=_body("web42", chosen_slot_ids=[str(slot.id)], wanted_psychologists=["Иванова Анна"]),
    )
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["created"] is True
    assert created["status"] == "booked"
    assert created["booking_id"]
    assert created["proof"] == PROOFS.attach(Purpose.CLIENT, "web42")
    assert created["bot_link"] == f"https://t.me/HraniLiveBot?start={created['proof']}"

    hidden = {"number": "web42", "status": None, "created": False, "booking_id": None}
    for replay in (_body("web42"), _body("web42", contact=None), _body(f"web42-{'A' * 22}")):
        response = await client.post("/api/v1/applications", json=replay)
        assert response.status_code == 201, response.text
        answer = response.json()
        assert {key: answer[key] for key in hidden} == hidden, replay
        assert answer["session_start_at"] is None
        assert answer["proof"] is None
        assert answer["bot_link"] is None

    # the owner (with the proof the first answer gave) and the service (its key) see it
    for body, headers in ((_body(created["proof"]), {}), (_body("web42"), ADMIN)):
        answer = (await client.post("/api/v1/applications", json=body, headers=headers)).json()
        assert answer["status"] == "booked"
        assert answer["booking_id"] == created["booking_id"]
        assert answer["created"] is False
        assert answer["proof"] is None, "a proof is handed out once, on creation"


async def test_a_number_too_long_for_the_bot_link_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/applications", json=_body("x" * 41))

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "number"
