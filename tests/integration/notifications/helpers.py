"""Writing outbox rows the way services do, and reading them back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hraniteli.db import Database
from hraniteli.models import OutboxMessage
from hraniteli.notifications import service as outbox
from hraniteli.notifications.service import CLIENT, Button

CHAT_A = "100001"
CHAT_B = "100002"
CHAT_C = "100003"


async def enqueue(
    database: Database,
    *,
    key: str,
    chat_id: str | None,
    text: str,
    now: datetime,
    buttons: list[list[Button]] | None = None,
    kind: str = CLIENT,
    ref: str | None = None,
    expires_at: datetime | None = None,
) -> OutboxMessage | None:
    """One message in its own committed unit of work."""
    async with database.unit_of_work() as session:
        return await outbox.enqueue(
            session,
            dedupe_key=key,
            recipient_kind=kind,
            recipient_ref=ref,
            chat_id=chat_id,
            text=text,
            buttons=buttons,
            now=now,
            expires_at=expires_at,
        )


async def row(database: Database, key: str) -> OutboxMessage:
    async with database.unit_of_work(write=False) as session:
        return (
            await session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
        ).scalar_one()


async def rows(database: Database) -> list[OutboxMessage]:
    async with database.unit_of_work(write=False) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.dedupe_key)
        return list((await session.execute(query)).scalars())
