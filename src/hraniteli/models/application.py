"""Applications ("заявки"): what a client asked for, its matching candidates and history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hraniteli.models.base import Base, uuid_pk
from hraniteli.models.enums import ApplicationKind, ApplicationStatus, Sex


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_kind_status", "kind", "status"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    number: Mapped[str] = mapped_column(String(64), unique=True)
    """The number the client's page generated (`ticket_id`, `link_id`, `lead_number`)."""
    kind: Mapped[ApplicationKind] = mapped_column(String(32))
    status: Mapped[ApplicationStatus] = mapped_column(String(32))
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The whole form as it arrived (health data: never logged, shown only to who needs it)."""

    client_name: Mapped[str | None] = mapped_column(String(200))
    client_age: Mapped[int | None] = mapped_column(Integer)
    client_sex: Mapped[Sex | None] = mapped_column(String(16))
    contact_type: Mapped[str | None] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(String(300))
    contact_key: Mapped[str | None] = mapped_column(String(320), index=True)
    """The contact in one comparable form (`kit.contacts.contact_key`): who the client is."""
    time_zone_label: Mapped[str | None] = mapped_column(String(64))
    time_offset_hours: Mapped[float] = mapped_column(Float, default=0.0)

    requests: Mapped[list[str]] = mapped_column(JSON, default=list)
    client_states: Mapped[list[str]] = mapped_column(JSON, default=list)
    traumatic_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    diagnoses: Mapped[list[str]] = mapped_column(JSON, default=list)
    takes_medication: Mapped[bool | None]
    preferences: Mapped[list[str]] = mapped_column(JSON, default=list)
    wanted_psychologist_sex: Mapped[Sex | None] = mapped_column(String(16))
    experience: Mapped[str | None] = mapped_column(Text)
    price_category: Mapped[str | None] = mapped_column(String(64))
    price_rub: Mapped[int | None] = mapped_column(Integer)
    promocode: Mapped[str | None] = mapped_column(String(300))
    utm: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    wanted_psychologists: Mapped[list[str]] = mapped_column(JSON, default=list)
    chosen_slots: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Slot strings as the client sent them ("05.7 14:00"), Moscow time unless a zone was given."""
    chosen_slot_ids: Mapped[list[str]] = mapped_column(JSON, default=list)

    claimed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("psychologists.id", ondelete="SET NULL"), index=True
    )
    """Helpful Hand: the psychologist who took the application (first one wins)."""
    claimed_at: Mapped[datetime | None]
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    previous_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("applications.id", ondelete="SET NULL"))
    research_row_id: Mapped[int | None] = mapped_column(Integer)
    result_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApplicationEvent(Base):
    """Status history of an application."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    """Increasing: orders events written within the same instant."""
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    status: Mapped[ApplicationStatus] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class ApplicationCandidate(Base):
    """A psychologist matching found for an application, with rank, score and the reason."""

    __tablename__ = "application_candidates"
    __table_args__ = (UniqueConstraint("application_id", "psychologist_id", name="uq_candidates_pair"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    application_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    psychologist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("psychologists.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
