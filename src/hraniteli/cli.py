"""The `hraniteli` command: serve, api, migrate, demo."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from hraniteli.clock import utc_now
from hraniteli.config import Settings, load_settings
from hraniteli.db import Database

cli = typer.Typer(help="Hraniteli: an online psychology practice service.", no_args_is_help=True)


def _export(host: str | None, port: int | None) -> None:
    """Pass CLI overrides to the app factory (which may run in worker processes) via env."""
    if host:
        os.environ["HRANITELI_HOST"] = host
    if port:
        os.environ["HRANITELI_PORT"] = str(port)


DEMO_KEY_FILE = "demo-admin-key"


@dataclass(frozen=True)
class DemoKey:
    key: str
    path: Path


def demo_admin_key(settings: Settings) -> DemoKey | None:
    """The demo's admin key (None when one is configured): read from the data directory, or made
    there on the first run, readable by its owner only, so every later demo run uses the same."""
    if settings.admin_api_key is not None and settings.admin_api_key.get_secret_value():
        return None
    path = settings.data_dir / DEMO_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under another name (mkstemp makes it 0600), then linked into place:
        # a reader never sees a half-written key, and of two first runs at once one key wins.
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{DEMO_KEY_FILE}.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(secrets.token_urlsafe(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.unlink(draft)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise typer.BadParameter(f"{path} holds no key: delete it and a new one is made")
    return DemoKey(key=key, path=path)


def _log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's logging, plus ours: the access log on stdout (as uvicorn's own), the rest on
    stderr, at the configured level."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["hraniteli.access"] = {**config["handlers"]["access"], "formatter": "default"}
    level = settings.log_level.upper()
    config["loggers"]["hraniteli"] = {"handlers": ["default"], "level": level, "propagate": False}
    config["loggers"]["hraniteli.access"] = {
        "handlers": ["hraniteli.access"],
        "level": level,
        "propagate": False,
    }
    return config


async def _seed_demo() -> None:
    from hraniteli.demo import seed_demo
    from hraniteli.schedule.service import SchedulePolicy

    settings = load_settings()
    database = Database.from_settings(settings, pool_size=0)
    try:
        async with database.unit_of_work() as session:
            seeded = await seed_demo(
                session,
                now=utc_now(),
                policy=SchedulePolicy(
                    closed_weekdays=tuple(settings.schedule_closed_weekdays),
                    slot_duration_minutes=settings.slot_duration_minutes,
                ),
            )
        base = settings.public_url.rstrip("/")
        if seeded:
            typer.echo("Demo psychologists and their schedule editor links:")
            for item in seeded:
                typer.echo(f"  {item.name:<20} {base}/webhook/get-slot?secret={item.editor_secret}")
        else:
            typer.echo("Demo data: the database already has psychologists; nothing seeded.")
    finally:
        await database.dispose()


@cli.command()
def migrate(revision: str = "head") -> None:
    """Apply the database migrations up to REVISION."""
    from hraniteli.migrate import upgrade

    upgrade(load_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@cli.command()
def demo() -> None:
    """Seed demo psychologists and slots into an empty database (migrates first)."""
    from hraniteli.migrate import upgrade

    upgrade(load_settings().database_url)
    asyncio.run(_seed_demo())


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
    demo_data: Annotated[bool, typer.Option("--demo", help="Seed demo data into an empty database")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only)")] = 1,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
) -> None:
    """Run the service: migrate, optionally seed demo data, serve the API."""
    from hraniteli.migrate import upgrade

    _export(host, port)
    settings = load_settings()
    if workers > 1 and settings.is_sqlite:
        raise typer.BadParameter("several workers need PostgreSQL (HRANITELI_DATABASE_URL)")
    if migrate_first:
        upgrade(settings.database_url)
    if demo_data:
        asyncio.run(_seed_demo())
        # A demo should be explorable end to end (bookings need the key): keep one for it.
        demo_key = demo_admin_key(settings)
        if demo_key is not None:
            os.environ["HRANITELI_ADMIN_API_KEY"] = demo_key.key
            typer.echo(f"Demo admin API key (send as X-API-Key): {demo_key.key}")
            typer.echo(f"  kept in {demo_key.path.resolve()} (HRANITELI_ADMIN_API_KEY overrides it)")
    typer.echo(
        f"Hraniteli on http://{settings.host}:{settings.port}  "
        f"(start page: /, API docs: /docs, health: /healthz, "
        f"database: {settings.database_url.split('@')[-1]})"
    )
    uvicorn.run(
        "hraniteli.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        log_config=_log_config(settings),
        access_log=False,  # ours (HRANITELI_ACCESS_LOG) leaves out the query and the client address
    )


@cli.command()
def worker(
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = False,
) -> None:
    """Run the lifecycle worker (timeline events, periodic jobs) until interrupted.
    Any number of workers can share one PostgreSQL database."""
    import signal

    from hraniteli.lifecycle.service import BackgroundWork
    from hraniteli.migrate import upgrade

    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if migrate_first:
        upgrade(settings.database_url)

    async def run() -> None:
        database = Database.from_settings(settings)
        work = BackgroundWork.from_settings(settings, database, clock=utc_now)
        if settings.telegram_bot_token is not None:
            from hraniteli.notifications.sender import preload_telegram

            preload_telegram()
        # As in `serve`: what startup made lives as long as the process; keeping it out of the
        # collector's generations keeps full collections cheap while the sender is busy.
        gc.collect()
        gc.freeze()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, work.stop_event.set)
        try:
            await work.run_until_stopped()
        finally:
            await database.dispose()

    typer.echo(
        "Hraniteli worker: timeline events, periodic jobs, meeting links, Telegram delivery (Ctrl+C stops)"
    )
    try:  # the event loop `serve` runs on (uvicorn's default when installed)
        import uvloop
    except ImportError:  # pragma: no cover
        asyncio.run(run())
    else:
        uvloop.run(run())


def main() -> None:
    cli()
