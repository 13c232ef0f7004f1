"""Engines, session factories and the unit of work; SQLite pragmas and transaction mode; what a
database failure means (run again, bad input, conflict, unavailable) and the bounded re-run."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from hraniteli.config import Settings

log = logging.getLogger("hraniteli.db")
T = TypeVar("T")

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_STATEMENT_TIMEOUT = 30.0
DEFAULT_POOL_TIMEOUT = 10.0
RETRY_BACKOFF_SECONDS = 0.05
"""A re-run waits a random time up to this, doubled with each further run."""


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
) -> AsyncEngine:
    """The async engine for `url`; on SQLite: WAL, foreign keys, busy timeout, explicit BEGIN.

    On PostgreSQL every wait is bounded: connecting (`connect_timeout`), a statement on the
    server (`statement_timeout`), the client's wait for any answer (a little longer, so a live
    server cancels first and a dead network still ends) and the wait for a pooled connection.
    """
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"isolation_level": None, "timeout": statement_timeout},
        )
        _install_sqlite_hooks(engine, busy_timeout_ms=int(statement_timeout * 1000))
        return engine
    kwargs: dict[str, Any] = {
        "echo": echo,
        "hide_parameters": True,  # a failed statement's message must not carry health data into logs
        "pool_pre_ping": True,
        "connect_args": {
            "timeout": connect_timeout,
            "command_timeout": statement_timeout + 1,
            "server_settings": {"statement_timeout": str(int(statement_timeout * 1000))},
        },
    }
    if pool_size <= 0:
        kwargs["poolclass"] = NullPool
    else:
        overflow = pool_size * 2 if max_overflow is None else max_overflow
        kwargs.update(pool_size=pool_size, max_overflow=overflow, pool_timeout=pool_timeout)
    engine = create_async_engine(url, **kwargs)
    _install_unavailability_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    """pysqlite's own transaction handling defers BEGIN oddly; we issue BEGIN ourselves.

    Writing units of work ask for BEGIN IMMEDIATE (execution option `sqlite_begin`), so two
    writers queue on the busy timeout instead of failing to upgrade a read lock.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


# --- what a failure means ---------------------------------------------------------------------


class DatabaseUnavailable(Exception):
    """The database could not be reached, or did not answer in time."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the database is {reason}")
        self.reason = reason


def _install_unavailability_hooks(engine: AsyncEngine) -> None:
    """asyncpg reports a refused or silent server as a bare OSError or TimeoutError, which
    SQLAlchemy passes through as they are; name them, so they are not mistaken for other
    failures of the same types (and the rest of the app need not know asyncpg)."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except TimeoutError as exc:
            raise DatabaseUnavailable("not answering") from exc
        except OSError as exc:
            raise DatabaseUnavailable("unreachable") from exc

    @event.listens_for(engine.sync_engine, "handle_error")
    def _during_statement(context: ExceptionContext) -> BaseException | None:
        error = context.original_exception
        if isinstance(error, TimeoutError):
            return DatabaseUnavailable("not answering")
        if isinstance(error, OSError):
            return DatabaseUnavailable("unreachable")
        return None


class Fault(StrEnum):
    """What a database failure means for the request that met it."""

    RETRY = "retry"
    """A deadlock or serialization failure: the transaction was rolled back; run it again."""
    INVALID = "invalid"
    """The database refused a value (SQLSTATE class 22): the caller's mistake, a 400."""
    CONFLICT = "conflict"
    """A constraint caught a concurrent change (class 23): a 409."""
    UNAVAILABLE = "unavailable"
    """Unreachable, not answering, shutting down, out of connections: a 503."""
    OTHER = "other"
    """Anything else (a bug): a 500."""


RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
"""deadlock_detected, serialization_failure."""
_UNAVAILABLE_CLASSES = frozenset({"08", "28", "3D", "53", "57", "58"})
"""Connection, authorization, unknown database, insufficient resources, operator intervention
(statement timeout, shutdown), system errors."""
_BUSY_SQLSTATES = frozenset({"55P03", "57014"})
"""lock_not_available, query_canceled (statement timeout)."""


