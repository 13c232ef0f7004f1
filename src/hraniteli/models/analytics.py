"""Form funnel analytics and the research questionnaire rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hraniteli.models.base import Base, uuid_pk


class FormSession(Base):
    """One filling of a form, keyed by the number the page generated."""

    __tablename__ = "form_sessions"

    id: Mapped[uuid.UUID] = uuid_pk()
    number: Mapped[str] = mapped_column(String(64), unique=True)
    form_type: Mapped[str | None] = mapped_column(String(200), index=True)
    last_step: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FormStep(Base):
    """A step a form session reached (one row per number and step)."""

    __tablename__ = "form_steps"
    __table_args__ = (Index("uq_form_steps_number_step", "number", "step", unique=True),)

    id: Mapped[uuid.UUID] = uuid_pk()
    number: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime]


class FormAnswer(Base):
    """The latest value a form session gave for an analytics field (`step-analytics`)."""

    __tablename__ = "form_answers"
    __table_args__ = (Index("uq_form_answers_number_field", "number", "field", unique=True),)

    id: Mapped[uuid.UUID] = uuid_pk()
    number: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)
    at: Mapped[datetime]


class ResearchResponse(Base):
    """A research questionnaire; its integer id is the `rowId`/`baserowId` the pages keep."""

    __tablename__ = "research_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    contact_type: Mapped[str | None] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(200))
    application_number: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    submitter_key: Mapped[str | None] = mapped_column(String(64), index=True)
    """A keyed hash of the submitter's address: `get-sheets-row-number` answers their own row."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
