"""The proofs in links are signed with `HRANITELI_SECRET_KEY`, or, when it is unset, with the key
the migrations stored in the database: every process of an installation shares it, so a link one
process sent is honoured by any other."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from hraniteli import keyring
from hraniteli.app import create_app
from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.kit.proof import Proofs, Purpose
from hraniteli.models import ServiceSecret
from tests.conftest import ADMIN, SECRET_KEY


def _http(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_without_a_configured_key_every_process_uses_the_stored_one(
    settings: Settings, clock: FrozenClock, database: Database, database_url: str
) -> None:
    unset = settings.model_copy(update={"secret_key": None})
    keyring.forget()  # as new processes: the migrations test may have made a new key meanwhile
    async with database.unit_of_work(write=False) as session:
        stored = (
            await session.execute(select(ServiceSecret).where(ServiceSecret.name == "signing"))
        ).scalar_one()
    assert len(stored.value) == 64, "256 random bits, made by the migrations"

    issuing = create_app(unset, clock=clock, database=database)
    other_database = Database(database_url, pool_size=1)
    other_process = create_app(unset, clock=clock, database=other_database)
    async with _http(issuing) as first, _http(other_process) as second:
        created = await first.post(
            "/api/v1/applications", json={"number": "key1", "client": {"contact": "@k"}}
        )
        proof = created.json()["proof"]
        answered = await second.get(
            "/webhook/get-ticket-info-for-reassigment-without-schedule", params={"lead_number": proof}
        )
        assert answered.status_code == 200, answered.text
        assert proof == Proofs(stored.value.encode()).attach(Purpose.CLIENT, "key1")
        assert proof != Proofs(SECRET_KEY.encode()).attach(Purpose.CLIENT, "key1")
        # the configured key, when set, is the one used
        configured = create_app(settings, clock=clock, database=database)
        async with _http(configured) as third:
            refused = await third.get(
                "/webhook/get-ticket-info-for-reassigment-without-schedule", params={"lead_number": proof}
            )
            assert refused.status_code == 404
            assert (await third.get("/api/v1/applications/key1", headers=ADMIN)).status_code == 200
    await other_database.dispose()
