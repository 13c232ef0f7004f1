"""Benchmark of one matching application (issue 3: p99 < 50 ms for the matched schedule).

One run: a fresh database (a temp SQLite file, or PostgreSQL with --postgres / --database-url),
migrated and seeded through SQLAlchemy Core with 300 varied psychologists (sex, the client sex
they accept, client age limits, sensitive skills from `matching.rules`, queries, group — mostly
"community" — debt, sessions provided and a few bookings this month, i.e. a varied quota) and
~100 free slots each over 4 weeks (30,000, Sundays skipped). Then, for ONE application — a
27-year-old woman with "Состояние ужаса, панические атаки" and "Утрата близкого", no wish about
the psychologist's sex, as the questionnaire sends it (contract §3.1):

1. in-process, no HTTP: `matching.service.match` + `schedule.service.named_scope` +
   `schedule.service.free_rows` + `render.aggregated_days` + `orjson.dumps`, as the endpoint
   does them (two read transactions), `--runs` times: p50/p99 and the median of each stage
   (on uvloop, as the server, when it is installed; likewise the raw driver);
2. over HTTP: POST /webhook/get-agregated-schedule-v2 against the production server
   (`hraniteli serve --no-migrate`), with the render cache and with
   HRANITELI_SCHEDULE_CACHE_SIZE=0, at concurrency 1 (one client's wait) and `--concurrency`
   (throughput); the load comes from wrk when installed, else from httpx (`--load`);
3. the raw driver (sqlite3 / asyncpg) reading the same rows — free slots of the matched
   psychologists in the window, joined with the name — at the same concurrencies.

Prints a table with ratios against the raw driver and whether p99 over HTTP is under 50 ms.
Bounded: every scenario is time-limited; a run takes about a minute.

    .venv/bin/python bench/matching.py                 # SQLite (make bench)
    .venv/bin/python bench/matching.py --postgres      # a throwaway PostgreSQL database
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson

from _common import (
    RESULT_TITLES,
    SUNDAY,
    HttpCall,
    Result,
    add_load_options,
    bench_parser,
    check_load_options,
    count_slots,
    format_table,
    headline,
    insert_rows,
    load_label,
    measure_http,
    measure_raw,
    migrated_database,
    msk_at,
    percentiles_ms,
    psychologist_row,
    ratio,
    raw_driver,
    report_progress,
    result_cells,
    run_loop,
    seed_days,
    server,
    slot_row,
    sqlite_instant,
    write_results,
)
from hraniteli.api.compat import render
from hraniteli.api.compat.common import client_zone, window
from hraniteli.applications.forms import parse_form
from hraniteli.db import Database
from hraniteli.kit.moscow import MSK
from hraniteli.matching import rules
from hraniteli.matching import service as matching
from hraniteli.models import ApplicationKind, Booking, Psychologist, Slot, SlotState
from hraniteli.schedule import service as schedule

# isort: split
from tests.payloads import schedule_form, schedule_request  # importable once _common put the root on the path

TARGET_P99_MS = 50.0
WINDOW_DAYS = 28
"""The server's default `schedule_window_days` (free slot counts for the score)."""
CLOSED_WEEKDAYS = (SUNDAY,)
FREE_HOURS = range(9, 21)
"""Free slots start on the hour, 09:00 … 20:00 Moscow time."""
BOOKED_HOUR = 21

