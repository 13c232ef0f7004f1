"""Pure shaping of slot windows into calendar days (no I/O): the schedule views' backbone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from hraniteli.schedule.repository import SlotView

HOUR_KEYS = tuple(f"{hour:02d}:00" for hour in range(24))
WEEK_ORDINALS = ("первую", "вторую", "третью", "четвёртую", "пятую", "шестую")


@dataclass
class DayGroup:
    day: date
    hours: dict[str, list[tuple[SlotView, datetime]]] = field(default_factory=dict)
    """Hour key → (slot, its local start) in the order the slots came."""


def days_between(start_date: date, end_date: date, *, skip_weekdays: Sequence[int] = ()) -> list[date]:
    days = []
    day = start_date
    while day <= end_date:
        if day.weekday() not in skip_weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


def group_by_day(
    views: Iterable[SlotView],
    *,
    tz: tzinfo,
    start_date: date,
    end_date: date,
    skip_weekdays: Sequence[int] = (),
    hour_keys: Sequence[str] = HOUR_KEYS,
) -> list[DayGroup]:
    """Every day of [start_date, end_date] in `tz` (minus skipped weekdays), each with all
    `hour_keys` present; slots land under their local start hour ("HH:00")."""
    groups = {
        day: DayGroup(day, {key: [] for key in hour_keys})
        for day in days_between(start_date, end_date, skip_weekdays=skip_weekdays)
    }
    for view in views:
        local = view.start_at.astimezone(tz)
        group = groups.get(local.date())
        if group is None:
            continue
        group.hours.setdefault(f"{local.hour:02d}:00", []).append((view, local))
    return list(groups.values())


def first_start_after(views: Iterable[SlotView], now: datetime) -> datetime | None:
    return min((view.start_at for view in views if view.start_at > now), default=None)
