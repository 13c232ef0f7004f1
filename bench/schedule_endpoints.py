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
import math
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from hraniteli.db import create_engine
from hraniteli.kit.moscow import MSK
from hraniteli.migrate import upgrade
from hraniteli.models import Psychologist, RepeatRule, Slot, SlotState

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
FIRST_HOUR = 9
"""Seeded slots start at 09:00, 10:00, … Moscow time."""
SUNDAY = 6

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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--database-url",
        help="an existing, EMPTY database to migrate and seed (sqlite+aiosqlite:///… or "
        "postgresql+asyncpg://…), left seeded afterwards; default: a temp SQLite file",
    )
    target.add_argument(
        "--postgres",
        action="store_true",
        help="create (and drop afterwards) a throwaway database on the PostgreSQL at --pg-admin-url",
    )
    parser.add_argument("--pg-admin-url", default=os.environ.get("HRANITELI_TEST_PG_URL", DEFAULT_PG_ADMIN))
    parser.add_argument("--psychologists", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--slots-per-day", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections / queries")
    add_load_options(parser)
    parser.add_argument("--json", action="store_true", help="write the results to bench/results/")
    args = parser.parse_args(argv)
    check_load_options(parser, args)
    if not 1 <= args.slots_per_day <= 24 - FIRST_HOUR:
        parser.error(f"--slots-per-day must be 1…{24 - FIRST_HOUR}")
    if args.psychologists < 1 or args.weeks < 1 or args.concurrency < 1:
        parser.error("--psychologists, --weeks and --concurrency must be positive")
    return args


def add_load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="HTTP load generator: wrk (if installed, the default) or the in-process httpx one",
    )
    parser.add_argument(
        "--duration", type=float, default=4.0, help="seconds per scenario (wrk: fixed, whole seconds)"
    )
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t (at most the connections)")
    parser.add_argument("--min-requests", type=int, default=40, help="httpx/raw: per scenario, time allowing")
    parser.add_argument("--max-requests", type=int, default=20_000, help="httpx/raw: per scenario (hard)")
    parser.add_argument("--max-seconds", type=float, default=12.0, help="httpx/raw: per scenario (hard)")


def check_load_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    wrk = shutil.which("wrk")
    if args.load == "wrk" and wrk is None:
        parser.error("--load wrk: wrk is not installed (apt-get install wrk)")
    args.wrk = wrk if args.load in ("auto", "wrk") else None
    if args.duration <= 0 or args.wrk_threads < 1:
        parser.error("--duration and --wrk-threads must be positive")


# --- the database ----------------------------------------------------------------------------


