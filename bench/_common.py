"""What the benchmarks share: options, throwaway databases, bulk seeding, the server process, load
(wrk or httpx), raw-driver baselines, tables and the JSON results.

Importing it puts the repository root on `sys.path` (a script run as `python bench/x.py` has only
bench/ there), so that the scripts can import `tests.*` after it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
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
from hraniteli.models import Psychologist, RepeatRule, SlotState

try:  # `hraniteli serve` runs on uvloop (uvicorn's default when installed): so do in-process runs
    from uvloop import run as run_loop
except ImportError:  # pragma: no cover
    from asyncio import run as run_loop  # noqa: F401  (the scripts import it from here)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SUNDAY = 6

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- options ---------------------------------------------------------------------------------


def bench_parser(description: str | None) -> argparse.ArgumentParser:
    """A parser with the options every benchmark takes: where the database is, and --json."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
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
    parser.add_argument("--json", action="store_true", help="write the results to bench/results/")
    return parser


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


def load_label(args: argparse.Namespace, *concurrencies: int) -> str:
    if args.wrk:
        runs = " / ".join(
            f"-t {min(args.wrk_threads, c)} -c {c}" for c in (concurrencies or (args.concurrency,))
        )
        return f"wrk --latency {runs} -d {max(1, math.ceil(args.duration))}s"
    return "httpx (in-process)"


# --- the database ----------------------------------------------------------------------------


