"""Linking a client's Telegram chat to their application (the bot's `/start <number>`).

A chat may act on an application only when it proves it is that client's: the start link the
service itself issued carries the proof, the sender's Telegram username is the application's
contact, or the sender shares (with Telegram's own button) the phone number the application
names. Anything else is refused in words, reveals nothing about the application, and tells the
administrators.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.applications import repository
from hraniteli.errors import InvalidInput
from hraniteli.kit.contacts import contact_key, phone_digits, telegram_username
from hraniteli.kit.proof import Proofs, Purpose, split
from hraniteli.models import Application, Client, OutboxMessage, OutboxState
from hraniteli.notifications import service as outbox

HELD_FOR = timedelta(days=2)
"""Messages written while the client had no chat, younger than this, go out once they have one."""
PHONE_LINKS_WITHIN = timedelta(days=90)
"""A shared phone number links the applications of this recent past that name it."""


class LinkOutcome(StrEnum):
    LINKED = "linked"
    ASK_PHONE = "ask_phone"  # the application names a phone: the sender may prove it is theirs
    REFUSED = "refused"


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    numbers: list[str] = field(default_factory=list)
    """The applications now linked to the chat (only when LINKED)."""


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


async def attach_chat(
    session: AsyncSession,
    *,
    application: Application,
    telegram_id: object,
    username: str | None,
    now: datetime,
) -> Client:
    """Give the application's client this chat (the caller checked it may), and send the
    messages kept for them meanwhile."""
    chat = _telegram_id(telegram_id)
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


async def _taken_by_another_chat(session: AsyncSession, application: Application, chat: str) -> bool:
    if application.client_id is None:
        return False
    current = await session.get(Client, application.client_id)
    return current is not None and current.telegram_id not in (None, chat)


async def link_from_start(
    session: AsyncSession,
    *,
    start: str,
    telegram_id: object,
    username: str | None,
    proofs: Proofs,
    admin_chat_id: str | None,
    now: datetime,
) -> LinkResult:
    """`/start <number>`: link the chat if it proves the application is its client's."""
    chat = _telegram_id(telegram_id)
    claimed = split(start)
    if claimed.token is not None:
        application = await repository.get_application_by_number(session, claimed.ref)
        if application is not None and proofs.is_valid(Purpose.CLIENT, application.number, claimed.token):
            await attach_chat(session, application=application, telegram_id=chat, username=username, now=now)
            return LinkResult(LinkOutcome.LINKED, [application.number])
    number = claimed.ref
    if not number:
        return LinkResult(LinkOutcome.REFUSED)
    # The page builds the link from the number it generated; a colliding number was stored with
    # a suffix (`k3f9a-2`), so the sender's own application may be one of those.
    candidates = [
        application
        for application in await repository.list_applications_numbered(session, number)
        if not await _taken_by_another_chat(session, application, chat)
    ]
    if not candidates:
        return LinkResult(LinkOutcome.REFUSED)
    handle = telegram_username(username)
    sender = f"tg:{handle}" if handle else None
    for application in candidates:
        if sender is not None and application.contact_key == sender:
            await attach_chat(session, application=application, telegram_id=chat, username=username, now=now)
            return LinkResult(LinkOutcome.LINKED, [application.number])
    if any((application.contact_key or "").startswith("tel:") for application in candidates):
        return LinkResult(LinkOutcome.ASK_PHONE)
    await _alert_refused(
        session, admin_chat_id=admin_chat_id, chat=chat, username=username, number=number, now=now
    )
    return LinkResult(LinkOutcome.REFUSED)


async def link_by_phone(
    session: AsyncSession,
    *,
    telegram_id: object,
    username: str | None,
    phone: str,
    shared_by: object,
    admin_chat_id: str | None,
    now: datetime,
) -> LinkResult:
    """The sender shared their phone number with Telegram's button (Telegram vouches for it):
    link the recent applications that name this number and no other chat has."""
    chat = _telegram_id(telegram_id)
    digits = phone_digits(phone if phone.startswith("+") else f"+{phone}")
    if str(shared_by or "") != chat or digits is None:
        return LinkResult(LinkOutcome.REFUSED)
    found = await repository.list_applications_by_contact_key(
        session, contact_key("Phone", f"+{digits}") or "", since=now - PHONE_LINKS_WITHIN
    )
    linked = []
    for application in found:
        if not await _taken_by_another_chat(session, application, chat):
            await attach_chat(session, application=application, telegram_id=chat, username=username, now=now)
            linked.append(application.number)
    if not linked:
        await _alert_refused(
            session, admin_chat_id=admin_chat_id, chat=chat, username=username, number=None, now=now
        )
        return LinkResult(LinkOutcome.REFUSED)
    return LinkResult(LinkOutcome.LINKED, linked)


async def _alert_refused(
    session: AsyncSession,
    *,
    admin_chat_id: str | None,
    chat: str,
    username: str | None,
    number: str | None,
    now: datetime,
) -> None:
    who = f"Чат {chat}" + (f" (@{username})" if username else "")
    what = (
        f"открыл(а) бота по ссылке заявки {number}, но контакт в заявке другой"
        if number
        else "поделился(ась) номером телефона, которого нет в недавних заявках"
    )
    await outbox.enqueue(
        session,
        dedupe_key=f"link-refused:{chat}:{number or 'phone'}:{now:%Y-%m-%d}",
        recipient_kind=outbox.ADMIN,
        chat_id=admin_chat_id,
        text=f"{who} {what}. Бот ничего не показал. "
        "Если это клиент — свяжитесь с ним и привяжите чат вручную.",
        now=now,
    )
