"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when configured),
the app with a frozen clock, an HTTP client, data builders and a real server process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hraniteli.app import create_app
from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.kit.proof import Proofs
from hraniteli.migrate import upgrade
from hraniteli.models import Base

ADMIN_KEY = "test-admin-key"
ADMIN = {"X-API-Key": ADMIN_KEY}
SECRET_KEY = "test-signing-key"
"""Signs the proofs in links; the same in the test process and the servers it starts."""
PROOFS = Proofs(SECRET_KEY.encode())
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 in Moscow: the frozen 'now' of in-process tests."""


def _test_database_url() -> str:
    url = os.environ.get("HRANITELI_TEST_DATABASE_URL")
    if url:
        return url
    directory = Path(tempfile.mkdtemp(prefix="hraniteli-test-"))
    return f"sqlite+aiosqlite:///{directory / 'test.sqlite3'}"


DATABASE_URL = _test_database_url()
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


def pytest_report_header(config: pytest.Config) -> str:
    kind = "PostgreSQL" if IS_POSTGRES else "SQLite"
    note = "" if IS_POSTGRES else " (PostgreSQL-only tests are skipped: set HRANITELI_TEST_DATABASE_URL)"
    return f"hraniteli test database: {kind}{note}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set HRANITELI_TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url() -> str:
    return DATABASE_URL


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    await asyncio.to_thread(upgrade, database_url)
    db = Database(database_url, pool_size=5)
    yield db
    await db.dispose()


KEPT_TABLES = {"service_secrets"}
"""What the migrations made and every test relies on, like the schema itself."""
TABLES_IN_DELETE_ORDER = [
    table.name for table in reversed(Base.metadata.sorted_tables) if table.name not in KEPT_TABLES
]


async def wipe(db: Database) -> None:
    """Tests share one schema; every test starts from empty tables."""
    async with db.unit_of_work() as session:
        if IS_POSTGRES:
            await session.execute(text(f"TRUNCATE {', '.join(TABLES_IN_DELETE_ORDER)} CASCADE"))
        else:
            for table in TABLES_IN_DELETE_ORDER:
                await session.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
async def clean_database(database: Database) -> None:
    await wipe(database)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        database_url=database_url, admin_api_key=ADMIN_KEY, secret_key=SECRET_KEY, _env_file=None
    )


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, database: Database) -> Any:
    return create_app(settings, clock=clock, database=database)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


# --- a real server process ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process


@pytest.fixture(scope="module")
def live_server(database: Database, database_url: str) -> Iterator[LiveServer]:
    """`hraniteli serve` in its own process on a free port, against the test database; one per
    module (starting it costs seconds, and every test wipes the tables anyway)."""
    port = _free_port()
    env = {
        **os.environ,
        "HRANITELI_DATABASE_URL": database_url,
        "HRANITELI_ADMIN_API_KEY": ADMIN_KEY,
        "HRANITELI_SECRET_KEY": SECRET_KEY,
        # the journeys and races send many requests from one address; rate limits have their tests
        **{f"HRANITELI_RATE_LIMIT_{rule.upper()}": "" for rule in Settings.model_construct().rate_limits},
        "HRANITELI_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hraniteli", "serve", "--no-migrate", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the server did not start:\n{stderr}")
        time.sleep(0.1)
    try:
        yield LiveServer(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if process.stderr:
            process.stderr.close()
