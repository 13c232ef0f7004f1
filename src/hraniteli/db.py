"""Engines, session factories and the unit of work; SQLite pragmas and transaction mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int | None = None
) -> AsyncEngine:
    """The async engine for `url`; on SQLite: WAL, foreign keys, busy timeout, explicit BEGIN."""
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"isolation_level": None, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _install_sqlite_hooks(engine)
        return engine
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
    if pool_size <= 0:
        kwargs["poolclass"] = NullPool
    else:
        overflow = pool_size * 2 if max_overflow is None else max_overflow
        kwargs.update(pool_size=pool_size, max_overflow=overflow)
    return create_async_engine(url, **kwargs)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    """pysqlite's own transaction handling defers BEGIN oddly; we issue BEGIN ourselves.

    Writing units of work ask for BEGIN IMMEDIATE (execution option `sqlite_begin`), so two
    writers queue on the busy timeout instead of failing to upgrade a read lock.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Owns the engine and hands out units of work (one transaction each)."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int | None = None
    ) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
        self.is_sqlite = url.startswith("sqlite")
        write_bind = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        )
        self.write_generation = 0
        """Counts this process's committed write units of work (render-cache trust)."""
        self._read = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write = async_sessionmaker(write_bind, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error."""
        factory = self._write if write else self._read
        async with factory() as session, session.begin():
            yield session
        if write:
            self.write_generation += 1

    async def dispose(self) -> None:
        await self.engine.dispose()
