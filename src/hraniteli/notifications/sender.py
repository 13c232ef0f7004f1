"""The outbox sender: claims due rows and delivers them through the Telegram Bot API.

Delivery is at least once. Due rows are *claimed* by moving their `next_attempt_at` forward by
a lease, in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of
senders share one database and never hold the same row; SQLite has no SKIP LOCKED: there one
sender runs, inside the server process — its claims are serialised by BEGIN IMMEDIATE anyway).
The loop (`run`) of several workers on one PostgreSQL database delivers from one of them at a
time (`delivery.turn`): the bot's allowance is the bot's, not each process's.

One message per chat at a time: a claim takes the oldest due rows of chats that may take a
message now — not one in flight, inside its interval or waiting for a retry — and at most one
row per chat. So each chat's messages go in order, and a backlog to one chat (a psychologist's
reminders) never holds the others up.

Several sends are in flight at once (`max_in_flight`: Telegram answers in ~50–100 ms, so one at
a time could not reach even 30/s); the next claim runs while the queue still holds a claim's
worth of sends. Outcomes are written in groups, guarded by the lease: in the next claim's
transaction, else when two claims' worth are waiting or one second after the first of them, at
once after any answer that is not a success, and when delivery stops. A crash loses nothing —
rows whose outcome was not written come due again when their lease ends — and resends at most
the messages answered since the last write: one per chat (a chat never has two in flight).

Limits (`pacing.Pacer`): about `rate_per_second` sends for the whole bot, never more than that
arriving in any second, and at least `chat_interval_seconds` (`group_interval_seconds` for a
group, such as the admin chat) from the answer to one message to the next send to the same
chat. A 429 pauses every send for `retry_after` and retries the row after it; 5xx, network
errors and timeouts retry with exponential backoff until `max_attempts`, then `failed`; 403
marks the chat `blocked` and alerts the administrators; other 400s fail at once. A retried row
keeps its chat's later messages behind it.

Without a bot token (or with one Telegram rejects) due rows are moved to `held`: kept and
readable in the outbox API. `release_held()` makes them pending again; `run()` calls it when it
takes the delivery turn with a token configured, so restarting the worker with a token sends them.

A row past its `expires_at` (a reminder of a session that has begun, after a long hold or
downtime) is never sent: it is marked `expired`, when claimed or when released.

Its queries live in `delivery.claims`, the writing of answers in `delivery.records`. Message
texts may hold health data: they are never logged, nor stored in `last_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self, cast

from sqlalchemy import update

from hraniteli.clock import Clock, utc_now
from hraniteli.models import OutboxMessage, OutboxState
from hraniteli.notifications.delivery import claims
from hraniteli.notifications.delivery.records import (
    STALE,
    Claimed,
    DeliveryReport,
    Mark,
    Recorder,
    Result,
)
from hraniteli.notifications.delivery.turn import DeliveryTurn
from hraniteli.notifications.outcomes import TOKEN_REJECTED, Outcome
from hraniteli.notifications.pacing import Pacer, Send, Sleep

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.base import BaseSession

    from hraniteli.config import Settings
    from hraniteli.db import Database

__all__ = ["STALE", "DeliveryReport", "TelegramSender"]

CANDIDATES_PER_SLOT = 1.25
"""Due rows looked at per batch place, to fill a batch with distinct chats (backlogged chats are
left out by the query, so most candidates are usable; a short claim only means the next comes
sooner)."""
CLAIM_SECONDS = 0.25
"""At high rates a claim takes this many seconds of sends (see `_claim_size`)."""
RECORD_SECONDS = 1.0
"""Longest an answer waits to be written (bounds what a crash resends)."""
BURST_SECONDS = 0.05
"""Sends the pacer lets catch up after a short gap (a claim, a write), in seconds of the rate."""

logger = logging.getLogger(__name__)


@dataclass
class _Round:
    """The state of one `deliver_due`: claimed rows not sent yet, sends in flight, answers not written."""

    report: DeliveryReport
    slots: asyncio.Semaphore
    queue: deque[Claimed] = field(default_factory=deque)
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    marks: list[Mark] = field(default_factory=list)
    releases: list[Claimed] = field(default_factory=list)
    first_mark_at: float | None = None
    urgent: bool = False
    """An answer other than a success is waiting: write it before the next send."""
    claiming: asyncio.Task[list[Claimed]] | None = None
    writing: asyncio.Task[None] | None = None
    drained: bool = False
    """The last claim found nothing: claim again only when the queue is empty (see `_refill`)."""


@dataclass
class TelegramSender:
    """Delivers due outbox rows; one instance per worker process (it keeps the pacing state)."""

    database: Database
    token: str | None
    api_url: str = "https://api.telegram.org"
    admin_chat_id: str | None = None
    rate_per_second: float = 30.0
    chat_interval_seconds: float = 1.0
    group_interval_seconds: float = 3.0
    max_attempts: int = 8
    max_in_flight: int = 10
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
    _pacer: Pacer = field(init=False, repr=False)
    _writer_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _backlogged: set[str] = field(default_factory=set, init=False, repr=False)
    """Busy chats seen with more due rows."""
    _recorder: Recorder = field(init=False, repr=False)
    _turn: DeliveryTurn = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pacer = Pacer(
            rate_per_second=self.rate_per_second,
            chat_interval=self.chat_interval_seconds,
            group_interval=self.group_interval_seconds,
            clock=self.clock,
            sleep=self.sleep,
            burst=int(self.rate_per_second * BURST_SECONDS),
        )
        self._turn = DeliveryTurn(self.database)
        self._recorder = Recorder(
            database=self.database,
            now=self._now,
            admin_chat_id=self.admin_chat_id,
            max_attempts=self.max_attempts,
            retry_base_seconds=self.retry_base_seconds,
            retry_max_seconds=self.retry_max_seconds,
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
            group_interval_seconds=settings.telegram_group_interval_seconds,
            max_attempts=settings.telegram_max_attempts,
            max_in_flight=settings.telegram_max_in_flight,
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
    def _claim_size(self) -> int:
        """Rows per claim: the batch size, or a quarter second of sends at a higher rate (each
        claim costs a transaction whose trips through a busy loop take milliseconds)."""
        return max(self.batch_size, int(self.rate_per_second * CLAIM_SECONDS))

    @property
    def has_turn(self) -> bool:
        """This sender delivers (`run` took the delivery turn; see `delivery.turn`)."""
        return self._turn.held

    @property
    def can_send(self) -> bool:
        return bool(self.token) and self._token_rejected is None

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; waits `poll_seconds` whenever nothing was due. On
        PostgreSQL only while this sender holds the delivery turn (`delivery.turn`): with several
        workers one delivers, the others stand by and take over when it stops or dies.

        Once `stop` is set no send starts; the sends in flight finish and are recorded, claimed
        rows not sent are due again at once for the next sender.
        """
        self._stop = stop
        released = False
        try:
            while not stop.is_set():
                try:
                    if not self.can_send:
                        # Only holding rows: no turn needed, and none kept from a sender that can send.
                        await self._turn.drop()
                        report = await self.deliver_due()
                    elif await self._turn.take():
                        if not released:
                            await self.release_held()
                            released = True
                        report = await self.deliver_due()
                    else:
                        report = DeliveryReport()
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
            with contextlib.suppress(Exception):
                await self._turn.drop()
            await self.close()

    async def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Deliver every row due at `now` (default: the clock) until none is left that may go.

        Passing `now` shifts the sender's time for this call: the clock still measures what
        passes while it paces, retries are scheduled from `now` plus that.
        """
        self._offset = (now - self.clock()) if now is not None else timedelta(0)
        round_ = _Round(DeliveryReport(), asyncio.Semaphore(self.max_in_flight))
        try:
            while not self._stopping() and self.can_send:
                if round_.urgent or self._record_due(round_):
                    self._write_behind(round_)
                self._claim_ahead(round_)
                if round_.claiming is not None and (not round_.queue or round_.claiming.done()):
                    claimed = await round_.claiming
                    round_.claiming = None
                    round_.queue.extend(claimed)
                    round_.drained = not claimed
                if not round_.queue and not await self._refill(round_):
                    break
                await self._send_next(round_)
        finally:
            if round_.claiming is not None:  # rows claimed meanwhile are given back
                with contextlib.suppress(Exception):
                    round_.queue.extend(await round_.claiming)
            round_.releases.extend(round_.queue)
            round_.queue.clear()
            if round_.in_flight:
                await asyncio.gather(*round_.in_flight, return_exceptions=True)
            await self._flush(round_)
            self._offset = timedelta(0)
        if not self.can_send and not self._stopping():
            round_.report.held += await self._hold_due()
        return round_.report

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _record_due(self, round_: _Round) -> bool:
        if not round_.marks:
            return False
        first = cast(float, round_.first_mark_at)
        # Normally the next claim carries them (see `_claim`); this is for when claims are rare.
        return len(round_.marks) >= 2 * self._claim_size or self._pacer.now() - first >= RECORD_SECONDS

    def _claim_ahead(self, round_: _Round) -> None:
        """Claim the next rows while the queue still holds a batch to send (a claim takes tens of
        milliseconds when the loop is busy with answers: the sends must not wait for it). Chats
        already queued count as busy."""
        if round_.claiming is not None or round_.drained or len(round_.queue) > self._claim_size:
            return
        busy = [*self._pacer.busy_chats(), *(claimed.chat_id for claimed in round_.queue)]
        round_.claiming = asyncio.create_task(self._claim(self._now(), busy=busy, round_=round_))

    def _write_behind(self, round_: _Round) -> None:
        """Write the waiting answers in the background, one write at a time."""
        if round_.writing is None or round_.writing.done():
            previous, round_.writing = round_.writing, asyncio.create_task(self._write(round_))
            if previous is not None:
                previous.result()  # a failed write ends the round (its rows come due after the lease)

    async def _flush(self, round_: _Round) -> None:
        if round_.writing is not None:
            writing, round_.writing = round_.writing, None
            await writing
        await self._write(round_)

    async def _refill(self, round_: _Round) -> bool:
        """Claim the next rows; when none may go now, wait while some will soon. False: done."""
        while not self._stopping():
            busy = self._pacer.busy_chats()
            claimed = await self._claim(self._now(), busy=busy, round_=round_)
            if claimed:
                round_.queue.extend(claimed)
                round_.drained = False
                return True
            if round_.in_flight:  # their chats may have more: look again once one is answered
                await asyncio.wait(round_.in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            if set(busy) - set(self._pacer.busy_chats()):
                continue  # a chat was answered or came free while we looked
            # Wait for a chat's interval, not for a retry's (deliver_due ends; a later round sends it).
            ready = self._pacer.next_chat_ready()
            longest = max(self.chat_interval_seconds, self.group_interval_seconds)
            if ready is None or ready - self._pacer.now() > longest:
                return False
            await self._flush(round_)  # a retry's later messages are held before we look
            if not await self._any_due():
                return False
            await self.sleep(max(ready - self._pacer.now(), 0.0))
        return False

    async def _send_next(self, round_: _Round) -> None:
        claimed = round_.queue.popleft()
        if claimed.expires_at is not None and claimed.expires_at <= self._now():
            stale = Outcome(OutboxState.EXPIRED, error=STALE, counts_attempt=False)
            self._add_mark(round_, self._recorder.decide(claimed, stale))
            return
        await round_.slots.acquire()
        try:
            await self._pacer.wait_turn(claimed.chat_id)
        except BaseException:
            round_.slots.release()
            round_.releases.append(claimed)
            raise
        # A send must finish well inside the lease, or another sender may take the row over.
        reserve = timedelta(seconds=self.request_timeout_seconds + 5)
        if self._stopping() or not self.can_send or self._now() + reserve >= claimed.lease_until:
            round_.slots.release()
            round_.releases.append(claimed)  # due again at once: the next claim (ours or another's)
            return
        send = self._pacer.start(claimed.chat_id)
        task = asyncio.create_task(self._send_one(claimed, send, round_))
        round_.in_flight.add(task)
        task.add_done_callback(round_.in_flight.discard)

    async def _send_one(self, claimed: Claimed, send: Send, round_: _Round) -> None:
        try:
            outcome = await self._send(claimed)
        finally:
            self._pacer.answered(send)
            round_.slots.release()
        mark = self._recorder.decide(claimed, outcome)
        if mark.retry_at is not None:
            # In this process at once (its later messages stay behind it); in the database with the write.
            delay = (mark.retry_at - self._now()).total_seconds()
            self._pacer.hold_chat(claimed.chat_id, self._pacer.now() + delay)
        self._add_mark(round_, mark)

    def _add_mark(self, round_: _Round, mark: Mark) -> None:
        if mark.result not in (Result.SENT, Result.EXPIRED):
            round_.urgent = True
        if not round_.marks:
            round_.first_mark_at = self._pacer.now()
        round_.marks.append(mark)

    async def release_held(
        self, now: datetime | None = None, *, created_after: datetime | None = None
    ) -> int:
        """Held rows become pending and due at once (`created_after`: only those newer than it);
        those whose moment has passed become `expired` instead."""
        return await claims.release_held(self.database, now or self.clock(), created_after=created_after)

    def _now(self) -> datetime:
        return self.clock() + self._offset

    def _database_turn(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """A claim and a write may overlap; on SQLite (one writer at a time) they take turns here
        rather than in SQLite's busy handler, which sleeps in steps of milliseconds."""
        return self._writer_lock if self.database.is_sqlite else contextlib.nullcontext()

    async def _claim(
        self, now: datetime, *, busy: Collection[str] = (), round_: _Round | None = None
    ) -> list[Claimed]:
        """The oldest due rows, one per chat, none of a `busy` chat; leased to this sender.

        Chats known to have more due rows (a backlog) are left out of the main query, so that
        however long their backlog, it never fills the candidates: their oldest rows come from a
        second query once they may take a message again. Other busy chats (most have no second
        message) are skipped here, and become known when one is.

        With `round_`, its waiting answers are written in the same transaction first: at a high
        rate one transaction per batch, not two (each costs several trips through a busy loop).
        """
        marks, releases = self._take_records(round_) if round_ is not None else ([], [])
        taken: list[Mark] = []
        lease_until = now + timedelta(seconds=self.lease_seconds)
        busy = set(busy)
        free = self._backlogged - busy
        query = claims.candidates(
            now, limit=int(self._claim_size * CANDIDATES_PER_SLOT), leaving_out=self._backlogged
        )
        async with self._database_turn(), self.database.unit_of_work() as session:
            if round_ is not None and (marks or releases):
                taken = await self._recorder.record(session, round_.report, marks, releases)
            rows = list((await session.execute(query)).all())
            if free:  # backlogged chats that may take a message again: each one's oldest
                heads = (await session.execute(claims.heads(now, free))).all()
                self._backlogged -= free - {row.chat_id for row in heads}  # those left have none due
                rows = sorted([*heads, *rows], key=lambda row: (row.created_at, row.id))
            # One message per chat per claim: the chat's next message (still due, not leased) is
            # claimed after this one has been answered and the chat's interval has passed.
            chats: set[str] = set()
            picked: list[Claimed] = []
            for row in rows:
                if row.chat_id in chats or row.chat_id in busy:
                    self._backlogged.add(row.chat_id)
                    continue
                chats.add(row.chat_id)
                picked.append(Claimed(**row._asdict(), lease_until=lease_until))
                if len(picked) == self._claim_size:
                    break
            if picked:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([claimed.id for claimed in picked]))
                    .values(next_attempt_at=lease_until)
                    .execution_options(synchronize_session=False)
                )
        if round_ is not None:
            self._recorder.count(round_.report, taken)
        return picked

    async def _any_due(self) -> bool:
        return await claims.any_due(self.database, self._now())

    async def _hold_due(self) -> int:
        return await claims.hold_due(
            self.database, self._now(), self._token_rejected or "no bot token configured"
        )

    # --- recording (`delivery.records`) -----------------------------------------------------------

    async def _write(self, round_: _Round) -> None:
        """Write the waiting answers and releases in one transaction."""
        marks, releases = self._take_records(round_)
        if not marks and not releases:
            return
        async with self._database_turn(), self.database.unit_of_work() as session:
            taken = await self._recorder.record(session, round_.report, marks, releases)
        self._recorder.count(round_.report, taken)

    @staticmethod
    def _take_records(round_: _Round) -> tuple[list[Mark], list[Claimed]]:
        marks, releases = round_.marks, round_.releases
        round_.marks, round_.releases, round_.first_mark_at, round_.urgent = [], [], None, False
        return marks, releases

    # --- sending ----------------------------------------------------------------------------------

    def _get_bot(self) -> Bot | None:
        """The aiogram Bot, made (and aiogram loaded) on the first send; None: the token is malformed."""
        if self._bot is None:
            from aiogram import Bot
            from aiogram.client.session.aiohttp import AiohttpSession
            from aiogram.client.telegram import TelegramAPIServer
            from aiogram.utils.token import TokenValidationError

            session = self.bot_session or AiohttpSession(
                api=TelegramAPIServer.from_base(self.api_url), timeout=self.request_timeout_seconds
            )
            try:
                self._bot = Bot(cast(str, self.token), session=session)
            except TokenValidationError:
                self._token_rejected = "the bot token is malformed"  # noqa: S105 - a reason, not a secret
                logger.error("outbox: the bot token is malformed; messages are held")
                return None
        return self._bot

    async def _send(self, claimed: Claimed) -> Outcome:
        from hraniteli.notifications.bot_api import send_message

        bot = self._get_bot()
        if bot is None:
            return Outcome(OutboxState.HELD, error=self._token_rejected, counts_attempt=False)
        outcome = await send_message(bot, claimed.chat_id, claimed.text, claimed.buttons)
        if outcome.flood and outcome.retry_after is not None:
            self._pacer.pause(outcome.retry_after)
            logger.warning("outbox: flood control, all sends paused for %ss", outcome.retry_after)
        if outcome.token_rejected and self._token_rejected is None:
            self._token_rejected = TOKEN_REJECTED
            logger.error("outbox: Telegram rejected the bot token; messages are held")
        return outcome


def preload_telegram() -> None:
    """Load aiogram now (seconds of work: its types are built on import) rather than at the first
    send or update, which would stall the event loop that long. Call before serving, when a bot
    token is configured; without one aiogram is never needed."""
    import hraniteli.bot.handlers
    import hraniteli.notifications.bot_api  # noqa: F401
