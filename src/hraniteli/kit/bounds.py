"""The range every date, instant and number must fall in before it reaches `datetime` arithmetic
or the database: one definition for the clean API's types and the legacy layer's parsers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime

FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2100, 12, 31)
"""Dates anyone may name. Far-off years are typos; near year 1 or 9999 adding a day, a window or
a time zone overflows `datetime`, and no session of this practice is that far away."""

EARLIEST = datetime.combine(FIRST_DATE, datetime.min.time(), tzinfo=UTC)
LATEST = datetime.combine(LAST_DATE + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
"""Instants in [EARLIEST, LATEST): the same years, in UTC."""

INT32_MAX = 2**31 - 1
"""The largest count or offset taken: it fits every integer column and driver (a PostgreSQL
`integer`, asyncpg's and SQLite's 64-bit binds)."""


class OutOfRange(ValueError):
    """A date or instant outside FIRST_DATE … LAST_DATE."""


def check_date(value: date) -> date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise OutOfRange(f"the date must be between {FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}")
    return value


def check_instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise OutOfRange("the time must carry a UTC offset")
    if not EARLIEST <= value < LATEST:
        raise OutOfRange(f"the time must fall in the years {FIRST_DATE.year}…{LAST_DATE.year}")
    return value


def _day(value: Any) -> date:
    return check_date(value)


def _instant(value: Any) -> datetime:
    return check_instant(value)


Day = Annotated[date, AfterValidator(_day)]
"""A calendar date in FIRST_DATE … LAST_DATE (pydantic and FastAPI answer 422 otherwise)."""

Instant = Annotated[AwareDatetime, AfterValidator(_instant)]
"""An instant with an offset, in the years FIRST_DATE … LAST_DATE (UTC)."""
