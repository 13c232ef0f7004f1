"""Slots: one bookable period of one psychologist, stored as a UTC instant and a duration."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from hraniteli.models.base import Base, uuid_pk
from hraniteli.models.enums import RepeatRule, SlotState


class Slot(Base):
    """On PostgreSQL the migrations also add what SQLite cannot: an exclusion constraint
    (`ex_slots_psychologist_overlap`) that forbids two slots of one psychologist whose
    [start_at, end_at) ranges overlap, and a check that `end_at` is start_at + duration."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("psychologist_id", "start_at", name="uq_slots_psychologist_start"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 480", name="duration"),
        CheckConstraint("state IN ('free', 'booked')", name="state"),
        Index("ix_slots_start_at_state", "start_at", "state"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    psychologist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("psychologists.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    end_at: Mapped[datetime]
    """start_at + duration, kept so by every insert and update of the row (below): the range the
    database's no-overlap constraint reads."""
    state: Mapped[SlotState] = mapped_column(String(16), default=SlotState.FREE)
    repeat_rule: Mapped[RepeatRule] = mapped_column(String(16), default=RepeatRule.NONE)
    repeat_root_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("slots.id", ondelete="SET NULL"), index=True
    )
    """The slot whose repeat rule created this one."""
    is_over_event: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


@event.listens_for(Slot, "before_insert")
@event.listens_for(Slot, "before_update")
def _keep_end_at(_mapper: Any, _connection: Any, slot: Slot) -> None:
    slot.end_at = slot.start_at + timedelta(minutes=slot.duration_minutes)