def sqlstate(error: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of a failed statement (None on SQLite and for non-database errors)."""
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    return code if isinstance(code, str) else None


def classify(error: BaseException) -> Fault | None:
    """What `error` means, or None when it is not a database failure."""
    if isinstance(error, DatabaseUnavailable | PoolTimeoutError):
        return Fault.UNAVAILABLE
    if not isinstance(error, DBAPIError):
        return None
    code = sqlstate(error) or ""
    if code in RETRYABLE_SQLSTATES:
        return Fault.RETRY
    if error.connection_invalidated:
        return Fault.UNAVAILABLE
    if code.startswith("22"):
        return Fault.INVALID
    if isinstance(error, IntegrityError) or code.startswith("23"):
        return Fault.CONFLICT
    if code in _BUSY_SQLSTATES or code[:2] in _UNAVAILABLE_CLASSES:
        return Fault.UNAVAILABLE
    if not code and isinstance(error, OperationalError | InterfaceError):
        return Fault.UNAVAILABLE  # SQLite: locked past the busy timeout, I/O; a dropped connection
    return Fault.OTHER


def unavailable_reason(error: BaseException) -> str:
    """A short word for why the database is unavailable (logs, `/readyz`); no data in it."""
    if isinstance(error, DatabaseUnavailable):
        return error.reason
    if isinstance(error, PoolTimeoutError):
        return "busy"
    if isinstance(error, TimeoutError):
        return "not answering"
    code = sqlstate(error) or ""
    if code in _BUSY_SQLSTATES or code.startswith("53"):
        return "busy"
    if isinstance(error, OperationalError) and "locked" in str(error.orig):
        return "busy"
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return "disconnected"
    return "failing"


# --- running a transaction again ----------------------------------------------------------------

_commits: ContextVar[list[int] | None] = ContextVar("hraniteli_commits", default=None)
"""Write transactions committed by the current run of `run_with_retries` (one counter per run)."""


async def run_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    max_attempts: int,
    may_retry: Callable[[], bool] | None = None,
) -> T:
    """Await `attempt()`; after a deadlock or serialization failure run it again, up to
    `max_attempts` runs in all, with a short random wait between runs.

    A run is repeated only if it committed no transaction (that one would be done twice) and
    `may_retry()` agrees (an HTTP request whose answer has begun cannot be answered again).
    The last failure is raised as it was.
    """
    for run in range(1, max_attempts + 1):
        token = _commits.set(committed := [0])
        try:
            return await attempt()
        except Exception as error:
            if (
                run == max_attempts
                or classify(error) is not Fault.RETRY
                or committed[0]
                or (may_retry is not None and not may_retry())
            ):
                raise
            log.warning(
                "database %s; running the transaction again (%d of %d)",
                sqlstate(error),
                run + 1,
                max_attempts,
            )
        finally:
            _commits.reset(token)
        await asyncio.sleep(random.uniform(0, RETRY_BACKOFF_SECONDS * 2 ** (run - 1)))  # noqa: S311
    raise AssertionError("unreachable")  # pragma: no cover


class Database:
    """Owns the engine and hands out units of work (one transaction each)."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        max_overflow: int | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT,
    ) -> None:
        self.url = url
        self.engine = create_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
            pool_timeout=pool_timeout,
        )
        self.connect_timeout = connect_timeout
        self.is_sqlite = url.startswith("sqlite")
        write_bind = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        )
        self.write_generation = 0
        """Counts this process's committed write units of work (render-cache trust)."""
        self._read = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write = async_sessionmaker(write_bind, expire_on_commit=False, autoflush=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, pool_size: int | None = None) -> Database:
        return cls(
            settings.database_url,
            echo=settings.database_echo,
            pool_size=settings.database_pool_size if pool_size is None else pool_size,
            connect_timeout=settings.database_connect_timeout_seconds,
            statement_timeout=settings.database_statement_timeout_seconds,
            pool_timeout=settings.database_pool_timeout_seconds,
        )

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on any error."""
        factory = self._write if write else self._read
        async with factory() as session, session.begin():
            yield session
        if write:
            self.write_generation += 1
            if (committed := _commits.get()) is not None:
                committed[0] += 1

    async def check(self) -> str | None:
        """None when the database answers `SELECT 1` within the connect timeout, else why not."""
        try:
            async with asyncio.timeout(self.connect_timeout), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            log.warning("database readiness check failed: %s", type(error).__name__)
            return unavailable_reason(error)
        return None

    async def dispose(self) -> None:
        await self.engine.dispose()
