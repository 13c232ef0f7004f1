"""Feedback after a session, from the client (`client-os`, `rate-session`) or the psychologist."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hraniteli.models.base import Base, uuid_pk


class SessionFeedback(Base):
    __tablename__ = "session_feedback"
    __table_args__ = (CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    author: Mapped[str] = mapped_column(String(16))
    """client / psychologist."""
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    application_number: Mapped[str | None] = mapped_column(String(64), index=True)
    psychologist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("psychologists.id", ondelete="SET NULL"), index=True
    )
    rating: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
