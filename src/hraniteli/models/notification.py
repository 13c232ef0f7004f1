"""The outbox: messages to people, written in the same transaction as their cause."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hraniteli.models.base import Base, uuid_pk
from hraniteli.models.enums import OutboxState


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The sender's claim order (state = pending, oldest first); also the listing by state.
        Index("ix_outbox_messages_state_order", "state", "created_at", "id"),
        # One chat's pending messages in order: a backlogged chat's oldest, holding behind a retry.
        Index("ix_outbox_messages_chat", "chat_id", "state", "created_at", "id"),
        Index("uq_outbox_messages_dedupe", "dedupe_key", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    dedupe_key: Mapped[str] = mapped_column(String(300))
    """One message per cause and recipient, e.g. `booking:<id>:reminder:client`."""
    recipient_kind: Mapped[str] = mapped_column(String(16))
    """client / psychologist / admin."""
    recipient_ref: Mapped[str | None] = mapped_column(String(64))
    """The client's or psychologist's id (for the admin pages); None for the admin chat."""
    chat_id: Mapped[str | None] = mapped_column(String(64))
    """Telegram chat to deliver to; None when the person has not started the bot yet."""
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[list[dict[str, Any]]] | None] = mapped_column(JSON)
    state: Mapped[OutboxState] = mapped_column(String(16), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    """After this the message is useless or misleading (a request to confirm a session that has
    begun): it is marked `expired` instead of sent. None: it never goes stale."""
