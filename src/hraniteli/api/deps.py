"""What every HTTP entry point needs: settings, clock, units of work, admin key check."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.clock import Clock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.errors import ServiceUnavailable, Unauthorized
from hraniteli.kit.rendercache import RenderCache
from hraniteli.lifecycle.rules import LadderPolicy
from hraniteli.schedule.service import SchedulePolicy


@dataclass
class AppContext:
    """Lives on `app.state.ctx` for the life of the app."""

    settings: Settings
    database: Database
    clock: Clock
    policy: SchedulePolicy
    render_cache: RenderCache = field(default_factory=RenderCache)
    _dispatcher: Any = None

    @property
    def ladder(self) -> LadderPolicy:
        """The session ladder from settings."""
        s = self.settings
        return LadderPolicy.from_hours(
            confirm=s.ladder_confirm_hours,
            repeat=s.ladder_repeat_hours,
            alert=s.ladder_alert_hours,
            cancel=s.ladder_cancel_hours,
            reminder=s.ladder_reminder_hours,
            feedback_after=s.ladder_feedback_after_hours,
            offer_days=(s.ladder_offer_days[0], s.ladder_offer_days[1]),
            min_answer=s.ladder_min_answer_hours,
        )

    @property
    def bot_dispatcher(self) -> Any:
        """The aiogram dispatcher, built on the first update (handlers import the services)."""
        if self._dispatcher is None:
            from hraniteli.bot.webhook import dispatcher

            self._dispatcher = dispatcher()
        return self._dispatcher

    def now(self) -> datetime:
        return self.clock()

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        async with self.database.unit_of_work(write=write) as session:
            yield session


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def check_admin_key(ctx: AppContext, presented: str | None) -> None:
    """Internal operations need the service API key in `X-API-Key`."""
    expected = ctx.settings.admin_api_key
    if expected is None or not expected.get_secret_value():
        raise ServiceUnavailable("internal operations are disabled: HRANITELI_ADMIN_API_KEY is not set")
    if not presented or not secrets.compare_digest(presented.encode(), expected.get_secret_value().encode()):
        raise Unauthorized("a valid X-API-Key header is required")


def require_admin(request: Request) -> None:
    check_admin_key(context(request), request.headers.get("x-api-key"))
