"""Bookings: a client's claim on a slot, with its status, flags and meeting link."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hraniteli.models.base import Base, uuid_pk
from hraniteli.models.enums import BookingStatus

ACTIVE_WHERE = "status IN ('pending', 'confirmed')"


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index(
            "uq_bookings_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=text(ACTIVE_WHERE),
            postgresql_where=text(ACTIVE_WHERE),
        ),
        Index("ix_bookings_psychologist_start", "psychologist_id", "start_at"),
        CheckConstraint("end_at > start_at", name="time_range"),
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'cancelled', 'completed', 'missed')", name="status"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), index=True)
    psychologist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("psychologists.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    application_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    """The application ("заявка") number the booking came from, as the client sent it."""
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    """Copied from the slot so the database itself can forbid overlapping bookings."""
    status: Mapped[BookingStatus] = mapped_column(String(16), default=BookingStatus.PENDING)
    is_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_auto_assigned: Mapped[bool] = mapped_column(Boolean, default=False)
    is_auto_canceled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_helpful_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    meeting_platform: Mapped[str | None] = mapped_column(String(16))
    """zoom / meet / jitsi."""
    meeting_account: Mapped[str | None] = mapped_column(String(200))
    """Which Zoom account hosts the meeting (one account cannot host two at once)."""
    meeting_link: Mapped[str | None] = mapped_column(String(500))
    meeting_id: Mapped[str | None] = mapped_column(String(200))
    calendar_meeting_id: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
