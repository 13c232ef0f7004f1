"""The outbox: enqueue messages in the caller's transaction; list them for administrators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.models import OutboxMessage, OutboxState

ADMIN = "admin"
CLIENT = "client"
PSYCHOLOGIST = "psychologist"


@dataclass(frozen=True)
class Button:
    """An inline keyboard button: a callback (`data`) or a link (`url`)."""

    text: str
    data: str | None = None
    url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        button: dict[str, Any] = {"text": self.text}
        if self.url:
            button["url"] = self.url
        else:
            button["callback_data"] = self.data or self.text
        return button


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    recipient_kind: str,
    chat_id: str | None,
    text: str,
    now: datetime,
    recipient_ref: str | None = None,
    buttons: list[list[Button]] | None = None,
) -> OutboxMessage | None:
    """Write one message in the current transaction; a repeated `dedupe_key` writes nothing.

    Without a chat (the person never started the bot) the row is kept as `no_chat`, so the
    admin pages still show what would have been said.
    """
    existing = (
        await session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    ).first()
    if existing is not None:
        return None
    message = OutboxMessage(
        id=uuid.uuid4(),
        dedupe_key=dedupe_key[:300],
        recipient_kind=recipient_kind,
        recipient_ref=recipient_ref,
        chat_id=chat_id,
        text=text,
        buttons=[[button.as_dict() for button in row] for row in buttons] if buttons else None,
        state=OutboxState.PENDING if chat_id else OutboxState.NO_CHAT,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError:
        return None
    return message


async def list_messages(
    session: AsyncSession,
    *,
    state: OutboxState | None = None,
    recipient_kind: str | None = None,
    dedupe_prefix: str | None = None,
    limit: int = 100,
) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).limit(limit)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    if recipient_kind is not None:
        query = query.where(OutboxMessage.recipient_kind == recipient_kind)
    if dedupe_prefix:
        query = query.where(OutboxMessage.dedupe_key.like(f"{dedupe_prefix}%"))
    return list((await session.execute(query)).scalars())
