"""One sender delivers at a time: the bot's allowance (~30 messages a second, one a second per
chat) is the bot's, not each process's. Any number of `hraniteli worker` processes may run on one
PostgreSQL database; the one holding the delivery turn — a session-level advisory lock on a
connection it keeps — sends, the others stand by and try again every poll. A holder that stops
releases the turn; one that dies loses its connection, and with it the lock, and a standby takes
over within a poll. One sender reaches well over Telegram's 30/s (docs/performance.md), so
standing by costs no throughput.

SQLite has no such lock and needs none: there one process (the server's) runs the sender."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from hraniteli.db import Database

logger = logging.getLogger("hraniteli.notifications.sender")

LOCK_KEY = int.from_bytes(hashlib.sha256(b"hraniteli:telegram-delivery").digest()[:8], "big", signed=True)
"""The advisory lock's key (64-bit), the same in every process of the project."""


class DeliveryTurn:
    """The turn of one sender. `take()` before a round, `drop()` when stopping."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._connection: AsyncConnection | None = None
        self._standing_by = False

    @property
    def held(self) -> bool:
        return self.database.is_sqlite or self._connection is not None

    async def take(self) -> bool:
        """True when this sender may deliver now: it holds the turn (still, or newly)."""
        if self.database.is_sqlite:
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except Exception as error:  # the connection is gone, and the lock with it
                logger.warning("outbox: the delivery turn was lost (%s)", type(error).__name__)
                await self._discard()
        connection = await self.database.engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(
                (
                    await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
                ).scalar()
            )
        except BaseException:
            await connection.close()
            raise
        if not got:
            await connection.close()
            if not self._standing_by:
                logger.info("outbox: another sender delivers; this one stands by")
                self._standing_by = True
            return False
        self._connection, self._standing_by = connection, False
        logger.info("outbox: this sender delivers")
        return True

    async def drop(self) -> None:
        """Give the turn up (a standby takes it at its next poll)."""
        if self._connection is None:
            return
        try:
            await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        except Exception as error:
            logger.warning("outbox: giving up the delivery turn failed (%s)", type(error).__name__)
        await self._discard()

    async def _discard(self) -> None:
        """Close the connection for good, never back into the pool: a pooled connection that
        still held the lock would keep the turn from every other sender."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()
