"""Moscow time and "offset from MSK": the time language of the compat layer and messages."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MSK = ZoneInfo("Europe/Moscow")

DAY_NAMES = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")
DAY_SHORT = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")

_MSK_LABEL = re.compile(r"^\s*(?:МСК|MSK)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?\s*$", re.IGNORECASE)


class BadTimeZone(ValueError):
    """A time zone name or MSK label we cannot interpret."""


def zone(name: str) -> ZoneInfo:
    """An IANA zone by name, with a clear error for a wrong one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # OSError: "Europe" names a directory of the zone database; a long name is too long a path.
        raise BadTimeZone(f"unknown time zone {name!r}") from exc


def msk_offset_zone(offset_hours: float) -> tzinfo:
    """The fixed zone `MSK + offset_hours` (clients send whole hours; halves are tolerated)."""
    if not -15 <= offset_hours <= 15:
        raise BadTimeZone(f"offset from MSK out of range: {offset_hours}")
    if offset_hours == 0:
        return MSK
    return timezone(timedelta(hours=3 + offset_hours))


def parse_offset(value: object) -> float:
    """`userTimeOffsetMsk` as clients send it: a number, a numeric string, '', None."""
    if value is None or value == "" or value == "null":
        return 0.0
    if isinstance(value, bool):
        raise BadTimeZone("offset from MSK must be a number of hours")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError as exc:
            raise BadTimeZone("offset from MSK out of range") from exc
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError as exc:
            raise BadTimeZone(f"offset from MSK must be a number of hours, got {value!r}") from exc
    else:
        raise BadTimeZone("offset from MSK must be a number of hours")
    msk_offset_zone(number)
    return number


def zone_from_label(label: str | None) -> tzinfo:
    """`userTimeZone` values: "МСК", "МСК+4", "МСК-1", or an IANA name; empty means MSK."""
    if label is None or not label.strip() or label.strip().lower() == "null":
        return MSK
    match = _MSK_LABEL.match(label)
    if match:
        sign, hours, minutes = match.groups()
        if sign is None:
            return MSK
        value = int(hours) + (int(minutes) / 60 if minutes else 0)
        return msk_offset_zone(value if sign == "+" else -value)
    return zone(label.strip())


def msk_date(instant: datetime) -> date:
    return instant.astimezone(MSK).date()


def pretty_date(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}"


def day_name(day: date) -> str:
    return DAY_NAMES[day.weekday()]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
