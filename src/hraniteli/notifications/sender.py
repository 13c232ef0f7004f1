"""The outbox sender: claims due rows and delivers them through the Telegram Bot API.

Delivery is at least once. A due row is *claimed* by moving its `next_attempt_at` forward by a
lease, in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of
senders share one database and never hold the same row; SQLite has no SKIP LOCKED: there one
sender runs, inside the server process — its claims are serialised by BEGIN IMMEDIATE anyway).
Each outcome is then written in its own short transaction, guarded by the lease, so a crash
loses nothing: unmarked rows come due again when their lease ends. A crash between a send
and its mark resends at most that one message.

Limits: about `rate_per_second` sends for the whole bot (steady pacing) and at least
`chat_interval_seconds` from the answer to one message to the next send to the same chat.
A 429 pauses every send for `retry_after` and retries the row after it; 5xx, network errors
and timeouts retry with exponential backoff until `max_attempts`, then `failed`; 403 marks the
chat `blocked` and alerts the administrators; other 400s fail at once.

Without a bot token (or with one Telegram rejects) due rows are moved to `held`: kept and
readable in the outbox API. `release_held()` makes them pending again; `run()` calls it on
start when a token is configured, so restarting the worker with a token sends them.

Message texts may hold health data: they are never logged, nor stored in `last_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.token import TokenValidationError
from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.clock import Clock, utc_now
from hraniteli.models import OutboxMessage, OutboxState
from hraniteli.notifications import service as outbox

if TYPE_CHECKING:
    from hraniteli.config import Settings
    from hraniteli.db import Database

CANDIDATES_PER_SLOT = 4
"""Due rows looked at per batch place, to fill a batch with distinct chats."""

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

KIND_NAMES = {outbox.CLIENT: "клиент", outbox.PSYCHOLOGIST: "психолог", outbox.ADMIN: "администратор"}


@dataclass
class DeliveryReport:
    """What one `deliver_due` did, counted in rows."""

    sent: int = 0
    retried: int = 0
    """Tried and rescheduled: 429, 5xx, network errors, a migrated group chat."""
    postponed: int = 0
    """Not tried: an earlier message to the same chat was rescheduled (keeps the chat's order)."""
    failed: int = 0
    blocked: int = 0
    held: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.postponed + self.failed + self.blocked + self.held


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    chat_id: str
    text: str
    buttons: list[list[dict[str, Any]]] | None
    attempts: int
    recipient_kind: str
    recipient_ref: str | None
    created_at: datetime
    lease_until: datetime


class _Pacer:
    """Steady pacing for the whole bot, a least interval per chat and a global pause after a 429.

    Works on the injected clock, so tests with a virtual clock and sleep never wait for real.
    """

    def __init__(self, *, rate_per_second: float, chat_interval: float, clock: Clock, sleep: Sleep) -> None:
        self._interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self._chat_interval = max(chat_interval, 0.0)
        self._clock = clock
        self._sleep = sleep
        self._next_send = 0.0
        self._paused_until = 0.0
        self._chat_ready: dict[str, float] = {}
        # Telegram counts arrivals in a sliding second: steady pacing alone lets network jitter
        # squeeze rate + 1 arrivals into one. A send also waits a second from the answer to the
        # send `rate` sends before it (answers are after arrivals, as for the chat interval).
        self._window_sends = int(rate_per_second) if rate_per_second >= 1 else 0
        self._answers: deque[float] = deque(maxlen=self._window_sends or 1)

    def _now(self) -> float:
        return self._clock().timestamp()

    def ready_at(self, chat_id: str) -> float:
        window_free = (
            self._answers[0] + 1.0 if self._window_sends and len(self._answers) == self._window_sends else 0.0
        )
        return max(self._next_send, self._paused_until, self._chat_ready.get(chat_id, 0.0), window_free)

    async def wait_turn(self, chat_id: str) -> None:
        # Re-check after every sleep: a sleep may end early, or a pause may have started meanwhile.
        # Below a microsecond (the clock's resolution) the wait is over.
        while (wait := self.ready_at(chat_id) - self._now()) >= 1e-6:
            await self._sleep(wait)
        self._next_send = self._now() + self._interval

    def answered(self, chat_id: str) -> None:
        """Counted from the answer: the next message to this chat reaches Telegram after the interval."""
        now = self._now()
        self._chat_ready[chat_id] = now + self._chat_interval
        self._answers.append(now)
        if len(self._chat_ready) > 10_000:
            self._chat_ready = {chat: at for chat, at in self._chat_ready.items() if at > now}

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._now() + seconds)


