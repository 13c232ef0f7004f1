"""Migrations run from empty to head and back to base on the test database's engine."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from hraniteli.db import Database
from hraniteli.migrate import downgrade, upgrade
from hraniteli.models import Base


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_downgrade_to_base_and_upgrade_to_head(database: Database, database_url: str) -> None:
    await asyncio.to_thread(downgrade, database_url, "base")
    after_down = await _tables(database)
    await asyncio.to_thread(upgrade, database_url, "head")
    after_up = await _tables(database)

    assert after_down <= {"alembic_version"}
    assert {"psychologists", "slots", "bookings", "clients", "psychologist_education"} <= after_up


async def test_the_migrated_schema_is_the_models_schema(database: Database) -> None:
    """Every table, column, index and constraint the models declare is what the migrations made
    (no model change without its migration, on either database)."""

    def differences(sync_connection: Connection) -> list[Any]:
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        diff = await connection.run_sync(differences)

    assert diff == []
