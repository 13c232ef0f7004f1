"""Running the lifecycle: the worker loop and the Telegram sender as background tasks of
`hraniteli serve` or of `hraniteli worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import httpx

from hraniteli.clock import Clock
from hraniteli.conferencing.service import MeetingProviders
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.lifecycle.actions import LifecycleSettings
from hraniteli.lifecycle.meetings import MeetingWork
from hraniteli.lifecycle.worker import Worker
from hraniteli.notifications.sender import TelegramSender

log = logging.getLogger("hraniteli.lifecycle")


@dataclass
class BackgroundWork:
    worker: Worker
    clock: Clock
    poll_seconds: float
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    http: httpx.AsyncClient | None = None
    sender: TelegramSender | None = None

    @classmethod
    def from_settings(cls, settings: Settings, database: Database, *, clock: Clock) -> BackgroundWork:
        http = httpx.AsyncClient(trust_env=False)
        worker = Worker(
            database,
            LifecycleSettings.from_settings(settings),
            batch_size=settings.worker_batch_size,
            meetings=MeetingWork(database, MeetingProviders.from_settings(settings, http)),
        )
        return cls(
            worker=worker,
            clock=clock,
            poll_seconds=settings.worker_poll_seconds,
            http=http,
            sender=TelegramSender.from_settings(settings, database, clock=clock),
        )

    def start(self) -> None:
        self.tasks.append(
            asyncio.create_task(
                self.worker.run(self.stop_event, clock=self.clock, poll_seconds=self.poll_seconds),
                name="hraniteli-worker",
            )
        )
        if self.sender is not None:
            self.tasks.append(asyncio.create_task(self.sender.run(self.stop_event), name="hraniteli-sender"))

    async def stop(self) -> None:
        self.stop_event.set()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        if self.http is not None:
            await self.http.aclose()
        if self.sender is not None:
            await self.sender.close()

    async def run_until_stopped(self) -> None:
        self.start()
        await asyncio.gather(*self.tasks)