SENSITIVE_SKILLS = (
    rules.SKILL_PSYCHIATRIC,
    rules.SKILL_MEDICATION,
    rules.SKILL_PARENTHOOD,
    rules.SKILL_ABUSE,
    rules.SKILL_ADDICTION,
    rules.SKILL_PANIC,
    rules.SKILL_SUICIDE,
    rules.SKILL_LOSS,
    rules.SKILL_TERMINAL,
    rules.SKILL_ADULT_ABUSE,
    rules.SKILL_CHILD_ABUSE,
    rules.SKILL_FEMININITY,
)
QUERIES = (
    "Тревога, беспокойство",
    "Отношения с партнёром",
    "Самооценка, неуверенность в себе",
    "Выгорание, усталость",
    "Поиск себя и своего пути",
    "Депрессивное состояние",
    "Утрата близкого",
    "Состояние ужаса, панические атаки",
    "Конфликты с родителями",
    "Одиночество",
    "Стресс на работе",
    "Расставание, развод",
)
MODALS = ("КПТ", "Гештальт", "Психоанализ", "Схема-терапия", "EMDR", "Экзистенциальная терапия")
SURNAMES = (
    "Иванова",
    "Петрова",
    "Смирнова",
    "Кузнецова",
    "Соколова",
    "Попова",
    "Лебедева",
    "Козлова",
    "Новикова",
    "Морозова",
)
FIRST_NAMES = ("Анна", "Мария", "Елена", "Ольга", "Наталья", "Ирина", "Светлана", "Татьяна")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = bench_parser(__doc__)
    parser.add_argument("--psychologists", type=int, default=300)
    parser.add_argument("--slots-each", type=int, default=100, help="free slots per psychologist")
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--runs", type=int, default=60, help="in-process runs (bounded by --max-seconds)")
    parser.add_argument("--concurrency", type=int, default=8, help="the throughput scenarios")
    parser.add_argument("--seed", type=int, default=2026, help="of the random profiles")
    add_load_options(parser)
    args = parser.parse_args(argv)
    check_load_options(parser, args)
    cells = 6 * args.weeks * len(FREE_HOURS)
    if not 1 <= args.slots_each <= cells:
        parser.error(f"--slots-each must be 1…{cells}")
    if args.psychologists < 1 or args.weeks < 1 or args.concurrency < 1 or args.runs < 1:
        parser.error("--psychologists, --weeks, --concurrency and --runs must be positive")
    return args


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    psychologists: int
    free_slots: int
    bookings: int
    first_day: date
    last_day: date
    seconds: float


def _pick(rng: random.Random, table: list[tuple[Any, float]]) -> Any:
    return rng.choices([value for value, _ in table], weights=[weight for _, weight in table])[0]


def varied_psychologist(index: int, rng: random.Random, now: datetime) -> dict[str, Any]:
    """A varied profile: most pass the application's hard filters, some fail one of them."""
    debt = rng.randint(2, 12)
    additional = rng.sample(MODALS, rng.randint(0, 2))
    return psychologist_row(
        index,
        now,
        name=f"{SURNAMES[index % len(SURNAMES)]} {FIRST_NAMES[index % len(FIRST_NAMES)]} {index:03d}",
        sex=_pick(rng, [("female", 0.8), ("male", 0.18), (None, 0.02)]),
        age=rng.randint(27, 60),
        main_modal=rng.choice(MODALS),
        additional_modals=additional or ["Нет дополнительной модальности"],
        skills=[skill for skill in SENSITIVE_SKILLS if rng.random() < 0.55],
        queries=rng.sample(QUERIES, rng.randint(2, 6)),
        is_married=rng.random() < 0.5,
        has_children=rng.random() < 0.4,
        min_price=rng.choice([None, 1500, 2000, 3000]),
        is_first_free=rng.random() < 0.3,
        is_help_hand=rng.random() < 0.15,
        help_hand_min_price=0,
        does_diagnostics=rng.random() < 0.1,
        group=_pick(rng, [("community", 0.85), ("supervision", 0.1), ("helpful_hand", 0.05)]),
        debt=debt,
        sessions_provided=rng.randint(0, debt),
        client_sex=_pick(rng, [("any", 0.75), ("female", 0.15), ("male", 0.1)]),
        min_client_age=_pick(rng, [(18, 0.8), (21, 0.1), (25, 0.1)]),
        max_client_age=_pick(rng, [(100, 0.75), (65, 0.1), (45, 0.1), (25, 0.05)]),
        is_active=rng.random() < 0.95,
        allow_assignment=rng.random() < 0.95,
    )


