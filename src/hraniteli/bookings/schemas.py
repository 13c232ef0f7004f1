"""Booking payloads of the clean API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hraniteli.models.enums import BookingStatus


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID
    client_id: uuid.UUID | None = None
    application_ref: str | None = Field(default=None, max_length=64)
    is_helpful_hand: bool = False
    is_auto_assigned: bool = False


class BookingCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slot_id: uuid.UUID
    psychologist_id: uuid.UUID
    client_id: uuid.UUID | None
    application_ref: str | None
    start_at: datetime
    end_at: datetime
    status: BookingStatus
    is_confirmed: bool
    is_auto_assigned: bool
    is_auto_canceled: bool
    is_helpful_hand: bool
    meeting_link: str | None
    created_at: datetime
    cancelled_at: datetime | None
