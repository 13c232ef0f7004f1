"""What callers get when the database fails: a deadlocked request runs again, refused input is a
400 naming the field, an outage is a 503 in the envelope with Retry-After, anything unexpected a
JSON 500; `/readyz` reports the database while `/healthz` stays a liveness check."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from hraniteli.app import create_app
from hraniteli.config import Settings
from hraniteli.db import Database, run_with_retries
from hraniteli.errors import InvalidInput
from hraniteli.models import Application, Client, Psychologist
from hraniteli.psychologists import service as psychologists
from hraniteli.psychologists.schemas import PsychologistCreate
from tests.conftest import ADMIN_KEY, IS_POSTGRES, NOW
from tests.payloads import application_payload

GUARD_SECONDS = 30
"""A hang fails the test instead of hanging CI (no duration is asserted)."""


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def database_error(sqlstate: str) -> DBAPIError:
    """What SQLAlchemy raises when PostgreSQL fails a statement with `sqlstate`."""
    return DBAPIError("UPDATE psychologists SET schedule_revision = ...", None, _DriverError(sqlstate))


async def count(database: Database, model: Any) -> int:
    async with database.unit_of_work(write=False) as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def create(session: Any, name: str) -> Psychologist:
    return await psychologists.create_psychologist(
        session, data=PsychologistCreate(name=name), now=NOW, default_time_zone="Europe/Moscow"
    )


# --- deadlocks and serialization failures run again ---------------------------------------------


async def test_a_deadlocked_transaction_runs_again_and_commits_once(database: Database) -> None:
    runs = 0

    async def book() -> str:
        nonlocal runs
        runs += 1
        async with database.unit_of_work() as session:
            psychologist = await create(session, "Иванова Анна")
            await session.flush()
            if runs < 3:
                raise database_error("40P01")
        return psychologist.name

    assert await run_with_retries(book, max_attempts=3) == "Иванова Анна"
    assert runs == 3
    assert await count(database, Psychologist) == 1


async def test_three_deadlocks_in_a_row_give_up_with_the_last_error_and_nothing_stored(
    database: Database,
) -> None:
    runs = 0

    async def book() -> None:
        nonlocal runs
        runs += 1
        async with database.unit_of_work() as session:
            await create(session, "Иванова Анна")
            await session.flush()
            raise database_error("40001")

    with pytest.raises(DBAPIError) as raised:
        await run_with_retries(book, max_attempts=3)
    assert getattr(raised.value.orig, "sqlstate", None) == "40001"
    assert runs == 3
    assert await count(database, Psychologist) == 0


async def test_other_failures_and_runs_that_committed_are_not_run_again(database: Database) -> None:
    runs = 0

    async def broken() -> None:
        nonlocal runs
        runs += 1
        raise database_error("42601")  # a syntax error: running it again cannot help

    async def committed_then_deadlocked() -> None:
        nonlocal runs
        runs += 1
        async with database.unit_of_work() as session:
            await create(session, "Иванова Анна")
        async with database.unit_of_work() as session:
            raise database_error("40P01")

    with pytest.raises(DBAPIError):
        await run_with_retries(broken, max_attempts=3)
    with pytest.raises(DBAPIError):
        await run_with_retries(committed_then_deadlocked, max_attempts=3)
    assert runs == 2
    assert await count(database, Psychologist) == 1


BUMP = text("UPDATE psychologists SET schedule_revision = schedule_revision + 1 WHERE id = :id")


@pytest.mark.postgres_only
async def test_a_real_deadlock_is_run_again_until_both_transactions_commit(database_url: str) -> None:
    """Two transactions lock two rows in opposite orders: PostgreSQL fails one with 40P01; run
    again, it commits after the other."""
    db = Database(database_url, pool_size=2, max_overflow=0)
    try:
        async with db.unit_of_work() as session:
            first, second = await create(session, "Иванова Анна"), await create(session, "Петров Пётр")
        ids = (first.id, second.id)
        both_hold_one = asyncio.Barrier(2)
        runs = [0, 0]

        async def bump(order: int) -> None:
            runs[order] += 1
            async with db.unit_of_work() as session:
                for n, psychologist_id in enumerate(ids[::-1] if order else ids):
                    await session.execute(BUMP, {"id": psychologist_id})
                    if n == 0 and runs[order] == 1:
                        await both_hold_one.wait()

        async with asyncio.timeout(GUARD_SECONDS):
            await asyncio.gather(*(run_with_retries(lambda o=o: bump(o), max_attempts=3) for o in (0, 1)))

        assert sorted(runs) == [1, 2]
        async with db.unit_of_work(write=False) as session:
            revisions = (await session.execute(select(Psychologist.schedule_revision))).scalars().all()
        assert list(revisions) == [2, 2]
    finally:
        await db.dispose()


@pytest.fixture
def deadlocking_app(app: FastAPI) -> FastAPI:
    """The real app plus one route that creates a psychologist and then meets as many deadlocks
    as the request's `deadlocks` asks; `app.state.runs` counts its runs."""
    app.state.runs = 0

    async def create_then_deadlock(request: Request) -> JSONResponse:
        body = await request.json()
        app.state.runs += 1
        ctx = request.app.state.ctx
        async with ctx.unit_of_work() as session:
            psychologist = await create(session, body["name"])
            await session.flush()
            if app.state.runs <= body["deadlocks"]:
                raise database_error("40P01")
        return JSONResponse({"id": str(psychologist.id)}, status_code=201)

    app.add_api_route("/test/create-then-deadlock", create_then_deadlock, methods=["POST"])
    return app


