"""The outbox: enqueue messages in the caller's transaction; list them for administrators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.models import OutboxMessage, OutboxState

TEXT_LIMIT = 4096
"""Telegram's longest message text, counted in UTF-16 code units as the Bot API counts."""
DEDUPE_KEY_LENGTH = 300

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


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many of the text's first characters take at most `limit` UTF-16 code units
    (characters outside the Basic Multilingual Plane, such as most emoji, take two)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def text_parts(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """The text as Telegram can take it: one part, or several of at most `limit` each, cut at
    the last paragraph break, else line break, else space in the second half of a part (a
    word is never cut unless a part holds one word only)."""
    parts: list[str] = []
    rest = text
    while _utf16_length(rest) > limit:
        fits = _fitting(rest, limit)
        head = rest[:fits]
        cut = fits
        for separator in ("\n\n", "\n", " "):
            at = head.rfind(separator)
            if at > fits // 2:
                cut = at
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return [part for part in parts if part] or [text]


@dataclass(frozen=True)
class Part:
    """One row of a message: a text over Telegram's limit is written as several rows, in order
    (a microsecond apart), the buttons on the last one."""

    dedupe_key: str
    text: str
    buttons: list[list[dict[str, Any]]] | None
    created_at: datetime


def message_parts(
    dedupe_key: str, text: str, buttons: list[list[Button]] | None, now: datetime
) -> list[Part]:
    texts = text_parts(text)
    keyboard = [[button.as_dict() for button in row] for row in buttons] if buttons else None
    parts = []
    for number, part in enumerate(texts, start=1):
        suffix = f"#{number}" if number > 1 else ""
        parts.append(
            Part(
                dedupe_key=dedupe_key[: DEDUPE_KEY_LENGTH - len(suffix)] + suffix,
                text=part,
                buttons=keyboard if number == len(texts) else None,
                created_at=now + timedelta(microseconds=number - 1),
            )
        )
    return parts


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
    expires_at: datetime | None = None,
) -> OutboxMessage | None:
    """Write one message in the current transaction; a repeated `dedupe_key` writes nothing.
    Returns its (first) row.

    Without a chat (the person never started the bot) the row is kept as `no_chat`, so the
    admin pages still show what would have been said. A text longer than Telegram takes is
    written as several rows (`message_parts`). After `expires_at` it is not sent (`expired`).
    """
    parts = message_parts(dedupe_key, text, buttons, now)
    existing = (
        await session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == parts[0].dedupe_key))
    ).first()
    if existing is not None:
        return None
    rows = [
        OutboxMessage(
            id=uuid.uuid4(),
            dedupe_key=part.dedupe_key,
            recipient_kind=recipient_kind,
            recipient_ref=recipient_ref,
            chat_id=chat_id,
            text=part.text,
            buttons=part.buttons,
            state=initial_state(chat_id),
            attempts=0,
            next_attempt_at=now,
            created_at=part.created_at,
            expires_at=expires_at,
        )
        for part in parts
    ]
    try:
        async with session.begin_nested():
            session.add_all(rows)
            await session.flush()
    except IntegrityError:
        return None
    return rows[0]


def initial_state(chat_id: str | None) -> OutboxState:
    """A new message's state: due, or kept for the admin pages until the person has a chat."""
    return OutboxState.PENDING if chat_id else OutboxState.NO_CHAT


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
