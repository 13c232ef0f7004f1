"""Moscow time, "offset from MSK" and the `userTimeZone` labels clients send."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from hraniteli.kit.moscow import (
    MSK,
    BadTimeZone,
    day_name,
    monday_of,
    msk_date,
    msk_offset_zone,
    parse_offset,
    pretty_date,
    zone,
    zone_from_label,
)

SUMMER = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def utc_offset(tz: tzinfo, at: datetime = SUMMER) -> timedelta:
    offset = at.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


# --- userTimeZone labels ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "hours_from_utc"),
    [
        ("МСК", 3),
        ("мск", 3),
        ("MSK", 3),
        ("МСК+4", 7),
        ("МСК +4", 7),
        ("МСК-1", 2),
        ("MSK+2", 5),
        ("msk-3", 0),
        ("МСК+0", 3),
        ("МСК+9", 12),
        (" МСК+4 ", 7),
    ],
)
def test_msk_labels(label: str, hours_from_utc: int) -> None:
    tz = zone_from_label(label)

    assert utc_offset(tz, SUMMER) == timedelta(hours=hours_from_utc)
    assert utc_offset(tz, WINTER) == timedelta(hours=hours_from_utc)


def test_msk_label_with_half_an_hour() -> None:
    assert utc_offset(zone_from_label("МСК+2:30")) == timedelta(hours=5, minutes=30)


@pytest.mark.parametrize("label", ["", "   ", None, "null", "МСК"])
def test_empty_labels_mean_moscow(label: str | None) -> None:
    assert zone_from_label(label) is MSK


@pytest.mark.parametrize(
    ("label", "summer_hours", "winter_hours"),
    [
        ("Europe/Moscow", 3, 3),
        ("Asia/Novosibirsk", 7, 7),
        ("Europe/Berlin", 2, 1),
        ("America/New_York", -4, -5),
        ("UTC", 0, 0),
    ],
)
def test_iana_names(label: str, summer_hours: int, winter_hours: int) -> None:
    tz = zone_from_label(label)

    assert isinstance(tz, ZoneInfo)
    assert utc_offset(tz, SUMMER) == timedelta(hours=summer_hours)
    assert utc_offset(tz, WINTER) == timedelta(hours=winter_hours)


@pytest.mark.parametrize(
    "label",
    [
        "abc",
        "МСК+",
        "МСК+99",
        "МСК*2",
        "Europe/Atlantis",
        "../../etc/passwd",
        "+4",
        "GMT+25",
        "Europe",  # a directory of the zone database, not a zone
        "Asia/",
        "x" * 300,  # longer than a file name may be
        "Europe/Moscow\x00",
    ],
)
def test_garbage_labels_are_refused(label: str) -> None:
    with pytest.raises(BadTimeZone):
        zone_from_label(label)


def test_zone_names_a_bad_zone_clearly() -> None:
    with pytest.raises(BadTimeZone, match="Mars/Olympus"):
        zone("Mars/Olympus")
    assert zone("Asia/Novosibirsk") == ZoneInfo("Asia/Novosibirsk")


# --- userTimeOffsetMsk ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0.0),
        ("0", 0.0),
        ("4", 4.0),
        (4, 4.0),
        (-1, -1.0),
        ("-1", -1.0),
        (" 2 ", 2.0),
        (1.5, 1.5),
        ("1,5", 1.5),
        ("", 0.0),
        (None, 0.0),
        ("null", 0.0),
    ],
)
def test_parse_offset(value: object, expected: float) -> None:
    assert parse_offset(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        99,
        "99",
        -16,
        True,
        False,
        "nan",
        "inf",
        "1e400",
        pytest.param(10**400, id="10**400"),
        [4],
        {"offset": 4},
    ],
)
def test_parse_offset_refuses_what_is_not_a_sane_number_of_hours(value: object) -> None:
    with pytest.raises(BadTimeZone):
        parse_offset(value)


def test_msk_offset_zone() -> None:
    assert msk_offset_zone(0) is MSK
    assert utc_offset(msk_offset_zone(4)) == timedelta(hours=7)
    assert utc_offset(msk_offset_zone(-1)) == timedelta(hours=2)
    assert utc_offset(msk_offset_zone(0.5)) == timedelta(hours=3, minutes=30)
    assert utc_offset(msk_offset_zone(-15)) == timedelta(hours=-12)
    assert utc_offset(msk_offset_zone(15)) == timedelta(hours=18)


@pytest.mark.parametrize("offset", [15.5, -15.5, 24, -100])
def test_msk_offset_zone_refuses_offsets_no_place_has(offset: float) -> None:
    with pytest.raises(BadTimeZone):
        msk_offset_zone(offset)


def test_a_moscow_wall_clock_hour_seen_from_msk_plus_4() -> None:
    six_msk = datetime(2026, 3, 4, 6, 0, tzinfo=MSK)

    assert six_msk.astimezone(msk_offset_zone(4)).strftime("%H:%M") == "10:00"
    assert six_msk.astimezone(msk_offset_zone(-1)).strftime("%H:%M") == "05:00"


# --- Moscow dates ------------------------------------------------------------------------------


def test_msk_date_is_the_date_in_moscow() -> None:
    assert msk_date(datetime(2026, 12, 31, 21, 30, tzinfo=UTC)) == date(2027, 1, 1)
    assert msk_date(datetime(2026, 12, 31, 20, 59, tzinfo=UTC)) == date(2026, 12, 31)


def test_day_names_and_pretty_dates() -> None:
    assert day_name(date(2026, 3, 2)) == "понедельник"
    assert day_name(date(2026, 3, 8)) == "воскресенье"
    assert pretty_date(date(2026, 3, 2)) == "02.03"
    assert monday_of(date(2026, 3, 8)) == date(2026, 3, 2)
    assert monday_of(date(2026, 3, 2)) == date(2026, 3, 2)
