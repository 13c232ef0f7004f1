"""Linking a client's Telegram chat to their application (the bot's `/start <number>`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.applications import service as applications
from hraniteli.errors import InvalidInput
from hraniteli.models import Client, OutboxMessage, OutboxState

HELD_FOR = timedelta(days=2)
"""Messages written while the client had no chat, younger than this, go out once they have one."""


def _telegram_id(value: object) -> str:
    text = str(value or "").strip()
    if not text.lstrip("-").isdigit() or len(text) > 32:
        raise InvalidInput("`user_id` must be a Telegram user id", details=[{"field": "user_id"}])
    return text


async def register_client(
    session: AsyncSession, *, telegram_id: object, username: str | None, now: datetime
) -> Client:
    """The client who wrote to the bot (`client-registration`), created if new."""
    chat = _telegram_id(telegram_id)
    client = (await session.execute(select(Client).where(Client.telegram_id == chat))).scalar_one_or_none()
    if client is None:
        client = Client(
            id=uuid.uuid4(),
            telegram_id=chat,
            telegram_username=username,
            contact_type="Telegram",
            contact=f"@{username}" if username else None,
            time_zone="Europe/Moscow",
            created_at=now,
            updated_at=now,
        )
        session.add(client)
        await session.flush()
    elif username and client.telegram_username != username:
        client.telegram_username = username
        client.updated_at = now
    return client


async def link_chat(
    session: AsyncSession, *, number: str, telegram_id: object, username: str | None, now: datetime
) -> Client:
    """The client opened the bot from their application's link (`process-link`): the
    application's client gets this chat, and messages kept for them meanwhile go out."""
    chat = _telegram_id(telegram_id)
    application = await applications.get_by_number(session, number)
    by_chat = (await session.execute(select(Client).where(Client.telegram_id == chat))).scalar_one_or_none()
    current = await session.get(Client, application.client_id) if application.client_id else None
    if by_chat is not None:
        client = by_chat
    elif current is not None and current.telegram_id in (None, chat):
        client = current
        client.telegram_id = chat
    else:
        client = await register_client(session, telegram_id=chat, username=username, now=now)
    if username:
        client.telegram_username = username
    client.updated_at = now
    if application.client_id != client.id:
        application.client_id = client.id
        application.updated_at = now
    await session.flush()
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.recipient_kind == "client",
            OutboxMessage.recipient_ref.in_([str(client.id)] + ([str(current.id)] if current else [])),
            OutboxMessage.state == OutboxState.NO_CHAT,
            OutboxMessage.created_at >= now - HELD_FOR,
            OutboxMessage.expires_at.is_(None) | (OutboxMessage.expires_at > now),
        )
        .values(chat_id=chat, state=OutboxState.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return client
