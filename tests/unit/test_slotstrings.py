"""Year-less slot strings ("05.07 14:00"), dates, times and the lists clients send."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hraniteli.kit.moscow import MSK
from hraniteli.kit.slotstrings import (
    LOOKBACK,
    BadSlotString,
    combine,
    parse_date,
    parse_slot_string,
    parse_time,
    resolve_day_month,
    split_list,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOVOSIBIRSK = ZoneInfo("Asia/Novosibirsk")


def msk(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


# --- the three shapes -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["05.07 14:00", "05.7 14:00", "5.7 14:00", " 5.07  14:00 ", "5.7 14:00:00"])
def test_every_shape_of_a_slot_string_means_the_same_instant(text: str) -> None:
    parsed = parse_slot_string(text, now=msk(2026, 3, 2))

    assert parsed == msk(2026, 7, 5, 14)
    assert parsed.utcoffset() == timedelta(hours=3)
    assert parsed.astimezone(UTC) == datetime(2026, 7, 5, 11, 0, tzinfo=UTC)


def test_a_slot_string_can_carry_a_year() -> None:
    now = msk(2026, 3, 2)

    assert parse_slot_string("05.07.2027 14:00", now=now) == msk(2027, 7, 5, 14)
    assert parse_slot_string("05.07.27 14:00", now=now) == msk(2027, 7, 5, 14)


def test_a_slot_string_is_read_in_the_zone_it_is_given() -> None:
    parsed = parse_slot_string("04.03 10:00", now=msk(2026, 3, 2), tz=NOVOSIBIRSK)

    assert parsed.astimezone(UTC) == datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    assert parsed.astimezone(MSK) == msk(2026, 3, 4, 6)


def test_the_date_is_taken_in_the_given_zone_not_in_utc() -> None:
    """At 23:30 UTC on 31 Dec it is already 1 Jan in Moscow: "01.01" is today, not next year."""
    now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)

    assert parse_slot_string("01.01 10:00", now=now) == msk(2027, 1, 1, 10)


# --- the year: nearest ahead, with a short look back -------------------------------------------


def test_at_new_year_a_january_date_rolls_into_the_next_year() -> None:
    assert parse_slot_string("02.01 10:00", now=msk(2026, 12, 30)) == msk(2027, 1, 2, 10)


def test_just_after_new_year_a_late_december_date_stays_in_the_year_before_and_is_past() -> None:
    now = msk(2027, 1, 2)

    parsed = parse_slot_string("30.12 10:00", now=now)

    assert parsed == msk(2026, 12, 30, 10)
    assert parsed < now


def test_a_date_a_few_days_ago_is_this_years_past_date_not_next_years() -> None:
    now = msk(2026, 3, 5)

    parsed = parse_slot_string("02.03 10:00", now=now)

    assert parsed == msk(2026, 3, 2, 10)
    assert parsed < now


def test_the_look_back_ends_after_a_week() -> None:
    today = date(2026, 3, 20)
    within = today - LOOKBACK
    beyond = within - timedelta(days=1)

    assert resolve_day_month(within.day, within.month, today=today) == within
    assert resolve_day_month(beyond.day, beyond.month, today=today) == beyond.replace(year=2027)


def test_today_is_today() -> None:
    assert resolve_day_month(2, 3, today=date(2026, 3, 2)) == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 2), date(2028, 2, 29)),
        (date(2025, 6, 1), date(2028, 2, 29)),
        (date(2027, 1, 10), date(2028, 2, 29)),
        (date(2029, 3, 1), date(2032, 2, 29)),
        (date(2028, 3, 3), date(2028, 2, 29)),  # a few days ago in a leap year: the look back
        (date(2028, 3, 20), date(2032, 2, 29)),
        (date(2097, 5, 1), date(2104, 2, 29)),  # 2100 is not a leap year
    ],
)
def test_29_february_means_the_next_29_february(today: date, expected: date) -> None:
    assert resolve_day_month(29, 2, today=today) == expected
    now = datetime.combine(today, time(9), tzinfo=MSK)
    assert parse_slot_string("29.02 10:00", now=now) == datetime.combine(expected, time(10), tzinfo=MSK)


# --- malformed input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "32.01 10:00",
        "00.01 10:00",
        "10.13 10:00",
        "10.00 10:00",
        "31.04 10:00",
        "05.07 24:00",
        "05.07 10:60",
        "05.07",
        "10:00",
        "",
        "   ",
        "abc",
        "05/07 10:00",
        "05-07 10:00",
        "05.07 10.00",
        "05.07.2026.1 10:00",
        "30.02.2027 10:00",
    ],
)
def test_malformed_slot_strings_are_refused(text: str) -> None:
    with pytest.raises(BadSlotString):
        parse_slot_string(text, now=msk(2026, 3, 2))


@pytest.mark.parametrize("value", [None, 5, ["05.07 14:00"], {"slot": "05.07 14:00"}])
def test_a_slot_that_is_not_a_string_is_refused(value: object) -> None:
    with pytest.raises(BadSlotString):
        parse_slot_string(value, now=msk(2026, 3, 2))  # type: ignore[arg-type]


# --- dates and times on their own --------------------------------------------------------------


def test_parse_date_reads_iso_and_year_less_dates() -> None:
    today = date(2026, 12, 30)

    assert parse_date("2026-03-04", today=today) == date(2026, 3, 4)
    assert parse_date("04.03", today=today) == date(2027, 3, 4)
    assert parse_date("4.3", today=today) == date(2027, 3, 4)


@pytest.mark.parametrize("text", ["", "2026-02-30", "2026-3-4", "04.03.2026x", "tomorrow", "13.13"])
def test_parse_date_refuses_nonsense(text: str) -> None:
    with pytest.raises(BadSlotString):
        parse_date(text, today=date(2026, 3, 2))


def test_parse_time_reads_hours_and_minutes() -> None:
    assert parse_time("9:05") == time(9, 5)
    assert parse_time("00:00") == time(0, 0)
    assert parse_time("23:59:30") == time(23, 59)


@pytest.mark.parametrize("text", ["24:00", "10:60", "1000", "10:5", "", "ten"])
def test_parse_time_refuses_nonsense(text: str) -> None:
    with pytest.raises(BadSlotString):
        parse_time(text)


# --- wall clock and daylight saving ----------------------------------------------------------


def test_combine_refuses_a_wall_clock_time_skipped_by_dst() -> None:
    with pytest.raises(BadSlotString, match="does not exist"):
        combine(date(2026, 3, 29), time(2, 30), BERLIN)


def test_combine_takes_the_times_around_a_dst_jump() -> None:
    assert combine(date(2026, 3, 29), time(1, 30), BERLIN).astimezone(UTC) == datetime(
        2026, 3, 29, 0, 30, tzinfo=UTC
    )
    assert combine(date(2026, 3, 29), time(3, 0), BERLIN).astimezone(UTC) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )


def test_an_hour_repeated_by_dst_means_its_first_occurrence() -> None:
    assert combine(date(2026, 10, 25), time(2, 30), BERLIN).astimezone(UTC) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_a_slot_string_skipped_by_dst_is_refused() -> None:
    with pytest.raises(BadSlotString):
        parse_slot_string("29.03 02:30", now=msk(2026, 3, 2), tz=BERLIN)


@pytest.mark.parametrize(
    "day", [date(2026, 3, 29), date(2026, 10, 25), date(2026, 6, 21), date(2026, 12, 21)]
)
def test_moscow_has_no_dst_every_wall_clock_time_exists_and_is_utc_plus_3(day: date) -> None:
    for hour in range(24):
        for minute in (0, 30):
            instant = combine(day, time(hour, minute), MSK)
            assert instant.utcoffset() == timedelta(hours=3)
            assert instant.astimezone(UTC) + timedelta(hours=3) == datetime.combine(
                day, time(hour, minute), tzinfo=UTC
            )


# --- lists ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Иванова Анна;Петров Пётр", ["Иванова Анна", "Петров Пётр"]),
        ("Иванова Анна, Петров Пётр", ["Иванова Анна", "Петров Пётр"]),
        ("a;b,c", ["a", "b", "c"]),
        (" a ; ; b ;", ["a", "b"]),
        (["Иванова Анна", " Петров Пётр ", "", "null"], ["Иванова Анна", "Петров Пётр"]),
        ("Иванова Анна", ["Иванова Анна"]),
        ("null", []),
        ("a;null", ["a"]),
        ("", []),
        (None, []),
        ([], []),
        (42, ["42"]),
    ],
)
def test_split_list(value: object, expected: list[str]) -> None:
    assert split_list(value) == expected


def test_split_list_takes_list_items_whole() -> None:
    assert split_list(["a;b", "c"]) == ["a;b", "c"]


def test_split_list_with_other_separators() -> None:
    assert split_list("a|b;c", separators="|") == ["a", "b;c"]
