"""Small builders for test data, going through the same services the app uses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hraniteli.db import Database
from hraniteli.kit.moscow import MSK
from hraniteli.models import Psychologist, Slot
from hraniteli.psychologists import service as psychologists
from hraniteli.psychologists.schemas import PsychologistCreate
from hraniteli.schedule import service as schedule
from hraniteli.schedule.service import SchedulePolicy

POLICY = SchedulePolicy()


async def make_psychologist(
    db: Database, *, now: datetime, name: str = "Иванова Анна", **fields: Any
) -> Psychologist:
    async with db.unit_of_work() as session:
        return await psychologists.create_psychologist(
            session,
            data=PsychologistCreate(name=name, **fields),
            now=now,
            default_time_zone="Europe/Moscow",
        )


async def make_slot(
    db: Database, psychologist: Psychologist, *, start_at: datetime, now: datetime, duration_minutes: int = 60
) -> Slot:
    async with db.unit_of_work() as session:
        added = await schedule.add_slot(
            session,
            psychologist=psychologist,
            start_at=start_at,
            now=now,
            policy=POLICY,
            duration_minutes=duration_minutes,
        )
        return added.slot


def msk(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def days(n: float) -> timedelta:
    return timedelta(days=n)
