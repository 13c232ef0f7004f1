"""Benchmark of the aggregated schedule endpoints against a raw-driver baseline of the same run.

One run: a fresh database (a temp SQLite file, or PostgreSQL with --postgres / --database-url),
migrated and seeded with 50 psychologists x 4 weeks (Sundays skipped: the service is closed on
Sundays and the aggregated view drops them) x 10 slots a day; then the production server
(`hraniteli serve --no-migrate`) in a subprocess, loaded over loopback (see below), first with
the render cache on, then in a second process with
HRANITELI_SCHEDULE_CACHE_SIZE=0; then the same rows fetched by the raw driver (sqlite3 / asyncpg)
at the same concurrency. Prints requests/s, p50/p99 and throughput ratios (endpoint / raw driver,
endpoint / healthz). The machine is small and shared: compare the ratios, not absolute times.

The HTTP load comes from wrk (C, `--latency`, fixed duration, a Lua script for POST bodies) when
it is installed (`apt-get install wrk`), else from an httpx async generator in this process,
which competes with the server for the CPU and caps what can be measured (`--load` to choose).

    .venv/bin/python bench/schedule_endpoints.py                 # SQLite (make bench)
    .venv/bin/python bench/schedule_endpoints.py --postgres      # throwaway PostgreSQL database
    .venv/bin/python bench/schedule_endpoints.py --load httpx    # the Python load generator
    .venv/bin/python bench/schedule_endpoints.py --json          # also write bench/results/*.json
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import orjson

from _common import (
    RESULT_TITLES,
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
    psychologist_row,
    raw_driver,
    result_cells,
    seed_days,
    server,
    slot_row,
    sqlite_instant,
    with_query,
    write_results,
)
from hraniteli.models import Psychologist, Slot, SlotState

FIRST_HOUR = 9
"""Seeded slots start at 09:00, 10:00, … Moscow time."""

# The rows the aggregated endpoints read (repository.list_slot_views with free_only=True):
# free slots of active psychologists in the window, joined with the name, in the same order.
RAW_COLUMNS = (
    "s.id, s.psychologist_id, p.name, s.start_at, s.duration_minutes, s.state, s.repeat_rule, s.is_over_event"
)
RAW_ALL = {
    "sqlite": f"SELECT {RAW_COLUMNS} FROM slots s JOIN psychologists p ON p.id = s.psychologist_id "
    "WHERE s.start_at >= ? AND s.start_at < ? AND s.state = 'free' AND p.is_active = 1 "
    "ORDER BY s.start_at, p.name",
    "postgresql": f"SELECT {RAW_COLUMNS} FROM slots s JOIN psychologists p ON p.id = s.psychologist_id "
    "WHERE s.start_at >= $1 AND s.start_at < $2 AND s.state = 'free' AND p.is_active "
    "ORDER BY s.start_at, p.name",
}
RAW_ONE = {
    "sqlite": f"SELECT {RAW_COLUMNS} FROM slots s JOIN psychologists p ON p.id = s.psychologist_id "
    "WHERE s.start_at >= ? AND s.start_at < ? AND s.state = 'free' AND p.is_active = 1 AND p.name = ? "
    "ORDER BY s.start_at, p.name",
    "postgresql": f"SELECT {RAW_COLUMNS} FROM slots s JOIN psychologists p ON p.id = s.psychologist_id "
    "WHERE s.start_at >= $1 AND s.start_at < $2 AND s.state = 'free' AND p.is_active AND p.name = $3 "
    "ORDER BY s.start_at, p.name",
}


# --- options ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = bench_parser(__doc__)
    parser.add_argument("--psychologists", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--slots-per-day", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections / queries")
    add_load_options(parser)
    args = parser.parse_args(argv)
    check_load_options(parser, args)
    if not 1 <= args.slots_per_day <= 24 - FIRST_HOUR:
        parser.error(f"--slots-per-day must be 1…{24 - FIRST_HOUR}")
    if args.psychologists < 1 or args.weeks < 1 or args.concurrency < 1:
        parser.error("--psychologists, --weeks and --concurrency must be positive")
    return args


# --- the database ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    names: list[str]
    first_day: date
    last_day: date
    slots: int
    seconds: float

    def window(self) -> tuple[datetime, datetime]:
        """[first_day 00:00, last_day + 1 00:00) Moscow time, as UTC instants."""
        end = msk_at(self.last_day + timedelta(days=1))
        return msk_at(self.first_day).astimezone(UTC), end.astimezone(UTC)


async def seed(url: str, args: argparse.Namespace) -> Seeded:
    """Bulk insert: psychologists (revision = their slot count) and their free slots from
    tomorrow (Moscow) for `weeks` weeks, Sundays skipped."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    first_day, last_day, days = seed_days(now, args.weeks)
    starts = [msk_at(day, FIRST_HOUR + i) for day in days for i in range(args.slots_per_day)]
    people = []
    slots = []
    for index in range(1, args.psychologists + 1):
        psychologist_id = uuid.uuid4()
        people.append(psychologist_row(index, now, id=psychologist_id, schedule_revision=len(starts)))
        slots.extend(slot_row(psychologist_id, start, SlotState.FREE, now) for start in starts)
    await insert_rows(url, [(Psychologist.__table__, people), (Slot.__table__, slots)])
    return Seeded(
        names=[person["name"] for person in people],
        first_day=first_day,
        last_day=last_day,
        slots=len(slots),
        seconds=time.perf_counter() - started,
    )


