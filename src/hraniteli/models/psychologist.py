"""Psychologists: the questionnaire (seed 003), card fields, modes, quota, editor secret."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hraniteli.models.base import Base, uuid_pk
from hraniteli.models.enums import ClientSexAccepted, PsychologistGroup, Sex


class Psychologist(Base):
    __tablename__ = "psychologists"
    __table_args__ = (
        CheckConstraint("min_client_age <= max_client_age", name="client_age_range"),
        CheckConstraint(
            "min_price IS NULL OR max_price IS NULL OR min_price <= max_price", name="price_range"
        ),
        CheckConstraint("debt >= 0", name="debt_not_negative"),
        CheckConstraint("sessions_provided >= 0", name="sessions_provided_not_negative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    """Display name "Фамилия Имя": the compat layer's key, never a foreign key here."""
    telegram_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    editor_secret: Mapped[str] = mapped_column(String(128), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")

    sex: Mapped[Sex | None] = mapped_column(String(16))
    age: Mapped[int | None] = mapped_column(Integer)
    city: Mapped[str | None] = mapped_column(String(200))
    about: Mapped[str | None] = mapped_column(Text)
    experience: Mapped[str | None] = mapped_column(String(64))
    personal_therapy_type: Mapped[str | None] = mapped_column(Text)
    personal_therapy_duration: Mapped[str | None] = mapped_column(Text)
    main_modal: Mapped[str | None] = mapped_column(String(200))
    additional_modals: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Sensitive states/events/diagnoses the psychologist agrees to work with (seed 003)."""
    queries: Mapped[list[str]] = mapped_column(JSON, default=list)
    telegram_link: Mapped[str | None] = mapped_column(String(300))
    site_link: Mapped[str | None] = mapped_column(String(300))
    vk_link: Mapped[str | None] = mapped_column(String(300))
    photo_url: Mapped[str | None] = mapped_column(String(500))
    video_url: Mapped[str | None] = mapped_column(String(500))
    contact: Mapped[str | None] = mapped_column(String(300))
    is_married: Mapped[bool | None] = mapped_column(Boolean)
    has_children: Mapped[bool | None] = mapped_column(Boolean)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    in_community: Mapped[bool] = mapped_column(Boolean, default=True)
    is_onboarding_finished: Mapped[bool] = mapped_column(Boolean, default=False)

    min_price: Mapped[int | None] = mapped_column(Integer)
    max_price: Mapped[int | None] = mapped_column(Integer)
    is_first_free: Mapped[bool] = mapped_column(Boolean, default=False)
    is_help_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    help_hand_min_price: Mapped[int] = mapped_column(Integer, default=0)
    """Lowest per-session price (roubles) accepted from a Helpful Hand client; 0 takes free ones."""
    is_all_with_price: Mapped[bool] = mapped_column(Boolean, default=True)
    does_diagnostics: Mapped[bool] = mapped_column(Boolean, default=False)
    """Takes diagnostic sessions (`schedule-diagnosis-v2`, `ds_` applications)."""
    group: Mapped[PsychologistGroup] = mapped_column(String(32), default=PsychologistGroup.COMMUNITY)

    debt: Mapped[int] = mapped_column(Integer, default=0)
    """Monthly quota of sessions the psychologist owes the service."""
    sessions_provided: Mapped[int] = mapped_column(Integer, default=0)
    """Sessions provided this month (`number_of_clients_provided`), recounted daily."""
    client_sex: Mapped[ClientSexAccepted] = mapped_column(String(16), default=ClientSexAccepted.ANY)
    min_client_age: Mapped[int] = mapped_column(Integer, default=18)
    max_client_age: Mapped[int] = mapped_column(Integer, default=100)

    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_assignment: Mapped[bool] = mapped_column(Boolean, default=True)
    schedule_revision: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped with every change of this psychologist's slots: keys the schedule cache."""
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    education: Mapped[list[Education]] = relationship(
        back_populates="psychologist",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="Education.position",
    )


class Education(Base):
    __tablename__ = "psychologist_education"

    id: Mapped[uuid.UUID] = uuid_pk()
    psychologist_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("psychologists.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text, default="")
    program_title: Mapped[str] = mapped_column(Text, default="")
    doc_type: Mapped[str] = mapped_column(String(200), default="")
    year: Mapped[int | None] = mapped_column(Integer)

    psychologist: Mapped[Psychologist] = relationship(back_populates="education", lazy="raise")