async def test_a_request_that_met_deadlocks_runs_again_with_its_body(
    deadlocking_app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post("/test/create-then-deadlock", json={"name": "Иванова Анна", "deadlocks": 2})

    assert response.status_code == 201, response.text
    assert deadlocking_app.state.runs == 3
    async with database.unit_of_work(write=False) as session:
        names = (await session.execute(select(Psychologist.name))).scalars().all()
    assert list(names) == ["Иванова Анна"]


async def test_a_request_that_keeps_deadlocking_gets_409_and_changes_nothing(
    deadlocking_app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post("/test/create-then-deadlock", json={"name": "Иванова Анна", "deadlocks": 99})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert "please retry" in error["message"]
    assert deadlocking_app.state.runs == 3
    assert await count(database, Psychologist) == 0


async def test_with_one_attempt_configured_a_deadlock_is_not_run_again(
    settings: Settings, clock: Any, database: Database
) -> None:
    app = create_app(settings.model_copy(update={"database_max_attempts": 1}), clock=clock, database=database)
    runs = 0

    async def deadlock() -> None:
        nonlocal runs
        runs += 1
        raise database_error("40P01")

    app.add_api_route("/test/deadlock", deadlock, methods=["POST"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        response = await http.post("/test/deadlock")

    assert response.status_code == 409
    assert runs == 1


# --- input the database would refuse ------------------------------------------------------------


async def test_an_over_long_contact_is_a_400_naming_it_and_nothing_is_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post("/webhook/tilda-zayavka", json=application_payload(contact="@" + "a" * 300))

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    assert "contact" in error["message"]
    assert "300" in error["message"]
    assert {d["field"] for d in error["details"]} == {"contact"}
    assert await count(database, Application) == 0
    assert await count(database, Client) == 0


async def test_a_thousand_character_name_is_a_400_and_a_300_character_contact_is_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    too_long = await client.post("/webhook/tilda-zayavka", json=application_payload(name="А" * 1000))
    fits = await client.post("/webhook/tilda-zayavka", json=application_payload(contact="@" + "a" * 299))

    assert too_long.status_code == 400, too_long.text
    assert {d["field"] for d in too_long.json()["error"]["details"]} == {"name"}
    assert fits.status_code == 200, fits.text
    async with database.unit_of_work(write=False) as session:
        contacts = (await session.execute(select(Application.contact))).scalars().all()
    assert list(contacts) == ["@" + "a" * 299]


async def _store_a_psychologist_aged_2_to_the_40th_with_a_huge_about(database: Database) -> None:
    async with database.unit_of_work() as session:
        psychologist = await create(session, "Иванова Анна")
        psychologist.age = 2**40
        psychologist.about = "о" * 20_001


async def test_numbers_out_of_range_and_huge_texts_are_refused_before_the_database(
    database: Database,
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await _store_a_psychologist_aged_2_to_the_40th_with_a_huge_about(database)

    fields = {detail["field"]: detail["message"] for detail in raised.value.details}
    assert fields == {
        "age": "a whole number from -2147483648 to 2147483647",
        "about": "at most 20000 characters",
    }
    assert await count(database, Psychologist) == 0


async def test_rows_already_stored_stay_writable_when_another_field_changes(database: Database) -> None:
    async with database.unit_of_work() as session:
        psychologist = await create(session, "Иванова Анна")
    async with database.unit_of_work() as session:
        # A value stored before the limit existed (SQLite kept it): not the caller's mistake now.
        await session.execute(
            update(Psychologist).where(Psychologist.id == psychologist.id).values(about="о" * 20_001)
        )
    async with database.unit_of_work() as session:
        stored = await session.get(Psychologist, psychologist.id)
        assert stored is not None
        stored.city = "Казань"

    async with database.unit_of_work(write=False) as session:
        assert (await session.get(Psychologist, psychologist.id)).city == "Казань"  # type: ignore[union-attr]


async def test_a_value_the_database_refuses_is_a_400_not_a_503(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def refused() -> None:
        if IS_POSTGRES:  # the real thing: SQLSTATE 22P02 invalid_text_representation
            async with app.state.ctx.unit_of_work() as session:
                await session.execute(text("SELECT CAST(:value AS integer)"), {"value": "двадцать"})
        raise database_error("22001")  # string_data_right_truncation

    app.add_api_route("/test/refused", refused, methods=["POST"])

    response = await client.post("/test/refused")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_INPUT"


# --- outages -------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def app_on(url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url, admin_api_key=ADMIN_KEY, _env_file=None, **settings))  # type: ignore[call-arg]
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield http
    finally:
        await app.state.ctx.database.dispose()


async def _assert_unavailable(http: httpx.AsyncClient, reason: str) -> None:
    for response in (
        await http.post("/webhook/get-aggregated-all", json={}),
        await http.get("/cards"),
        await http.post("/webhook/tilda-zayavka", json=application_payload()),
    ):
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert "database is unavailable" in response.json()["error"]["message"]
        assert int(response.headers["retry-after"]) > 0
    ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": reason}
    live = await http.get("/healthz")
    assert live.status_code == 200


async def test_a_refused_connection_answers_503_and_readiness_says_so() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/hraniteli"
    async with asyncio.timeout(GUARD_SECONDS), app_on(url) as http:
        await _assert_unavailable(http, "unreachable")


async def test_a_database_that_accepts_but_never_answers_gives_503_after_the_connect_timeout() -> None:
    """A network partition: the TCP connection opens, nothing ever comes back."""
    silent: list[asyncio.StreamWriter] = []

    async def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/hraniteli"
    try:
        async with asyncio.timeout(GUARD_SECONDS), app_on(url, database_connect_timeout_seconds=1) as http:
            await _assert_unavailable(http, "not answering")
    finally:
        for writer in silent:
            writer.close()
        server.close()
        await server.wait_closed()
    assert silent, "the app did reach the silent server"


@pytest.mark.postgres_only
async def test_a_statement_that_outlasts_the_statement_timeout_is_a_503(
    settings: Settings, clock: Any, database_url: str
) -> None:
    app = create_app(settings.model_copy(update={"database_statement_timeout_seconds": 1}), clock=clock)

    async def slow(request: Request) -> None:
        async with request.app.state.ctx.unit_of_work(write=False) as session:
            await session.execute(text("SELECT pg_sleep(20)"))

    app.add_api_route("/test/slow", slow)
    try:
        async with (
            asyncio.timeout(GUARD_SECONDS),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
        ):
            response = await http.get("/test/slow")
    finally:
        await app.state.ctx.database.dispose()

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_readiness_reports_a_healthy_database(client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok"}


# --- nothing unexpected is plain text -----------------------------------------------------------


async def test_an_unexpected_error_is_a_json_500_logged_without_what_the_client_sent(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: Request) -> None:
        body = await request.json()
        raise RuntimeError(f"failed on {body['diagnosis']}")

    app.add_api_route("/test/broken", broken, methods=["POST"])

    with caplog.at_level(logging.ERROR, logger="hraniteli"):
        response = await client.post("/test/broken?contact=secret-contact", json={"diagnosis": "ПТСР"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "RuntimeError" in caplog.text
    assert "/test/broken" in caplog.text
    assert "ПТСР" not in caplog.text
    assert "secret-contact" not in caplog.text
