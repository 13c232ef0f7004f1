"""Fixtures for the outbox sender: the fake Telegram Bot API, virtual time and a sender factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.notifications.sender import TelegramSender
from tests.fakes.telegram_api import TOKEN, FakeTelegram, telegram_api, telegram_api_server

__all__ = ["telegram_api", "telegram_api_server"]

ADMIN_CHAT = "-1001000"


class VirtualTime:
    """The sender's sleep for tests: sleeping moves the frozen clock at once and is recorded."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


@pytest.fixture
def virtual_time(clock: FrozenClock) -> VirtualTime:
    return VirtualTime(clock)


SenderFactory = Callable[..., TelegramSender]


@pytest.fixture(scope="session")
async def telegram_http(telegram_api_server: FakeTelegram) -> AsyncIterator[AiohttpSession]:
    """One HTTP session to the fake for all tests: closing one costs aiogram a 250 ms grace sleep."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram_api_server.url))
    yield session
    await session.close()


@pytest.fixture
async def make_sender(
    database: Database,
    database_url: str,
    telegram_api: FakeTelegram,
    telegram_http: AiohttpSession,
    virtual_time: VirtualTime,
) -> AsyncIterator[SenderFactory]:
    """Builds senders from Settings pointed at the fake API, on virtual time and the shared HTTP
    session unless told otherwise (`own_session=True`: the sender opens and closes its own;
    `on`: another Database, i.e. engine, than the test's — as another process would have)."""
    senders: list[TelegramSender] = []

    def build(
        *,
        clock: Any = None,
        sleep: Any = None,
        own_session: bool = False,
        on: Database | None = None,
        **overrides: Any,
    ) -> TelegramSender:
        values: dict[str, Any] = {
            "database_url": database_url,
            "telegram_bot_token": TOKEN,
            "telegram_api_url": telegram_api.url,
            "telegram_admin_chat_id": ADMIN_CHAT,
            "telegram_max_attempts": 3,
            **overrides,
        }
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        sender = TelegramSender.from_settings(
            settings,
            on or database,
            clock=clock or virtual_time.clock,
            sleep=sleep or virtual_time.sleep,
            bot_session=None if own_session else telegram_http,
        )
        senders.append(sender)
        return sender

    yield build
    await asyncio.gather(*(sender.close() for sender in senders))


@pytest.fixture
def sender(make_sender: SenderFactory) -> TelegramSender:
    return make_sender()