async def seed(url: str, args: argparse.Namespace) -> Seeded:
    """Bulk insert: profiles, `slots_each` free slots each on random hours of the coming `weeks`
    weeks (Sundays skipped), and 0–3 booked slots each this month (with their bookings: the
    quota's "booked until month end")."""
    started = time.perf_counter()
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    today = now.astimezone(MSK).date()
    first_day, last_day, days = seed_days(now, args.weeks)
    cells = [(day, hour) for day in days for hour in FREE_HOURS]
    month_days = [day for day in days if day.month == today.month] or days[:5]
    people, slots, bookings = [], [], []
    for index in range(1, args.psychologists + 1):
        person = varied_psychologist(index, rng, now)
        pid = person["id"]
        before = len(slots)
        for day, hour in sorted(rng.sample(cells, args.slots_each)):
            slots.append(slot_row(pid, msk_at(day, hour), SlotState.FREE, now))
        for day in rng.sample(month_days, min(len(month_days), rng.choice([0, 0, 1, 2, 3]))):
            start = msk_at(day, BOOKED_HOUR)
            booked = slot_row(pid, start, SlotState.BOOKED, now)
            slots.append(booked)
            bookings.append(
                {
                    "id": uuid.uuid4(),
                    "slot_id": booked["id"],
                    "psychologist_id": pid,
                    "client_id": None,
                    "application_ref": f"bench{len(bookings):05d}",
                    "start_at": start,
                    "end_at": start + timedelta(hours=1),
                    "status": rng.choice(["pending", "confirmed"]),
                    "is_confirmed": False,
                    "is_auto_assigned": False,
                    "is_auto_canceled": False,
                    "is_helpful_hand": False,
                    "meeting_link": None,
                    "meeting_id": None,
                    "calendar_meeting_id": None,
                    "idempotency_key": None,
                    "cancellation_reason": None,
                    "created_at": now,
                    "updated_at": now,
                    "confirmed_at": None,
                    "cancelled_at": None,
                }
            )
        person["schedule_revision"] = len(slots) - before
        people.append(person)
    await insert_rows(
        url, [(Psychologist.__table__, people), (Slot.__table__, slots), (Booking.__table__, bookings)]
    )
    return Seeded(
        psychologists=len(people),
        free_slots=sum(1 for s in slots if s["state"] == SlotState.FREE.value),
        bookings=len(bookings),
        first_day=first_day,
        last_day=last_day,
        seconds=time.perf_counter() - started,
    )


def application(today: date) -> dict[str, Any]:
    """The matching questionnaire's ScheduleRequest (contract §3.1), today … +1 month."""
    question = "Не могу спать после смерти отца, накрывает паника"
    return schedule_request(
        schedule_form(questions=[question], diagnoses=[], question_to_psychologist=question),
        startDate=today.isoformat(),
        endDate=(today + timedelta(days=30)).isoformat(),
    )


# --- 1. in-process -----------------------------------------------------------------------------

STAGES = ("match", "named_scope", "free_rows", "render", "orjson")


@dataclass(frozen=True)
class Matched:
    body: bytes
    names: list[str]
    ids: list[uuid.UUID]
    bounds: tuple[datetime, datetime]
    """[max(window start, now), window end): what free_rows reads."""
    stages: dict[str, float]


