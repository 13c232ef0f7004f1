"""Shapes the real front-ends send that must not be lost or refused (item 9 of the trust issue)."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from hraniteli.db import Database
from hraniteli.models import FormSession, FormStep
from tests import payloads
from tests.conftest import ADMIN


async def test_the_application_forms_object_shaped_preferences_are_stored(client: httpx.AsyncClient) -> None:
    info = payloads.answered_info(
        importancePsycho={
            "preferences": ["Прямолинейность, строгость, серьезность"],
            "customPreferences": "",
        },
        customImportance="",
        is_last_page=True,
    )
    body = payloads.application_payload(
        ticket_id="pref1", slots=[], formPsyClientInfo=info, bid=None, rid=None
    )

    response = await client.post("/webhook/tilda-zayavka", json=body)

    assert response.status_code == 200, response.text
    stored = (await client.get("/api/v1/applications/pref1", headers=ADMIN)).json()
    assert stored["preferences"] == ["Прямолинейность, строгость, серьезность"]


async def test_the_emergency_pages_steps_without_a_number_are_accepted_and_ignored(
    client: httpx.AsyncClient, database: Database
) -> None:
    for number in ("", None, "null"):
        response = await client.put(
            "/webhook/update-tracking-step", json={"step": "Экстренная помощь", "ticket_id": number}
        )
        assert response.status_code == 200, (number, response.text)
        assert response.json() == {"success": True}
    async with database.unit_of_work(write=False) as session:
        for model in (FormSession, FormStep):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0