# --- measuring -------------------------------------------------------------------------------


async def bench_server(
    base: str, seeded: Seeded, args: argparse.Namespace, *, label: str, with_healthz: bool
) -> list[Result]:
    body = {
        "startDate": seeded.first_day.isoformat(),
        "endDate": seeded.last_day.isoformat(),
        "userTimeOffsetMsk": 0,
    }
    healthz = HttpCall("GET", "/healthz")
    aggregated_all = HttpCall("POST", "/webhook/get-aggregated-all", orjson.dumps(body))
    aggregated_one = HttpCall(
        "GET",
        with_query("/webhook/get-aggregated-schedule-by-psychologist", {"utm_psy": seeded.names[0]}),
    )
    scenarios: list[tuple[str, HttpCall, str | None]] = []
    if with_healthz:
        scenarios.append(("GET /healthz", healthz, None))
    scenarios += [
        (f"aggregated-all ({label})", aggregated_all, "raw driver: all"),
        (f"aggregated-one ({label})", aggregated_one, "raw driver: one"),
    ]
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    results = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        for name, call, baseline in scenarios:
            result = await measure_http(name, client, call, args)
            result.baseline = baseline
            if baseline is not None:
                response = await call.send(client)
                result.response_bytes = len(response.content)
                result.rows = count_slots(response.content)
            results.append(result)
    return results


# --- the raw-driver baseline -----------------------------------------------------------------


async def bench_raw(url: str, dialect: str, seeded: Seeded, args: argparse.Namespace) -> list[Result]:
    """The same rows as the two endpoints, through the raw driver at the same concurrency."""
    start, end = seeded.window()
    bounds: tuple[object, ...] = (start, end)
    if dialect == "sqlite":
        bounds = (sqlite_instant(start), sqlite_instant(end))
    queries = (
        ("raw driver: all", RAW_ALL[dialect], bounds),
        ("raw driver: one", RAW_ONE[dialect], (*bounds, seeded.names[0])),
    )
    async with raw_driver(url, args.concurrency) as fetch:
        return [
            await measure_raw(name, fetch, sql, params, args, args.concurrency)
            for name, sql, params in queries
        ]


# --- report ----------------------------------------------------------------------------------


def add_ratios(results: list[Result]) -> None:
    by_name = {result.name: result for result in results}
    healthz = by_name.get("GET /healthz")
    for result in results:
        baseline = by_name.get(result.baseline) if result.baseline else None
        if baseline and baseline.rps:
            result.ratios["raw"] = result.rps / baseline.rps
        if healthz and healthz.rps and result is not healthz:
            result.ratios["healthz"] = result.rps / healthz.rps


def table(results: list[Result]) -> str:
    return format_table(
        "{:<28} {:>6} {:>9} {:>8} {:>8} {:>6} {:>9} {:>6} {:>8}",
        (*RESULT_TITLES, "÷raw", "÷healthz"),
        (
            [
                *result_cells(r),
                f"{r.ratios['raw']:.2f}" if "raw" in r.ratios else "",
                f"{r.ratios['healthz']:.3f}" if "healthz" in r.ratios else "",
            ]
            for r in results
        ),
    )


# --- main ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with migrated_database(args) as (url, dialect):
        seeded = asyncio.run(seed(url, args))
        print(
            f"seeded {len(seeded.names)} psychologists, {seeded.slots} free slots "
            f"({seeded.first_day} … {seeded.last_day}, Sundays skipped) in {seeded.seconds:.1f} s",
            file=sys.stderr,
        )
        results: list[Result] = []
        with server(url, cache_size=256) as base:
            results += asyncio.run(bench_server(base, seeded, args, label="cached", with_healthz=True))
        with server(url, cache_size=0) as base:
            results += asyncio.run(bench_server(base, seeded, args, label="uncached", with_healthz=False))
        results += asyncio.run(bench_raw(url, dialect, seeded, args))
    add_ratios(results)
    total = time.perf_counter() - started

    by_name = {result.name: result for result in results}
    mismatched = [
        r.name for r in results if r.baseline and r.rows is not None and r.rows != by_name[r.baseline].rows
    ]
    errors = sum(r.errors for r in results)
    print()
    print(
        f"{headline('schedule endpoints', dialect)}, concurrency {args.concurrency}, "
        f"~{args.duration:g} s per scenario, load: {load_label(args)}"
    )
    print(
        f"data: {len(seeded.names)} psychologists × {args.weeks} weeks (Sundays skipped) × "
        f"{args.slots_per_day} slots/day = {seeded.slots} free slots"
    )
    print()
    print(table(results))
    print()
    print("÷raw: endpoint req/s ÷ raw-driver req/s for the same rows (target ≥ 0.5)")
    print("÷healthz: endpoint req/s ÷ GET /healthz req/s on the cached server")
    print(f"total {total:.0f} s")
    if mismatched:
        print(f"WARNING: row counts differ from the raw driver's for: {', '.join(mismatched)}")
    if errors:
        print(f"WARNING: {errors} failed requests")
    if args.json:
        meta = {
            "psychologists": len(seeded.names),
            "slots": seeded.slots,
            "window": [seeded.first_day.isoformat(), seeded.last_day.isoformat()],
            "concurrency": args.concurrency,
            "duration": args.duration,
            "load": load_label(args),
        }
        write_results("schedule_endpoints", dialect, meta, results)
    return 1 if mismatched or errors else 0


def main() -> None:
    sys.exit(run(parse_args()))


if __name__ == "__main__":
    main()
