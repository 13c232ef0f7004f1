"""Everything that happens later is a row: booking timeline events and periodic job runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hraniteli.models.base import Base, uuid_pk
from hraniteli.models.enums import WorkState


class TimelineEvent(Base):
    """One planned step of a booking's life (confirmation request, reminder, …)."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        UniqueConstraint("booking_id", "kind", name="uq_timeline_events_booking_kind"),
        Index("ix_timeline_events_due", "state", "due_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    state: Mapped[WorkState] = mapped_column(String(16), default=WorkState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class JobRun(Base):
    """One tick of a periodic job; unique per job and tick, so no tick runs twice."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "tick_at", name="uq_job_runs_job_tick"),
        Index("ix_job_runs_due", "state", "due_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    job: Mapped[str] = mapped_column(String(64))
    tick_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[WorkState] = mapped_column(String(16), default=WorkState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
