"""What the sender writes: a claimed row, the answer turned into the row's new values (`Mark`),
and the `Recorder` that writes them in groups, guarded by the lease.

Message texts may hold health data: they are never logged, nor stored in `last_error`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.models import OutboxMessage, OutboxState
from hraniteli.notifications import service as outbox
from hraniteli.notifications.outcomes import Outcome

if TYPE_CHECKING:
    from hraniteli.db import Database

logger = logging.getLogger("hraniteli.notifications.sender")

STALE = "its moment passed before it could be sent"
"""`last_error` of an expired message."""
KIND_NAMES = {outbox.CLIENT: "клиент", outbox.PSYCHOLOGIST: "психолог", outbox.ADMIN: "администратор"}

_OUTBOX = cast(Table, OutboxMessage.__table__)


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
    expired: int = 0
    """Not sent: their moment had passed (`expires_at`)."""

    @property
    def total(self) -> int:
        rows = (self.sent, self.retried, self.postponed, self.failed, self.blocked, self.held, self.expired)
        return sum(rows)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    chat_id: str
    text: str
    buttons: list[list[dict[str, Any]]] | None
    attempts: int
    recipient_kind: str
    recipient_ref: str | None
    created_at: datetime
    expires_at: datetime | None
    lease_until: datetime


class Result(StrEnum):
    SENT = "sent"
    RETRIED = "retried"
    BLOCKED = "blocked"
    HELD = "held"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Mark:
    """An answer turned into the row's new values (written later, in a group)."""

    claimed: Claimed
    result: Result
    params: dict[str, Any]
    """Parameters of `MARK`: every column it sets, for every row the same statement."""
    error: str | None
    retry_at: datetime | None = None


MARK = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("m_id"),
        _OUTBOX.c.state == OutboxState.PENDING,
        _OUTBOX.c.next_attempt_at == bindparam("m_lease"),
    )
    .values(
        state=bindparam("m_state"),
        attempts=bindparam("m_attempts"),
        last_error=bindparam("m_error"),
        sent_at=bindparam("m_sent_at"),
        telegram_message_id=bindparam("m_message_id"),
        next_attempt_at=bindparam("m_next"),
        chat_id=bindparam("m_chat"),
    )
)
"""One outcome, only while the lease is ours (else another sender took the row over)."""

RELEASE = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("m_id"),
        _OUTBOX.c.state == OutboxState.PENDING,
        _OUTBOX.c.next_attempt_at == bindparam("m_lease"),
    )
    .values(next_attempt_at=bindparam("m_next"))
)
"""A claimed row not sent (stopping, no token, lease running out): due again at once."""


