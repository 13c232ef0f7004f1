"""Slot and schedule payloads of the clean API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from hraniteli.kit.bounds import Day, Instant
from hraniteli.models.enums import RepeatRule, SlotState


class SlotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_at: Instant | None = Field(
        default=None,
        description="The start as an instant with an offset (e.g. 2026-12-01T10:00:00+03:00).",
    )
    local_date: Day | None = Field(
        default=None, description="Or a wall-clock date in the psychologist's zone…"
    )
    local_time: str | None = Field(default=None, description="…and time HH:mm.", pattern=r"^\d{1,2}:\d{2}$")
    duration_minutes: int | None = Field(default=None, ge=15, le=480)
    repeat: RepeatRule = RepeatRule.NONE


class SlotOut(BaseModel):
    id: uuid.UUID
    psychologist_id: uuid.UUID
    start_at: datetime
    local_start: str
    duration_minutes: int
    state: SlotState
    repeat_rule: RepeatRule


class SlotsCreated(BaseModel):
    slot: SlotOut
    created: bool
    repeated: list[SlotOut]


class ScheduleSlot(BaseModel):
    id: uuid.UUID
    psychologist_id: uuid.UUID
    psychologist: str
    start_at: datetime
    local_time: str
    duration_minutes: int


class ScheduleDay(BaseModel):
    date: date
    slots: list[ScheduleSlot]


class Schedule(BaseModel):
    time_zone: str
    from_date: date
    to_date: date
    days: list[ScheduleDay]
