"""Slot strings without a year ("05.07 14:00", "05.7 14:00", "5.7 14:00") and dates."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from hraniteli.kit.bounds import FIRST_DATE, LAST_DATE
from hraniteli.kit.moscow import MSK

_SLOT = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})(?:\.(\d{2}|\d{4}))?[\sT,]+(\d{1,2}):(\d{2})(?::\d{2})?\s*$")
_DAY_MONTH = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2})?\s*$")

YEARS = range(FIRST_DATE.year, LAST_DATE.year + 1)
"""Years clients may name explicitly (kit.bounds): far-off years are typos, and near 1 or 9999
the shift from Moscow time to UTC (or a window's end) overflows `datetime`."""

LOOKBACK = timedelta(days=7)
"""A day-month up to a week behind today is read as this past date (and then refused as past),
not as the same day next year: "22.11" typed on 23.11 is a mistake, not a plan for next year."""


class BadSlotString(ValueError):
    """A slot string, date or time that cannot be understood."""


def parse_time(text: str) -> time:
    match = _TIME.match(text or "")
    if not match:
        raise BadSlotString(f"time must look like HH:mm, got {text!r}")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise BadSlotString(f"no such time of day: {text!r}")
    return time(hour, minute)


def _check_year(year: int, text: str) -> None:
    if year not in YEARS:
        raise BadSlotString(f"the year must be between {YEARS[0]} and {YEARS[-1]}, got {text!r}")


def resolve_day_month(day: int, month: int, *, today: date) -> date:
    """The date with this day and month nearest to `today` going forward (see LOOKBACK)."""
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise BadSlotString(f"no such date: {day:02d}.{month:02d}")
    earliest = today - LOOKBACK
    # Up to 8 years ahead: the next 29.02 can be that far (2096 → 2104, as 2100 is no leap year).
    for year in range(today.year - 1, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= earliest:
            return candidate
    raise BadSlotString(f"no such date: {day:02d}.{month:02d}")


def parse_date(text: str, *, today: date) -> date:
    """`YYYY-MM-DD` or a year-less `DD.MM` / `D.M`."""
    text = text or ""
    iso = _ISO_DATE.match(text)
    if iso:
        _check_year(int(iso[1]), text)
        try:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError as exc:
            raise BadSlotString(f"no such date: {text!r}") from exc
    short = _DAY_MONTH.match(text)
    if short:
        return resolve_day_month(int(short[1]), int(short[2]), today=today)
    raise BadSlotString(f"date must look like DD.MM or YYYY-MM-DD, got {text!r}")


def parse_slot_string(text: str, *, now: datetime, tz: tzinfo = MSK) -> datetime:
    """An aware instant (in `tz`) for a slot string like "05.7 14:00"; no year means nearest ahead."""
    if not isinstance(text, str):
        raise BadSlotString("slot must be a string like 'DD.MM HH:mm'")
    match = _SLOT.match(text)
    if not match:
        raise BadSlotString(f"slot must look like 'DD.MM HH:mm', got {text!r}")
    day, month, year, hour, minute = match.groups()
    clock = parse_time(f"{hour}:{minute}")
    if year is not None:
        full_year = int(year) if len(year) == 4 else 2000 + int(year)
        _check_year(full_year, text)
        try:
            the_date = date(full_year, int(month), int(day))
        except ValueError as exc:
            raise BadSlotString(f"no such date: {text!r}") from exc
    else:
        the_date = resolve_day_month(int(day), int(month), today=now.astimezone(tz).date())
    return combine(the_date, clock, tz)


def combine(the_date: date, clock: time, tz: tzinfo) -> datetime:
    """A wall-clock date and time in `tz` as an aware instant; refuses times a DST jump skips."""
    local = datetime.combine(the_date, clock).replace(tzinfo=tz)
    round_trip = local.astimezone(MSK).astimezone(tz)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise BadSlotString(
            f"{the_date.isoformat()} {clock:%H:%M} does not exist in this time zone (the clocks jump over it)"
        )
    return local


def split_list(value: object, separators: str = ";,") -> list[str]:
    """A `;`/`,`-joined string or a list, as the clients send psychologist and slot lists."""
    if value is None:
        return []
    if isinstance(value, list):
        items = [str(item) for item in value]
    elif isinstance(value, str):
        items = [value]
        for separator in separators:
            items = [part for item in items for part in item.split(separator)]
    else:
        items = [str(value)]
    return [item.strip() for item in items if item and item.strip() and item.strip() != "null"]