@dataclass
class Recorder:
    """Turns answers into rows' new values and writes them (in the caller's transaction)."""

    database: Database
    now: Callable[[], datetime]
    """The sender's time (its clock plus the offset of a `deliver_due(now)`)."""
    admin_chat_id: str | None
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float

    def decide(self, claimed: Claimed, outcome: Outcome) -> Mark:
        """The row's new values after `outcome`, answered now."""
        now = self.now()
        attempts = claimed.attempts + (1 if outcome.counts_attempt else 0)
        params: dict[str, Any] = {
            "m_id": claimed.id,
            "m_lease": claimed.lease_until,
            "m_state": outcome.state,
            "m_attempts": attempts,
            "m_error": outcome.error,
            "m_sent_at": None,
            "m_message_id": None,
            "m_next": claimed.lease_until,
            "m_chat": claimed.chat_id,
        }
        if outcome.state is OutboxState.SENT:
            params |= {"m_sent_at": now, "m_message_id": outcome.message_id}
            return Mark(claimed, Result.SENT, params, outcome.error)
        if outcome.state is OutboxState.BLOCKED:
            return Mark(claimed, Result.BLOCKED, params, outcome.error)
        if outcome.state is OutboxState.HELD:
            return Mark(claimed, Result.HELD, params, outcome.error)
        if outcome.state is OutboxState.EXPIRED:
            return Mark(claimed, Result.EXPIRED, params, outcome.error)
        if outcome.state is OutboxState.PENDING and (
            not outcome.counts_attempt or attempts < self.max_attempts
        ):
            delay = outcome.retry_after
            if delay is None:
                delay = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(attempts - 1, 0))
            retry_at = now + timedelta(seconds=delay)
            params |= {"m_next": retry_at, "m_chat": outcome.new_chat_id or claimed.chat_id}
            return Mark(claimed, Result.RETRIED, params, outcome.error, retry_at)
        params["m_state"] = OutboxState.FAILED
        return Mark(claimed, Result.FAILED, params, outcome.error)

    async def record(
        self, session: AsyncSession, report: DeliveryReport, marks: list[Mark], releases: list[Claimed]
    ) -> list[Mark]:
        """The answers' new values, a blocked chat's alert, a retried row's chat held, unsent rows
        released; returns the marks that took."""
        taken = await self.write_marks(session, marks) if marks else []
        for mark in taken:
            if mark.result is Result.BLOCKED:
                await self.enqueue_blocked_alert(session, mark.claimed)
            elif mark.result is Result.RETRIED:
                report.postponed += await self.hold_chat(session, mark.claimed, cast(datetime, mark.retry_at))
        if releases:
            now = self.now()
            await session.execute(
                RELEASE,
                [{"m_id": row.id, "m_lease": row.lease_until, "m_next": now} for row in releases],
            )
        return taken

    @staticmethod
    def count(report: DeliveryReport, taken: list[Mark]) -> None:
        """After the commit: the report and the log."""
        for mark in taken:
            setattr(report, mark.result.value, getattr(report, mark.result.value) + 1)
            if mark.result is Result.BLOCKED:
                logger.info("outbox message %s: chat blocked the bot", mark.claimed.id)
            elif mark.result is Result.RETRIED:
                logger.info("outbox message %s: retry at %s (%s)", mark.claimed.id, mark.retry_at, mark.error)
            elif mark.result is Result.FAILED:
                logger.warning(
                    "outbox message %s: failed after %d attempts (%s)",
                    mark.claimed.id,
                    mark.params["m_attempts"],
                    mark.error,
                )

    async def write_marks(self, session: AsyncSession, marks: list[Mark]) -> list[Mark]:
        """Executes the marks; returns those that took (the lease was still ours)."""
        result = cast("CursorResult[Any]", await session.execute(MARK, [mark.params for mark in marks]))
        if self.database.engine.dialect.supports_sane_multi_rowcount and result.rowcount == len(marks):
            return marks
        # The driver does not count an executemany (asyncpg), or some lease was lost: look.
        rows = (
            await session.execute(
                select(OutboxMessage.id, OutboxMessage.state, OutboxMessage.next_attempt_at).where(
                    OutboxMessage.id.in_([mark.claimed.id for mark in marks])
                )
            )
        ).all()
        now_is = {row.id: (row.state, row.next_attempt_at) for row in rows}
        taken = []
        for mark in marks:
            if now_is.get(mark.claimed.id) == (mark.params["m_state"], mark.params["m_next"]):
                taken.append(mark)
            else:
                logger.warning("outbox message %s: lease lost, outcome not recorded", mark.claimed.id)
        return taken

    async def hold_chat(self, session: AsyncSession, claimed: Claimed, until: datetime) -> int:
        """The chat's later messages wait too, so none overtakes the retried one (only unleased
        ones: a row another sender holds is left to it)."""
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == claimed.chat_id,
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.id != claimed.id,
                OutboxMessage.created_at >= claimed.created_at,
                OutboxMessage.next_attempt_at <= self.now(),
            )
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return int(cast("CursorResult[Any]", result).rowcount)

    async def enqueue_blocked_alert(self, session: AsyncSession, claimed: Claimed) -> None:
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
            now=self.now(),
        )