def _with_database(url: str, name: str, *, driver: str | None = None) -> str:
    parts = urlsplit(url)
    scheme = f"postgresql+{driver}" if driver else parts.scheme
    return urlunsplit((scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def plain_pg(url: str) -> str:
    """A libpq-style URL for asyncpg from a SQLAlchemy one."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


async def _pg_admin(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(plain_pg(admin_url), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
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


@contextlib.contextmanager
def migrated_database(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """`fresh_database`, migrated: yields its URL and dialect ("sqlite" or "postgresql")."""
    with fresh_database(args) as url:
        dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
        print(f"database: {dialect} ({url.split('@')[-1]})", file=sys.stderr)
        upgrade(url)
        yield url, dialect


def sqlite_instant(instant: datetime) -> str:
    """How SQLAlchemy stores UTCDateTime on SQLite (naive UTC, ISO with a space)."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# --- seeding ---------------------------------------------------------------------------------


def msk_at(day: date, hour: int = 0) -> datetime:
    """`hour`:00 of `day`, Moscow time."""
    return datetime.combine(day, datetime.min.time(), tzinfo=MSK).replace(hour=hour)


def seed_days(now: datetime, weeks: int) -> tuple[date, date, list[date]]:
    """From tomorrow (Moscow) for `weeks` weeks: the first day, the last, and the days between
    without Sundays (the service is closed on Sundays and the aggregated view drops them)."""
    first_day = now.astimezone(MSK).date() + timedelta(days=1)
    days = [first_day + timedelta(days=i) for i in range(7 * weeks)]
    return first_day, days[-1], [day for day in days if day.weekday() != SUNDAY]


def psychologist_row(index: int, now: datetime, **fields: Any) -> dict[str, Any]:
    """A `psychologists` row: active, verified, in the community, any adult client; `fields` override."""
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
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
        "schedule_revision": 0,
        "extra": {},
        "created_at": now,
        "updated_at": now,
    }
    row.update(fields)
    return row


def slot_row(
    psychologist_id: uuid.UUID,
    start: datetime,
    state: SlotState,
    at: datetime,
    *,
    slot_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A one-hour, non-repeating `slots` row created and updated `at`."""
    return {
        "id": slot_id or uuid.uuid4(),
        "psychologist_id": psychologist_id,
        "start_at": start,
        "duration_minutes": 60,
        "state": state.value,
        "repeat_rule": RepeatRule.NONE.value,
        "repeat_root_id": None,
        "is_over_event": False,
        "created_at": at,
        "updated_at": at,
    }


async def insert_rows(url: str, tables: Sequence[tuple[Any, list[dict[str, Any]]]]) -> None:
    """Bulk insert through SQLAlchemy Core into an empty database (no psychologists yet), table by
    table in chunks of 5,000 rows, then ANALYZE."""
    engine = create_engine(url, pool_size=0)
    try:
        async with engine.begin() as connection:
            existing = (await connection.execute(select(func.count()).select_from(Psychologist))).scalar()
            if existing:
                raise SystemExit(f"the database already has {existing} psychologists: give an empty one")
            for table, rows in tables:
                for offset in range(0, len(rows), 5000):
                    await connection.execute(insert(table), rows[offset : offset + 5000])
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
    finally:
        await engine.dispose()


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
    call: Callable[[], Awaitable[Any]],
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


def count_slots(body: bytes) -> int:
    """Slots in an aggregated response: [{"items": [{"slots": {"HH:00": [slot, …]}}, …]}]."""
    payload = orjson.loads(body)
    return sum(len(entries) for item in payload[0]["items"] for entries in item["slots"].values())


# --- the raw-driver baseline -----------------------------------------------------------------

Fetch = Callable[[str, Sequence[Any]], Awaitable[list[Any]]]
"""`fetch(sql, params)`: the rows, through the raw driver."""


def raw_driver(url: str, concurrency: int) -> contextlib.AbstractAsyncContextManager[Fetch]:
    """A `fetch` for `concurrency` concurrent queries: on SQLite the stdlib sqlite3 module, one
    connection per thread (aiosqlite, which the service uses, also runs each connection in its own
    thread); on PostgreSQL asyncpg with a pool (statements prepared and cached)."""
    if url.startswith("postgresql"):
        return _asyncpg_pool(url, concurrency)
    return _sqlite_threads(url, concurrency)


@contextlib.asynccontextmanager
async def _asyncpg_pool(url: str, concurrency: int) -> AsyncIterator[Fetch]:
    pool = await asyncpg.create_pool(plain_pg(url), min_size=concurrency, max_size=concurrency)

    async def fetch(sql: str, params: Sequence[Any]) -> list[Any]:
        async with pool.acquire() as connection:
            return list(await connection.fetch(sql, *params))

    try:
        yield fetch
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def _sqlite_threads(url: str, concurrency: int) -> AsyncIterator[Fetch]:
    path = make_url(url).database
    assert path
    local = threading.local()
    connections: list[sqlite3.Connection] = []
    lock = threading.Lock()

    def fetch_here(sql: str, params: Sequence[Any]) -> list[Any]:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(path, check_same_thread=False)
            local.conn = conn
            with lock:
                connections.append(conn)
        return conn.execute(sql, params).fetchall()

    loop = asyncio.get_running_loop()
    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="raw-sqlite") as threads:

            async def fetch(sql: str, params: Sequence[Any]) -> list[Any]:
                return await loop.run_in_executor(threads, fetch_here, sql, params)

            yield fetch
    finally:
        for conn in connections:  # check_same_thread=False: closable here once the threads are done
            conn.close()


async def measure_raw(
    name: str, fetch: Fetch, sql: str, params: Sequence[Any], args: argparse.Namespace, concurrency: int
) -> Result:
    """Warm up, drive `fetch(sql, params)` at `concurrency`, count its rows."""
    for _ in range(3):
        await fetch(sql, params)
    result = await drive(name, lambda: fetch(sql, params), args, concurrency=concurrency)
    result.rows = len(await fetch(sql, params))
    return result


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


# --- processes -------------------------------------------------------------------------------


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


def wait_until_up(
    probe: Callable[[], httpx.Response], *, alive: Callable[[], bool], seconds: float, interval: float
) -> bool:
    """Whether `probe` answered 200 within `seconds` while the server stayed `alive`."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if probe().status_code == 200:
                return True
        if not alive() or time.monotonic() > deadline:
            return False
        time.sleep(interval)


def stop_process(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
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
            if not wait_until_up(
                lambda: httpx.get(f"{base}/healthz", timeout=1),
                alive=lambda: process.poll() is None,
                seconds=30,
                interval=0.1,
            ):
                stderr.seek(0)
                raise SystemExit(f"the server did not start:\n{stderr.read().decode(errors='replace')}")
            yield base
        finally:
            stop_process(process)


# --- report ----------------------------------------------------------------------------------

RESULT_TITLES = ("scenario", "req", "req/s", "p50 ms", "p99 ms", "rows", "bytes")


def result_cells(result: Result) -> list[Any]:
    """The cells of `RESULT_TITLES` for one result."""
    return [
        result.name,
        result.requests,
        f"{result.rps:.1f}",
        f"{result.p50_ms:.2f}",
        f"{result.p99_ms:.2f}",
        optional(result.rows),
        optional(result.response_bytes),
    ]


def optional(value: object) -> str:
    return "" if value is None else str(value)


def ratio(numerator: float, denominator: float | None, spec: str = ".2f") -> str:
    """numerator ÷ denominator, or blank without a denominator."""
    return f"{numerator / denominator:{spec}}" if denominator else ""


def format_table(template: str, titles: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A header, a rule and a line per row, each `template.format(*cells)`."""
    header = template.format(*titles)
    return "\n".join([header, "-" * len(header), *(template.format(*cells) for cells in rows)])


def headline(title: str, dialect: str) -> str:
    return f"hraniteli {title} — {dialect}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs"


def write_results(bench: str, dialect: str, meta: dict[str, Any], results: Sequence[Any]) -> None:
    """bench/results/<bench>-<dialect>-<UTC time>.json: the run's meta and the result dataclasses."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{bench}-{dialect}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    meta = {
        "dialect": dialect,
        "at": datetime.now(UTC).isoformat(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **meta,
    }
    out.write_bytes(
        orjson.dumps({"meta": meta, "results": [asdict(r) for r in results]}, option=orjson.OPT_INDENT_2)
    )
    print(f"wrote {out.relative_to(ROOT)}")