async def matched_schedule(db: Database, payload: dict[str, Any], now: datetime) -> Matched:
    """What POST /webhook/get-agregated-schedule-v2 does on a cache miss, stage by stage."""
    marks = [time.perf_counter()]
    form = parse_form(payload)
    async with db.unit_of_work(write=False) as session:
        verdicts = await matching.match(
            session,
            client=matching.client_profile(form, ApplicationKind.MATCHING),
            now=now,
            window_days=WINDOW_DAYS,
        )
    names = [verdict.name for verdict in verdicts]
    marks.append(time.perf_counter())
    _offset, tz = client_zone(payload)
    today = now.astimezone(tz).date()
    start_date, end_date = window(payload, today=today, default_days=WINDOW_DAYS)
    start_at = datetime.combine(start_date, datetime.min.time(), tzinfo=tz)
    end_at = datetime.combine(end_date + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    async with db.unit_of_work(write=False) as session:
        scope = await schedule.named_scope(session, names)
        marks.append(time.perf_counter())
        rows = await schedule.free_rows(
            session, start_at=start_at, end_at=end_at, psychologist_ids=scope.ids, not_before=now
        )
    marks.append(time.perf_counter())
    body: dict[str, Any] = {
        "items": render.aggregated_days(
            rows, tz=tz, start_date=start_date, end_date=end_date, skip_weekdays=CLOSED_WEEKDAYS
        )
    }
    present = {psychologist for _, psychologist, _ in rows}
    body["name_order"] = [name for name in names if name in present]
    marks.append(time.perf_counter())
    data = orjson.dumps([body])
    marks.append(time.perf_counter())
    return Matched(
        body=data,
        names=names,
        ids=[verdict.psychologist_id for verdict in verdicts],
        bounds=(max(start_at, now).astimezone(UTC), end_at.astimezone(UTC)),
        stages={stage: marks[i + 1] - marks[i] for i, stage in enumerate(STAGES)},
    )


async def bench_in_process(
    url: str, payload: dict[str, Any], args: argparse.Namespace
) -> tuple[Result, Matched, dict[str, float]]:
    db = Database(url)
    try:
        for _ in range(3):
            first = await matched_schedule(db, payload, datetime.now(UTC))
        gc.collect()
        gc.freeze()  # as the server does at start-up
        latencies: list[float] = []
        stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
        started = time.perf_counter()
        deadline = started + args.max_seconds
        while len(latencies) < args.runs and time.perf_counter() < deadline:
            begun = time.perf_counter()
            run = await matched_schedule(db, payload, datetime.now(UTC))
            latencies.append(time.perf_counter() - begun)
            for stage, seconds in run.stages.items():
                stages[stage].append(seconds)
        elapsed = time.perf_counter() - started
    finally:
        await db.dispose()
        gc.unfreeze()
    result = Result(name="in-process (no HTTP)", requests=len(latencies), seconds=elapsed)
    result.rps = len(latencies) / elapsed
    result.p50_ms, result.p99_ms = percentiles_ms(latencies)
    result.rows = count_slots(first.body)
    result.response_bytes = len(first.body)
    report_progress(result)
    medians = {stage: percentiles_ms(values)[0] for stage, values in stages.items()}
    return result, first, medians


# --- 2. over HTTP ------------------------------------------------------------------------------


async def bench_http(
    base: str, payload: dict[str, Any], args: argparse.Namespace, *, label: str, with_healthz: bool
) -> tuple[list[Result], bytes]:
    call = HttpCall("POST", "/webhook/get-agregated-schedule-v2", orjson.dumps(payload))
    scenarios: list[tuple[str, HttpCall, int]] = []
    if with_healthz:
        scenarios.append(("GET /healthz, c=1", HttpCall("GET", "/healthz"), 1))
    scenarios += [
        (f"matched {label}, c=1", call, 1),
        (f"matched {label}, c={args.concurrency}", call, args.concurrency),
    ]
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    results = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        for name, request, concurrency in scenarios:
            result = await measure_http(name, client, request, args, concurrency=concurrency)
            if request is call:
                body = (await call.send(client)).content
                result.rows, result.response_bytes = count_slots(body), len(body)
                result.baseline = f"raw driver, c={concurrency}"
            results.append(result)
    return results, body


# --- 3. the raw driver -------------------------------------------------------------------------

RAW = {
    "sqlite": "SELECT s.id, p.name, s.start_at FROM slots s JOIN psychologists p ON p.id = s.psychologist_id "
    "WHERE s.start_at >= ? AND s.start_at < ? AND s.state = 'free' AND p.is_active = 1 "
    "AND s.psychologist_id IN ({ids}) ORDER BY s.start_at, p.name",
    "postgresql": "SELECT s.id, p.name, s.start_at FROM slots s JOIN psychologists p "
    "ON p.id = s.psychologist_id WHERE s.start_at >= $1 AND s.start_at < $2 AND s.state = 'free' "
    "AND p.is_active AND s.psychologist_id = ANY($3::uuid[]) ORDER BY s.start_at, p.name",
}


async def bench_raw(url: str, matched: Matched, args: argparse.Namespace) -> list[Result]:
    """The rows free_rows reads (id, name, start), fetched with sqlite3 (a thread and a
    connection per concurrent query) or asyncpg (a pool), at concurrency 1 and `concurrency`."""
    start, end = matched.bounds
    params: tuple[object, ...]
    if url.startswith("postgresql"):
        sql, params = RAW["postgresql"], (start, end, matched.ids)
    else:
        sql = RAW["sqlite"].format(ids=", ".join("?" * len(matched.ids)))
        params = (sqlite_instant(start), sqlite_instant(end), *(i.hex for i in matched.ids))
    results = []
    for concurrency in (1, args.concurrency):
        async with raw_driver(url, concurrency) as fetch:
            name = f"raw driver, c={concurrency}"
            results.append(await measure_raw(name, fetch, sql, params, args, concurrency))
    return results


# --- report ----------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    by_name = {result.name: result for result in results}
    rows = []
    for r in results:
        raw = by_name.get(r.baseline) if r.baseline else None
        target = ("yes" if r.p99_ms < TARGET_P99_MS else "NO") if r.name.startswith("matched") else ""
        rows.append(
            [
                *result_cells(r),
                ratio(r.rps, raw.rps if raw else None),
                ratio(r.p50_ms, raw.p50_ms if raw else None, ".1f"),
                target,
            ]
        )
    return format_table(
        "{:<28} {:>6} {:>8} {:>8} {:>8} {:>6} {:>8} {:>6} {:>7} {:>6}",
        (*RESULT_TITLES, "÷raw", "p50×raw", "p99<50"),
        rows,
    )


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with migrated_database(args) as (url, dialect):
        seeded = asyncio.run(seed(url, args))
        print(
            f"seeded {seeded.psychologists} psychologists, {seeded.free_slots} free slots "
            f"({seeded.first_day} … {seeded.last_day}, Sundays skipped), {seeded.bookings} bookings "
            f"in {seeded.seconds:.1f} s",
            file=sys.stderr,
        )
        payload = application(datetime.now(UTC).astimezone(MSK).date())
        in_process, matched, stages = run_loop(bench_in_process(url, payload, args))
        in_process.baseline = "raw driver, c=1"
        results = [in_process]
        with server(url, cache_size=256) as base:
            http, cached_body = asyncio.run(
                bench_http(base, payload, args, label="cached", with_healthz=True)
            )
            results += http
        with server(url, cache_size=0) as base:
            http, uncached_body = asyncio.run(
                bench_http(base, payload, args, label="uncached", with_healthz=False)
            )
            results += http
        results += run_loop(bench_raw(url, matched, args))
    total = time.perf_counter() - started

    by_name = {result.name: result for result in results}
    raw_rows = by_name["raw driver, c=1"].rows
    mismatched = [r.name for r in results if r.baseline and r.rows != raw_rows]
    same_body = matched.body == cached_body == uncached_body
    errors = sum(r.errors for r in results)
    http_c1 = [r for r in results if r.name.startswith("matched") and r.name.endswith("c=1")]
    print()
    print(
        f"{headline('matching', dialect)}, "
        f"~{args.duration:g} s per HTTP scenario, load: {load_label(args, 1, args.concurrency)}"
    )
    print(
        f"data: {seeded.psychologists} psychologists, {seeded.free_slots} free slots, {args.weeks} weeks, "
        f"{seeded.bookings} bookings; the application matches {len(matched.names)} psychologists, "
        f"{in_process.rows} slots, {in_process.response_bytes} bytes"
    )
    print()
    print(table(results))
    print()
    print("in-process stage medians (ms): " + ", ".join(f"{stage} {ms:.2f}" for stage, ms in stages.items()))
    print("÷raw: req/s ÷ the raw driver's at the same concurrency; p50×raw: p50 ÷ the raw driver's p50")
    verdict = all(r.p99_ms < TARGET_P99_MS for r in http_c1)
    print(
        f"target p99 < {TARGET_P99_MS:g} ms over HTTP for one client (c=1): "
        + ("met" if verdict else "NOT met")
        + " ("
        + ", ".join(f"{r.name}: {r.p99_ms:.1f} ms" for r in http_c1)
        + ")"
    )
    print(f"responses identical in-process / cached / uncached: {'yes' if same_body else 'NO'}")
    print(f"total {total:.0f} s")
    if mismatched:
        print(f"WARNING: slot counts differ from the raw driver's rows for: {', '.join(mismatched)}")
    if errors:
        print(f"WARNING: {errors} failed requests")
    if args.json:
        meta = {
            "seeded": asdict(seeded) | {"first_day": str(seeded.first_day), "last_day": str(seeded.last_day)},
            "matched": len(matched.names),
            "stages_ms": stages,
            "load": load_label(args, 1, args.concurrency),
        }
        write_results("matching", dialect, meta, results)
    return 1 if mismatched or errors or not same_body else 0


def main() -> None:
    sys.exit(run(parse_args()))


if __name__ == "__main__":
    main()
