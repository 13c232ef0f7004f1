"""What every HTTP entry point needs: settings, clock, units of work, admin key check."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli import keyring
from hraniteli.clock import Clock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.errors import InvalidInput, NotFound, ServiceUnavailable, TooManyRequests, Unauthorized
from hraniteli.helpful_hand.service import ClaimNotice
from hraniteli.kit.contacts import contact_key
from hraniteli.kit.proof import Proofs, Purpose, split
from hraniteli.kit.ratelimit import RateLimited, RateLimiter
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
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter("memory://", {}))
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

    async def proofs(self, session: AsyncSession) -> Proofs:
        """Issues and checks the proofs carried by the links the service sends."""
        return await keyring.proofs(session, self.settings.secret_key)

    async def claim_notice(self, session: AsyncSession) -> ClaimNotice:
        """How a Helpful Hand client hears that a psychologist took them (with their link)."""
        return ClaimNotice(await self.proofs(session), self.settings.helpful_hand_booking_url)

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        async with self.database.unit_of_work(write=write) as session:
            yield session


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def limit(ctx: AppContext, rule: str, key: str) -> None:
    """Count one request against a rate-limit rule (`Settings.rate_limits`); 429 once spent."""
    try:
        await ctx.limiter.hit(rule, key)
    except RateLimited as exc:
        raise TooManyRequests(
            f"too many requests; please retry in {exc.retry_after} s", retry_after=exc.retry_after
        ) from None


def limited(rule: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency: the caller's address counts against `rule`."""

    async def dependency(request: Request) -> None:
        await limit(context(request), rule, client_address(request))

    return dependency


async def limit_contact(ctx: AppContext, contact_type: str | None, contact: str | None) -> None:
    """Count an application against its contact's budget, whatever address it comes from."""
    key = contact_key(contact_type, contact)
    if key is not None:
        await limit(ctx, "contact_writes", key)


async def _refusals_left(ctx: AppContext, request: Request) -> None:
    """429 for an address that had too many credentials refused lately (guessing stops here)."""
    wait = await ctx.limiter.wait(REFUSED, client_address(request))
    if wait is not None:
        raise TooManyRequests(f"too many refused attempts; please retry in {wait} s", retry_after=wait)


async def _refused(ctx: AppContext, request: Request) -> None:
    await ctx.limiter.count(REFUSED, client_address(request))


async def check_admin_key(ctx: AppContext, request: Request) -> None:
    """Internal operations need the service API key in `X-API-Key`; wrong keys are rate limited."""
    expected = ctx.settings.admin_api_key
    if expected is None or not expected.get_secret_value():
        raise ServiceUnavailable("internal operations are disabled: HRANITELI_ADMIN_API_KEY is not set")
    await _refusals_left(ctx, request)
    if not has_admin_key(ctx, request.headers.get("x-api-key")):
        await _refused(ctx, request)
        raise Unauthorized("a valid X-API-Key header is required")


def has_admin_key(ctx: AppContext, presented: str | None) -> bool:
    """Whether `presented` is the service API key (False when none is configured)."""
    expected = ctx.settings.admin_api_key
    if expected is None or not expected.get_secret_value() or not presented:
        return False
    return secrets.compare_digest(presented.encode(), expected.get_secret_value().encode())


REFUSED = "refused"
"""The rate-limit rule of refused credentials (`Settings.rate_limit_refused`)."""

LINK_REFUSED = (
    "Заявка не найдена или ссылка неполная: откройте ссылку из сообщения целиком, "
    "а если не получится — напишите нам."
)


async def proven_ref(
    ctx: AppContext, session: AsyncSession, request: Request, value: object, *, purpose: Purpose, field: str
) -> str:
    """The reference `value` names (an application number, a research row) when the caller may
    act on it: `value` carries the proof the service put in its own link, or the request holds
    the service key. Anything else gets the answer an unknown reference gets (404), so a guessed
    number reveals nothing, not even that it exists."""
    raw = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not raw or raw in ("null", "undefined"):
        raise InvalidInput(f"`{field}` is required", details=[{"field": field}])
    await _refusals_left(ctx, request)
    ref = (await ctx.proofs(session)).proven(purpose, raw)
    if ref is None and has_admin_key(ctx, request.headers.get("x-api-key")):
        ref = split(raw).ref
    if ref is None:
        await _refused(ctx, request)
        raise NotFound(LINK_REFUSED, details=[{"field": field}])
    return ref


async def client_number(
    ctx: AppContext, session: AsyncSession, request: Request, value: object, *, field: str
) -> str:
    """The application number, for its client (the link's proof) or the service."""
    return await proven_ref(ctx, session, request, value, purpose=Purpose.CLIENT, field=field)


def client_address(request: Request) -> str:
    """The caller's IP address (uvicorn puts the proxy's X-Forwarded-For here when it trusts it)."""
    return request.client.host if request.client else "unknown"


async def require_admin(request: Request) -> None:
    await check_admin_key(context(request), request)
