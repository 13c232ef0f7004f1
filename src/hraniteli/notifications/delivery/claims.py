"""The outbox queries of delivery: which rows are due, the claim's candidates and a backlogged
chat's oldest row, holding everything while no token works, and releasing held rows."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Select, exists, func, select, update

from hraniteli.models import OutboxMessage, OutboxState
from hraniteli.notifications.delivery.records import STALE

if TYPE_CHECKING:
    from hraniteli.db import Database

logger = logging.getLogger("hraniteli.notifications.sender")

CLAIMED_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.chat_id,
    OutboxMessage.text,
    OutboxMessage.buttons,
    OutboxMessage.attempts,
    OutboxMessage.recipient_kind,
    OutboxMessage.recipient_ref,
    OutboxMessage.created_at,
    OutboxMessage.expires_at,
)
"""What a claim reads of a row (`records.Claimed`)."""


def due(now: datetime) -> Any:
    return (
        (OutboxMessage.state == OutboxState.PENDING)
        & (OutboxMessage.next_attempt_at <= now)
        & OutboxMessage.chat_id.is_not(None)
    )


def candidates(now: datetime, *, limit: int, leaving_out: Collection[str]) -> Select[Any]:
    """The oldest due rows, locked (skipped if another sender holds them), but those of the
    `leaving_out` chats (chats with a backlog, whose oldest rows come from `heads`)."""
    query = (
        select(*CLAIMED_COLUMNS)
        .where(due(now))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if leaving_out:
        query = query.where(OutboxMessage.chat_id.not_in(sorted(leaving_out)))
    return query


def heads(now: datetime, chats: Collection[str]) -> Select[Any]:
    """The oldest due row of each of `chats` (chats with a backlog, left out of `candidates`)."""
    place = (
        func.row_number()
        .over(partition_by=OutboxMessage.chat_id, order_by=(OutboxMessage.created_at, OutboxMessage.id))
        .label("place")
    )
    ranked = (
        select(OutboxMessage.id, place).where(due(now), OutboxMessage.chat_id.in_(sorted(chats))).subquery()
    )
    return (
        select(*CLAIMED_COLUMNS)
        .where(OutboxMessage.id.in_(select(ranked.c.id).where(ranked.c.place == 1)))
        .with_for_update(skip_locked=True)
    )


async def any_due(database: Database, now: datetime) -> bool:
    async with database.unit_of_work(write=False) as session:
        return bool(await session.scalar(select(exists().where(due(now)))))


async def hold_due(database: Database, now: datetime, reason: str) -> int:
    """Every due row becomes `held` (no token, or one Telegram rejects)."""
    async with database.unit_of_work() as session:
        result = await session.execute(
            update(OutboxMessage)
            .where(due(now))
            .values(state=OutboxState.HELD, last_error=reason)
            .execution_options(synchronize_session=False)
        )
        held = cast("CursorResult[Any]", result).rowcount
    if held:
        logger.warning("outbox: %d messages held (%s)", held, reason)
    return held


async def release_held(database: Database, now: datetime, *, created_after: datetime | None = None) -> int:
    """Held rows become pending and due at once (`created_after`: only those newer than it);
    those whose moment has passed (`expires_at`) become `expired` instead."""
    held = (OutboxMessage.state == OutboxState.HELD) & OutboxMessage.chat_id.is_not(None)
    if created_after is not None:
        held &= OutboxMessage.created_at > created_after
    stale = OutboxMessage.expires_at.is_not(None) & (OutboxMessage.expires_at <= now)
    async with database.unit_of_work() as session:
        expired = await session.execute(
            update(OutboxMessage)
            .where(held & stale)
            .values(state=OutboxState.EXPIRED, last_error=STALE)
            .execution_options(synchronize_session=False)
        )
        released = await session.execute(
            update(OutboxMessage)
            .where(held)
            .values(state=OutboxState.PENDING, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    counts = [cast("CursorResult[Any]", result).rowcount for result in (released, expired)]
    if any(counts):
        logger.info("outbox: %d held messages released, %d expired", *counts)
    return counts[0]
