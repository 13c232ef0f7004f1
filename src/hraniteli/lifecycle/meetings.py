"""Meeting links, made and deleted by the worker outside database transactions.

A provider call can take seconds (and on SQLite a write transaction holds the only write
lock), so a meeting event is handled in three steps: claim it with a lease in a short
transaction, call the provider with no transaction open, store the outcome in another short
transaction. A worker dying between the call and the store leaves the lease to expire and the
call is made again: at least once, like any call to a system we do not own (an orphan meeting
at the provider is the cost, never a missing link).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from hraniteli.conferencing.providers import MeetingRequest
from hraniteli.conferencing.repository import busy_zoom_accounts
from hraniteli.conferencing.service import (
    MeetingProviders,
    MeetingResult,
    create_meeting,
    delete_meeting,
)
from hraniteli.db import Database
from hraniteli.errors import NotFound
from hraniteli.lifecycle import timeline
from hraniteli.lifecycle.rules import EventKind
from hraniteli.models import ACTIVE_BOOKING_STATUSES, Booking, Psychologist, TimelineEvent, WorkState

log = logging.getLogger("hraniteli.meetings")

LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class _Claim:
    event_id: uuid.UUID
    kind: EventKind
    booking_id: uuid.UUID
    request: MeetingRequest | None
    busy: frozenset[str]
    platform: str | None
    meeting_id: str | None
    calendar_event_id: str | None
    account: str | None


@dataclass
class MeetingReport:
    created: int = 0
    deleted: int = 0
    failed: int = 0


class MeetingWork:
    def __init__(self, database: Database, providers: MeetingProviders, *, batch_size: int = 20) -> None:
        self.database = database
        self.providers = providers
        self.batch_size = batch_size

    async def run_due(self, now: datetime) -> MeetingReport:
        report = MeetingReport()
        made: list[tuple[MeetingRequest, str]] = []  # Zoom accounts taken by this batch
        for claim in await self._claim(now):
            try:
                if claim.kind == EventKind.CREATE_MEETING:
                    request = claim.request
                    assert request is not None
                    busy = claim.busy | {
                        account
                        for other, account in made
                        if other.start_at < request.end_at and request.start_at < other.end_at
                    }
                    result = await create_meeting(self.providers, request=request, busy_accounts=busy)
                    if result.account:
                        made.append((request, result.account))
                    await self._store_created(claim, result, now)
                    report.created += 1
                else:
                    deletion = await delete_meeting(
                        self.providers,
                        platform=claim.platform,
                        meeting_id=claim.meeting_id,
                        calendar_event_id=claim.calendar_event_id,
                        account=claim.account,
                    )
                    await self._finish(
                        claim.event_id,
                        now,
                        "удалена" if deletion.is_deleted else f"не удалена: {deletion.reason}",
                    )
                    report.deleted += deletion.is_deleted
            except Exception as exc:
                log.warning("meeting event %s failed: %s", claim.event_id, type(exc).__name__)
                report.failed += 1
        return report

    async def _claim(self, now: datetime) -> list[_Claim]:
        claims = []
        async with self.database.unit_of_work() as session:
            query = (
                select(TimelineEvent)
                .where(
                    TimelineEvent.state == WorkState.PENDING,
                    TimelineEvent.due_at <= now,
                    TimelineEvent.kind.in_([EventKind.CREATE_MEETING, EventKind.DELETE_MEETING]),
                )
                .order_by(TimelineEvent.due_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )
            for event in (await session.execute(query)).scalars():
                booking = await session.get(Booking, event.booking_id)
                kind = EventKind(event.kind)
                if booking is None or (
                    kind == EventKind.CREATE_MEETING
                    and (booking.status not in ACTIVE_BOOKING_STATUSES or booking.meeting_link)
                ):
                    event.state = WorkState.SKIPPED
                    event.result = "уже не нужно"
                    event.done_at = now
                    event.updated_at = now
                    continue
                event.attempts += 1
                event.due_at = now + LEASE  # the lease: if this worker dies, another takes it later
                event.updated_at = now
                request = None
                busy: frozenset[str] = frozenset()
                if kind == EventKind.CREATE_MEETING:
                    psychologist = await session.get(Psychologist, booking.psychologist_id)
                    request = MeetingRequest(
                        booking_id=str(booking.id),
                        start_at=booking.start_at,
                        end_at=booking.end_at,
                        topic=f"Сессия с психологом {psychologist.name if psychologist else ''}".strip(),
                    )
                    busy = frozenset(
                        await busy_zoom_accounts(
                            session,
                            start_at=booking.start_at,
                            end_at=booking.end_at,
                            exclude_booking_id=booking.id,
                        )
                    )
                claims.append(
                    _Claim(
                        event.id,
                        kind,
                        booking.id,
                        request,
                        busy,
                        booking.meeting_platform,
                        booking.meeting_id,
                        booking.calendar_meeting_id,
                        booking.meeting_account,
                    )
                )
        return claims

    async def _store_created(self, claim: _Claim, result: MeetingResult, now: datetime) -> None:
        async with self.database.unit_of_work() as session:
            booking = await session.get(Booking, claim.booking_id)
            event = await session.get(TimelineEvent, claim.event_id)
            if booking is None or event is None:
                return
            for key, value in result.booking_fields().items():
                setattr(booking, key, value)
            booking.updated_at = now
            event.state = WorkState.DONE
            event.result = f"{result.platform}: ссылка создана"
            event.done_at = now
            event.updated_at = now
            if booking.status not in ACTIVE_BOOKING_STATUSES:
                # cancelled while the provider was being called: delete what was just made
                await timeline.plan_meeting_deletion(session, booking=booking, now=now)

    async def _finish(self, event_id: uuid.UUID, now: datetime, result: str) -> None:
        async with self.database.unit_of_work() as session:
            event = await session.get(TimelineEvent, event_id)
            if event is not None:
                event.state = WorkState.DONE
                event.result = result
                event.done_at = now
                event.updated_at = now


async def make_link_now(
    database: Database, providers: MeetingProviders, *, booking_id: uuid.UUID, now: datetime
) -> MeetingResult:
    """The legacy `generate-conference-link`: make the booking's link at once (same three steps)."""
    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, booking_id)
        if booking is None:
            raise NotFound("no such booking")
        psychologist = await session.get(Psychologist, booking.psychologist_id)
        request = MeetingRequest(
            booking_id=str(booking.id),
            start_at=booking.start_at,
            end_at=booking.end_at,
            topic=f"Сессия с психологом {psychologist.name if psychologist else ''}".strip(),
        )
        busy = await busy_zoom_accounts(
            session, start_at=booking.start_at, end_at=booking.end_at, exclude_booking_id=booking.id
        )
    result = await create_meeting(providers, request=request, busy_accounts=busy)
    async with database.unit_of_work() as session:
        stored = await session.get(Booking, booking_id)
        if stored is not None and not stored.meeting_link:
            for key, value in result.booking_fields().items():
                setattr(stored, key, value)
            stored.updated_at = now
            await timeline.skip_meeting_creation(session, booking_id=booking_id, now=now)
    return result