@dataclass(frozen=True)
class _Outcome:
    state: OutboxState
    error: str | None = None
    retry_after: float | None = None
    """Seconds until the next try; None: transient error, use the backoff."""
    counts_attempt: bool = True
    message_id: int | None = None
    new_chat_id: str | None = None


@dataclass
class TelegramSender:
    """Delivers due outbox rows; one instance per worker process (it keeps the pacing state)."""

    database: Database
    token: str | None
    api_url: str = "https://api.telegram.org"
    admin_chat_id: str | None = None
    rate_per_second: float = 30.0
    chat_interval_seconds: float = 1.0
    max_attempts: int = 8
    batch_size: int = 100
    poll_seconds: float = 5.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    lease_seconds: float = 300.0
    request_timeout_seconds: float = 30.0
    clock: Clock = utc_now
    sleep: Sleep = asyncio.sleep
    bot_session: BaseSession | None = None
    """An HTTP session to share (its owner closes it); None: the sender opens and closes its own."""
    _bot: Bot | None = field(default=None, init=False, repr=False)
    _token_rejected: str | None = field(default=None, init=False, repr=False)
    _offset: timedelta = field(default=timedelta(0), init=False, repr=False)
    _stop: asyncio.Event | None = field(default=None, init=False, repr=False)
    _pacer: _Pacer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pacer = _Pacer(
            rate_per_second=self.rate_per_second,
            chat_interval=self.chat_interval_seconds,
            clock=self.clock,
            sleep=self.sleep,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        database: Database,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        bot_session: BaseSession | None = None,
    ) -> Self:
        token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
        return cls(
            database=database,
            token=token or None,
            api_url=settings.telegram_api_url,
            admin_chat_id=settings.telegram_admin_chat_id,
            rate_per_second=settings.telegram_rate_per_second,
            chat_interval_seconds=settings.telegram_chat_interval_seconds,
            max_attempts=settings.telegram_max_attempts,
            batch_size=settings.worker_batch_size,
            poll_seconds=settings.worker_poll_seconds,
            clock=clock,
            sleep=sleep,
            bot_session=bot_session,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._bot is not None:
            if self.bot_session is None:
                await self._bot.session.close()
            self._bot = None

    @property
    def can_send(self) -> bool:
        return bool(self.token) and self._token_rejected is None

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; waits `poll_seconds` whenever nothing was due.

        Once `stop` is set the current batch ends after the send in flight (or a running 429
        pause); its unsent rows are due again at once for the next sender.
        """
        self._stop = stop
        try:
            if self.can_send:
                await self.release_held()
            while not stop.is_set():
                try:
                    report = await self.deliver_due()
                except Exception as error:  # the loop must survive a bad moment of the database
                    # Only the type: database errors quote their parameters, i.e. message texts.
                    logger.error("outbox delivery round failed: %s", type(error).__name__)
                    report = DeliveryReport()
                if report.total:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
        finally:
            self._stop = None
            await self.close()

    async def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Deliver every row due at `now` (default: the clock), batch by batch, until none is left.

        Passing `now` shifts the sender's time for this call: the clock still measures what
        passes while it paces, retries are scheduled from `now` plus that.
        """
        self._offset = (now - self.clock()) if now is not None else timedelta(0)
        report = DeliveryReport()
        try:
            while self._stop is None or not self._stop.is_set():
                if not self.can_send:
                    report.held += await self._hold_due()
                    return report
                batch = await self._claim(self._now())
                if not batch:
                    return report
                await self._deliver_batch(batch, report)
            return report
        finally:
            self._offset = timedelta(0)

    async def release_held(
        self, now: datetime | None = None, *, created_after: datetime | None = None
    ) -> int:
        """Held rows become pending and due at once (`created_after`: only those newer than it)."""
        now = now or self.clock()
        query = (
            update(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.HELD, OutboxMessage.chat_id.is_not(None))
            .values(state=OutboxState.PENDING, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        if created_after is not None:
            query = query.where(OutboxMessage.created_at > created_after)
        async with self.database.unit_of_work() as session:
            released = cast("CursorResult[Any]", await session.execute(query)).rowcount
        if released:
            logger.info("outbox: %d held messages released", released)
        return released

    # --- claiming and marking ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock() + self._offset

    def _due(self, now: datetime) -> Any:
        return (
            (OutboxMessage.state == OutboxState.PENDING)
            & (OutboxMessage.next_attempt_at <= now)
            & OutboxMessage.chat_id.is_not(None)
        )

    async def _claim(self, now: datetime) -> list[_Claimed]:
        lease_until = now + timedelta(seconds=self.lease_seconds)
        async with self.database.unit_of_work() as session:
            rows = (
                (
                    await session.execute(
                        select(OutboxMessage)
                        .where(self._due(now))
                        .order_by(OutboxMessage.created_at, OutboxMessage.id)
                        .limit(self.batch_size * CANDIDATES_PER_SLOT)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            # One message per chat per batch: a chat may take only 1 msg/s, so a batch holding
            # several for one chat would stretch to seconds whatever the bot's allowance. The
            # chat's next message (still due, not leased) goes in a later batch, in order.
            chats: set[str | None] = set()
            picked: list[OutboxMessage] = []
            for row in rows:
                if row.chat_id not in chats and len(picked) < self.batch_size:
                    chats.add(row.chat_id)
                    picked.append(row)
            rows = picked
            if not rows:
                return []
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([row.id for row in rows]))
                .values(next_attempt_at=lease_until)
                .execution_options(synchronize_session=False)
            )
            return [
                _Claimed(
                    id=row.id,
                    chat_id=cast(str, row.chat_id),
                    text=row.text,
                    buttons=row.buttons,
                    attempts=row.attempts,
                    recipient_kind=row.recipient_kind,
                    recipient_ref=row.recipient_ref,
                    created_at=row.created_at,
                    lease_until=lease_until,
                )
                for row in rows
            ]

    async def _hold_due(self) -> int:
        async with self.database.unit_of_work() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(self._due(self._now()))
                .values(state=OutboxState.HELD, last_error=self._token_rejected or "no bot token configured")
                .execution_options(synchronize_session=False)
            )
            held = cast("CursorResult[Any]", result).rowcount
        if held:
            logger.warning("outbox: %d messages held (%s)", held, self._token_rejected or "no bot token")
        return held

    async def _mark(self, claimed: _Claimed, values: dict[str, Any], *, alert_blocked: bool = False) -> bool:
        """Write one outcome, only while the lease is ours (else another sender took the row over)."""
        async with self.database.unit_of_work() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == claimed.id,
                    OutboxMessage.state == OutboxState.PENDING,
                    OutboxMessage.next_attempt_at == claimed.lease_until,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if cast("CursorResult[Any]", result).rowcount != 1:
                logger.warning("outbox message %s: lease lost, outcome not recorded", claimed.id)
                return False
            if alert_blocked:
                await self._enqueue_blocked_alert(session, claimed)
        return True

    async def _hold_chat(self, claimed: _Claimed, until: datetime) -> int:
        """The chat's later messages not in this batch wait too, so none overtakes the retried one
        (only unleased ones: a row another sender holds is left to it)."""
        async with self.database.unit_of_work() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.chat_id == claimed.chat_id,
                    OutboxMessage.state == OutboxState.PENDING,
                    OutboxMessage.id != claimed.id,
                    OutboxMessage.created_at >= claimed.created_at,
                    OutboxMessage.next_attempt_at <= self._now(),
                )
                .values(next_attempt_at=until)
                .execution_options(synchronize_session=False)
            )
        return int(cast("CursorResult[Any]", result).rowcount)

    async def _enqueue_blocked_alert(self, session: AsyncSession, claimed: _Claimed) -> None:
        if claimed.recipient_kind == outbox.ADMIN or claimed.chat_id == self.admin_chat_id:
            return  # the admin chat itself blocked the bot: nobody to tell through it
        who = KIND_NAMES.get(claimed.recipient_kind, claimed.recipient_kind)
        ref = f" {claimed.recipient_ref}" if claimed.recipient_ref else ""
        await outbox.enqueue(
            session,
            dedupe_key=f"blocked:{claimed.chat_id}",
            recipient_kind=outbox.ADMIN,
            chat_id=self.admin_chat_id,
            text=(
                f"Бот заблокирован: {who}{ref} (чат {claimed.chat_id}) больше не получает сообщений. "
                f"Сообщение {claimed.id} не доставлено."
            ),
            now=self._now(),
        )

    # --- sending ----------------------------------------------------------------------------------

    async def _deliver_batch(self, batch: list[_Claimed], report: DeliveryReport) -> None:
        queues: dict[str, deque[_Claimed]] = {}
        for claimed in batch:
            queues.setdefault(claimed.chat_id, deque()).append(claimed)
        postponed_until: dict[str, datetime] = {}
        # A send must finish well inside the lease, or another sender may take the row over.
        reserve = timedelta(seconds=self.request_timeout_seconds + 5)
        while queues:
            chat_id = min(queues, key=lambda chat: (self._pacer.ready_at(chat), queues[chat][0].created_at))
            claimed = queues[chat_id].popleft()
            if not queues[chat_id]:
                del queues[chat_id]
            if chat_id in postponed_until:
                if await self._mark(claimed, {"next_attempt_at": postponed_until[chat_id]}):
                    report.postponed += 1
                continue
            await self._pacer.wait_turn(chat_id)
            stopping = self._stop is not None and self._stop.is_set()
            if stopping or not self.can_send or self._now() + reserve >= claimed.lease_until:
                rest = [claimed, *(row for queue in queues.values() for row in queue)]
                for row in rest:  # due again at once: the next claim (ours or another's) takes them
                    await self._mark(row, {"next_attempt_at": self._now()})
                return
            outcome = await self._send(claimed)
            self._pacer.answered(chat_id)
            retry_at = await self._record(claimed, outcome, report)
            if retry_at is not None:
                postponed_until[chat_id] = retry_at
                report.postponed += await self._hold_chat(claimed, retry_at)

    async def _record(self, claimed: _Claimed, outcome: _Outcome, report: DeliveryReport) -> datetime | None:
        """Mark the row; returns when it will be tried again, if it will."""
        now = self._now()
        attempts = claimed.attempts + (1 if outcome.counts_attempt else 0)
        base: dict[str, Any] = {"attempts": attempts, "last_error": outcome.error}
        if outcome.state is OutboxState.SENT:
            sent: dict[str, Any] = {
                "state": OutboxState.SENT,
                "sent_at": now,
                "telegram_message_id": outcome.message_id,
            }
            if await self._mark(claimed, base | sent):
                report.sent += 1
            return None
        if outcome.state is OutboxState.BLOCKED:
            if await self._mark(claimed, base | {"state": OutboxState.BLOCKED}, alert_blocked=True):
                report.blocked += 1
                logger.info("outbox message %s: chat blocked the bot", claimed.id)
            return None
        if outcome.state is OutboxState.HELD:
            if await self._mark(claimed, base | {"state": OutboxState.HELD}):
                report.held += 1
            return None
        if outcome.state is OutboxState.PENDING and (
            not outcome.counts_attempt or attempts < self.max_attempts
        ):
            delay = outcome.retry_after
            if delay is None:
                delay = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(attempts - 1, 0))
            retry_at = now + timedelta(seconds=delay)
            extra: dict[str, Any] = {"chat_id": outcome.new_chat_id} if outcome.new_chat_id else {}
            if await self._mark(claimed, base | extra | {"next_attempt_at": retry_at}):
                report.retried += 1
                logger.info("outbox message %s: retry in %.0fs (%s)", claimed.id, delay, outcome.error)
            return retry_at
        if await self._mark(claimed, base | {"state": OutboxState.FAILED}):
            report.failed += 1
            logger.warning(
                "outbox message %s: failed after %d attempts (%s)", claimed.id, attempts, outcome.error
            )
        return None

    def _get_bot(self) -> Bot:
        if self._bot is None:
            session = self.bot_session or AiohttpSession(
                api=TelegramAPIServer.from_base(self.api_url), timeout=self.request_timeout_seconds
            )
            try:
                self._bot = Bot(cast(str, self.token), session=session)
            except TokenValidationError:
                self._token_rejected = "the bot token is malformed"  # noqa: S105 - a reason, not a secret
                raise
        return self._bot

    async def _send(self, claimed: _Claimed) -> _Outcome:
        try:
            markup = _keyboard(claimed.buttons)
        except (ValueError, TypeError, KeyError):
            return _Outcome(OutboxState.FAILED, error="invalid buttons")
        try:
            bot = self._get_bot()
        except TokenValidationError:
            logger.error("outbox: the bot token is malformed; messages are held")
            return _Outcome(OutboxState.HELD, error=self._token_rejected, counts_attempt=False)
        try:
            sent = await bot.send_message(chat_id=claimed.chat_id, text=claimed.text, reply_markup=markup)
        except TelegramRetryAfter as error:
            self._pacer.pause(error.retry_after)
            logger.warning("outbox: flood control, all sends paused for %ss", error.retry_after)
            return _Outcome(
                OutboxState.PENDING,
                error="429: flood control",
                retry_after=error.retry_after,
                counts_attempt=False,
            )
        except TelegramMigrateToChat as error:
            return _Outcome(
                OutboxState.PENDING,
                error="the group became a supergroup",
                retry_after=0,
                counts_attempt=False,
                new_chat_id=str(error.migrate_to_chat_id),
            )
        except TelegramForbiddenError as error:
            return _Outcome(OutboxState.BLOCKED, error=f"403: {error.message}"[:500])
        except (TelegramUnauthorizedError, TelegramNotFound) as error:
            # Telegram does not know the token: keep every message until a good one is configured.
            self._token_rejected = "Telegram rejected the bot token"  # noqa: S105 - a reason, not a secret
            logger.error(
                "outbox: Telegram rejected the bot token (%s); messages are held", type(error).__name__
            )
            return _Outcome(OutboxState.HELD, error=self._token_rejected, counts_attempt=False)
        except (TelegramBadRequest, TelegramEntityTooLarge) as error:
            return _Outcome(OutboxState.FAILED, error=f"400: {error.message}"[:500])
        except Exception as error:  # 5xx, network, timeout, undecodable answer: transient
            # Only the type: some exceptions (an undecodable answer) quote the message text.
            return _Outcome(OutboxState.PENDING, error=_transient_error(error))
        return _Outcome(OutboxState.SENT, message_id=sent.message_id)


def _transient_error(error: Exception) -> str:
    if isinstance(error, TelegramServerError):
        return f"5xx: {error.message}"[:500]
    if isinstance(error, TelegramNetworkError):
        return f"network: {error.message}"[:500]
    return type(error).__name__


def _keyboard(buttons: list[list[dict[str, Any]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    try:
        rows = [[InlineKeyboardButton(**button) for button in row] for row in buttons]
    except Exception as error:  # pydantic's ValidationError quotes the input; keep only the fact
        raise ValueError("invalid buttons") from error
    return InlineKeyboardMarkup(inline_keyboard=rows)