def _with_database(url: str, name: str, *, driver: str | None = None) -> str:
    parts = urlsplit(url)
    scheme = f"postgresql+{driver}" if driver else parts.scheme
    return urlunsplit((scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _plain_pg(url: str) -> str:
    """A libpq-style URL for asyncpg from a SQLAlchemy one."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


async def _pg_admin(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_plain_pg(admin_url), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(args: argparse.Namespace) -> Iterator[str]:
    """The SQLAlchemy URL of the database to benchmark; throwaway ones are removed afterwards."""
    if args.database_url:
        yield args.database_url
    elif args.postgres:
        name = f"hraniteli_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg_admin(args.pg_admin_url, f'CREATE DATABASE "{name}"'))
        try:
            yield _with_database(args.pg_admin_url, name, driver="asyncpg")
        finally:
            asyncio.run(_pg_admin(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        directory = Path(tempfile.mkdtemp(prefix="hraniteli-bench-"))
        try:
            yield f"sqlite+aiosqlite:///{directory / 'bench.sqlite3'}"
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class Seeded:
    names: list[str]
    first_day: date
    last_day: date
    slots: int
    seconds: float

    def window(self) -> tuple[datetime, datetime]:
        """[first_day 00:00, last_day + 1 00:00) Moscow time, as UTC instants."""
        start = datetime.combine(self.first_day, datetime.min.time(), tzinfo=MSK).astimezone(UTC)
        end = datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(), tzinfo=MSK)
        return start, end.astimezone(UTC)


async def seed(url: str, args: argparse.Namespace) -> Seeded:
    """Bulk insert through SQLAlchemy Core: psychologists (revision = their slot count) and their
    free slots from tomorrow (Moscow) for `weeks` weeks, Sundays skipped."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    first_day = now.astimezone(MSK).date() + timedelta(days=1)
    last_day = first_day + timedelta(days=7 * args.weeks - 1)
    days = [first_day + timedelta(days=i) for i in range(7 * args.weeks)]
    days = [day for day in days if day.weekday() != SUNDAY]
    starts = [
        datetime.combine(day, datetime.min.time(), tzinfo=MSK).replace(hour=FIRST_HOUR + i)
        for day in days
        for i in range(args.slots_per_day)
    ]
    people = []
    slots = []
    for index in range(1, args.psychologists + 1):
        psychologist_id = uuid.uuid4()
        people.append(
            {
                "id": psychologist_id,
                "name": f"Психолог Тестовый {index:03d}",
                "editor_secret": uuid.uuid4().hex,
                "time_zone": "Europe/Moscow",
                "additional_modals": [],
                "skills": [],
                "queries": [],
                "is_verified": True,
                "in_community": True,
                "is_onboarding_finished": True,
                "is_first_free": False,
                "is_help_hand": False,
                "is_all_with_price": True,
                "group": "community",
                "debt": 8,
                "sessions_provided": 0,
                "client_sex": "any",
                "min_client_age": 18,
                "max_client_age": 100,
                "is_active": True,
                "allow_assignment": True,
                "schedule_revision": len(starts),
                "extra": {},
                "created_at": now,
                "updated_at": now,
            }
        )
        slots.extend(
            {
                "id": uuid.uuid4(),
                "psychologist_id": psychologist_id,
                "start_at": start,
                "duration_minutes": 60,
                "state": SlotState.FREE.value,
                "repeat_rule": RepeatRule.NONE.value,
                "repeat_root_id": None,
                "is_over_event": False,
                "created_at": now,
                "updated_at": now,
            }
            for start in starts
        )
    engine = create_engine(url, pool_size=0)
    try:
        async with engine.begin() as connection:
            existing = (await connection.execute(select(func.count()).select_from(Psychologist))).scalar()
            if existing:
                raise SystemExit(f"the database already has {existing} psychologists: give an empty one")
            await connection.execute(insert(Psychologist.__table__), people)
            for offset in range(0, len(slots), 5000):
                await connection.execute(insert(Slot.__table__), slots[offset : offset + 5000])
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
    finally:
        await engine.dispose()
    return Seeded(
        names=[person["name"] for person in people],
        first_day=first_day,
        last_day=last_day,
        slots=len(slots),
        seconds=time.perf_counter() - started,
    )


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    rows: int | None = None
    response_bytes: int | None = None
    baseline: str | None = None
    """The raw-driver result that fetches the same rows."""
    ratios: dict[str, float] = field(default_factory=dict)


async def drive(
    name: str,
    call: Callable[[], Awaitable[None]],
    args: argparse.Namespace,
    *,
    concurrency: int | None = None,
) -> Result:
    """`concurrency` workers call `call` back to back until `duration` has passed and at least
    `min_requests` were made; never beyond `max_requests` or `max_seconds`."""
    latencies: list[float] = []
    errors = 0
    issued = 0
    started = time.perf_counter()
    soft_deadline = started + args.duration
    hard_deadline = started + args.max_seconds

    async def worker() -> None:
        nonlocal issued, errors
        while True:
            now = time.perf_counter()
            if (
                issued >= args.max_requests
                or now >= hard_deadline
                or (now >= soft_deadline and issued >= args.min_requests)
            ):
                return
            issued += 1
            begun = time.perf_counter()
            try:
                await call()
            except (httpx.HTTPError, OSError, asyncpg.PostgresError, sqlite3.Error, RuntimeError) as exc:
                errors += 1
                if errors <= 3:
                    print(f"  ! {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            latencies.append(time.perf_counter() - begun)

    await asyncio.gather(*(worker() for _ in range(concurrency or args.concurrency)))
    elapsed = time.perf_counter() - started
    result = Result(name=name, requests=len(latencies), errors=errors, seconds=elapsed)
    if latencies:
        result.rps = len(latencies) / elapsed
        result.p50_ms, result.p99_ms = percentiles_ms(latencies)
    report_progress(result)
    return result


def percentiles_ms(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99 in ms of latencies in seconds."""
    if len(latencies) < 2:
        return latencies[0] * 1000, latencies[0] * 1000
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def report_progress(result: Result) -> None:
    print(
        f"  {result.name:<32} {result.requests:>6} req in {result.seconds:5.1f} s "
        f"{result.rps:9.1f} req/s  p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms",
        file=sys.stderr,
    )


# --- wrk -------------------------------------------------------------------------------------

_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_WRK_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),", re.MULTILINE)
_WRK_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class HttpCall:
    """One request, for httpx or wrk: the path carries its (encoded) query string."""

    method: str
    path: str
    body: bytes | None = None

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        headers = {"content-type": "application/json"} if self.body is not None else None
        response = await client.request(self.method, self.path, content=self.body, headers=headers)
        response.raise_for_status()
        return response


def with_query(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params, quote_via=quote)}"


def _lua_string(value: bytes) -> str:
    text = value.decode()
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def parse_wrk(name: str, output: str) -> Result:
    """A Result from wrk's `--latency` report (latencies of completed requests only)."""
    total = _WRK_TOTAL.search(output)
    rps = _WRK_RPS.search(output)
    if total is None or rps is None:
        raise RuntimeError(f"unexpected wrk output for {name}:\n{output}")
    result = Result(
        name=name,
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _WRK_UNITS[total.group(3)] / 1000,
        rps=float(rps.group(1)),
    )
    cuts = {m.group(1): float(m.group(2)) * _WRK_UNITS[m.group(3)] for m in _WRK_LATENCY.finditer(output)}
    result.p50_ms, result.p99_ms = cuts.get("50", 0.0), cuts.get("99", 0.0)
    non_2xx = _WRK_NON_2XX.search(output)
    sockets = _WRK_SOCKET.search(output)
    result.errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    if non_2xx:  # wrk counts them among the requests (and their latencies)
        result.requests -= int(non_2xx.group(1))
    return result


def run_wrk(name: str, base: str, call: HttpCall, args: argparse.Namespace, *, concurrency: int) -> Result:
    """wrk on loopback for `duration` (whole seconds) with `concurrency` connections."""
    assert base.startswith("http://127.0.0.1:"), "loopback only"
    seconds = max(1, math.ceil(args.duration))
    threads = min(args.wrk_threads, concurrency)
    lines = [f'wrk.method = "{call.method}"']
    if call.body is not None:
        lines += ['wrk.headers["Content-Type"] = "application/json"', f"wrk.body = {_lua_string(call.body)}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="hraniteli-wrk-", encoding="utf-8") as script:
        script.write("\n".join(lines) + "\n")
        script.flush()
        command = [
            args.wrk,
            "--latency",
            "-t",
            str(threads),
            "-c",
            str(concurrency),
            "-d",
            f"{seconds}s",
            "--timeout",
            "60s",
            "-s",
            script.name,
            base + call.path,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 90, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed for {name}: {completed.stderr or completed.stdout}")
    result = parse_wrk(name, completed.stdout)
    if result.errors:
        print(f"  ! {name}: wrk reported {result.errors} errors / non-2xx responses", file=sys.stderr)
    report_progress(result)
    return result


async def measure_http(
    name: str,
    client: httpx.AsyncClient,
    call: HttpCall,
    args: argparse.Namespace,
    *,
    concurrency: int | None = None,
    warmup: int = 3,
) -> Result:
    """Warm up through httpx (connections, pools, the render cache), then load with wrk when
    it is available, else with httpx at `concurrency` connections."""
    connections = concurrency or args.concurrency
    for _ in range(warmup):
        await call.send(client)
    if args.wrk:
        return await asyncio.to_thread(
            run_wrk, name, str(client.base_url).rstrip("/"), call, args, concurrency=connections
        )

    async def send() -> None:
        await call.send(client)

    return await drive(name, send, args, concurrency=connections)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _hraniteli_command() -> list[str]:
    script = Path(sys.executable).parent / "hraniteli"
    if not script.exists():
        script = ROOT / ".venv" / "bin" / "hraniteli"
    return [str(script)]


@contextmanager
def server(url: str, *, cache_size: int) -> Iterator[str]:
    """`hraniteli serve --no-migrate` on a free loopback port, without the background worker;
    yields its base URL."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HRANITELI_")}
    env.update(
        HRANITELI_DATABASE_URL=url,
        HRANITELI_HOST="127.0.0.1",
        HRANITELI_LOG_LEVEL="warning",
        HRANITELI_SCHEDULE_CACHE_SIZE=str(cache_size),
        # the lifecycle worker (in `serve` by default on SQLite) would rewrite the seeded
        # profiles (sessions provided) and write to the database during the measurement
        HRANITELI_WORKER_IN_PROCESS="false",
    )
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [*_hraniteli_command(), "serve", "--no-migrate", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    stderr.seek(0)
                    raise SystemExit(f"the server did not start:\n{stderr.read().decode(errors='replace')}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def count_slots(body: bytes) -> int:
    """Slots in an aggregated response: [{"items": [{"slots": {"HH:00": [slot, …]}}, …]}]."""
    payload = orjson.loads(body)
    return sum(len(entries) for item in payload[0]["items"] for entries in item["slots"].values())


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


def _sqlite_instant(instant: datetime) -> str:
    """How SQLAlchemy stores UTCDateTime on SQLite (naive UTC, ISO with a space)."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


async def bench_raw_sqlite(url: str, seeded: Seeded, args: argparse.Namespace) -> list[Result]:
    """The stdlib sqlite3 module, one connection per thread, `concurrency` threads (aiosqlite,
    which the service uses, also runs each connection in its own thread)."""
    path = make_url(url).database
    assert path
    start, end = seeded.window()
    bounds = (_sqlite_instant(start), _sqlite_instant(end))
    local = threading.local()
    connections: list[sqlite3.Connection] = []
    lock = threading.Lock()

    def connection() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(path, check_same_thread=False)
            local.conn = conn
            with lock:
                connections.append(conn)
        return conn

    def fetch_all() -> list[Any]:
        return connection().execute(RAW_ALL["sqlite"], bounds).fetchall()

    def fetch_one() -> list[Any]:
        return connection().execute(RAW_ONE["sqlite"], (*bounds, seeded.names[0])).fetchall()

    loop = asyncio.get_running_loop()
    results = []
    try:
        with ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="raw-sqlite") as pool:
            for name, fetch in (("raw driver: all", fetch_all), ("raw driver: one", fetch_one)):

                async def call(fetch: Callable[[], list[Any]] = fetch) -> None:
                    await loop.run_in_executor(pool, fetch)

                for _ in range(3):
                    await call()
                result = await drive(name, call, args)
                result.rows = len(await loop.run_in_executor(pool, fetch))
                results.append(result)
    finally:
        for conn in connections:  # check_same_thread=False: closable here once the threads are done
            conn.close()
    return results


async def bench_raw_postgres(url: str, seeded: Seeded, args: argparse.Namespace) -> list[Result]:
    """asyncpg with a pool of `concurrency` connections (statements prepared and cached)."""
    start, end = seeded.window()
    pool = await asyncpg.create_pool(_plain_pg(url), min_size=args.concurrency, max_size=args.concurrency)
    results = []
    try:
        for name, sql, params in (
            ("raw driver: all", RAW_ALL["postgresql"], (start, end)),
            ("raw driver: one", RAW_ONE["postgresql"], (start, end, seeded.names[0])),
        ):

            async def call(sql: str = sql, params: tuple[Any, ...] = params) -> None:
                async with pool.acquire() as connection:
                    await connection.fetch(sql, *params)

            for _ in range(3):
                await call()
            result = await drive(name, call, args)
            async with pool.acquire() as connection:
                result.rows = len(await connection.fetch(sql, *params))
            results.append(result)
    finally:
        await pool.close()
    return results


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
    header = (
        f"{'scenario':<28} {'req':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'rows':>6} {'bytes':>9} {'÷raw':>6} {'÷healthz':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        rows = "" if r.rows is None else str(r.rows)
        size = "" if r.response_bytes is None else str(r.response_bytes)
        raw = f"{r.ratios['raw']:.2f}" if "raw" in r.ratios else ""
        health = f"{r.ratios['healthz']:.3f}" if "healthz" in r.ratios else ""
        lines.append(
            f"{r.name:<28} {r.requests:>6} {r.rps:>9.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{rows:>6} {size:>9} {raw:>6} {health:>8}"
        )
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with fresh_database(args) as url:
        dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
        print(f"database: {dialect} ({url.split('@')[-1]})", file=sys.stderr)
        upgrade(url)
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
        raw = bench_raw_postgres if dialect == "postgresql" else bench_raw_sqlite
        results += asyncio.run(raw(url, seeded, args))
    add_ratios(results)
    total = time.perf_counter() - started

    by_name = {result.name: result for result in results}
    mismatched = [
        r.name for r in results if r.baseline and r.rows is not None and r.rows != by_name[r.baseline].rows
    ]
    errors = sum(r.errors for r in results)
    print()
    print(
        f"hraniteli schedule endpoints — {dialect}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs, concurrency {args.concurrency}, ~{args.duration:g} s per scenario, "
        f"load: {load_label(args)}"
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
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"schedule_endpoints-{dialect}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        meta = {
            "dialect": dialect,
            "at": datetime.now(UTC).isoformat(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "psychologists": len(seeded.names),
            "slots": seeded.slots,
            "window": [seeded.first_day.isoformat(), seeded.last_day.isoformat()],
            "concurrency": args.concurrency,
            "duration": args.duration,
            "load": load_label(args),
        }
        out.write_bytes(
            orjson.dumps({"meta": meta, "results": [asdict(r) for r in results]}, option=orjson.OPT_INDENT_2)
        )
        print(f"wrote {out.relative_to(ROOT)}")
    return 1 if mismatched or errors else 0


def load_label(args: argparse.Namespace, *concurrencies: int) -> str:
    if args.wrk:
        runs = " / ".join(
            f"-t {min(args.wrk_threads, c)} -c {c}" for c in (concurrencies or (args.concurrency,))
        )
        return f"wrk --latency {runs} -d {max(1, math.ceil(args.duration))}s"
    return "httpx (in-process)"


def main() -> None:
    sys.exit(run(parse_args()))


if __name__ == "__main__":
    main()
