"""Clients: people who apply for sessions (health data lives with their applications)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hraniteli.models.base import Base, uuid_pk
from hraniteli.models.enums import Sex


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[uuid.UUID] = uuid_pk()
    telegram_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    telegram_username: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[Sex | None] = mapped_column(String(16))
    contact_type: Mapped[str | None] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(String(300))
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
