"""Periodic jobs: when each one ticks (Moscow time) and what a tick does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.kit.moscow import MSK
from hraniteli.lifecycle.actions import LifecycleSettings
from hraniteli.models import (
    ACTIVE_BOOKING_STATUSES,
    Application,
    ApplicationKind,
    ApplicationStatus,
    Booking,
    BookingStatus,
    Client,
    Psychologist,
)
from hraniteli.notifications import service as outbox
from hraniteli.notifications.service import ADMIN, CLIENT, PSYCHOLOGIST

JobBody = Callable[[AsyncSession, datetime, datetime, LifecycleSettings], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Job:
    name: str
    latest_tick: Callable[[datetime], datetime]
    """The most recent tick at or before `now` (a UTC instant)."""
    body: JobBody


def daily_at(hour: int, minute: int = 0) -> Callable[[datetime], datetime]:
    def tick(now: datetime) -> datetime:
        local = now.astimezone(MSK)
        at = datetime.combine(local.date(), time(hour, minute), tzinfo=MSK)
        return at if at <= local else at - timedelta(days=1)

    return tick


def weekly_at(weekdays: set[int], hour: int, minute: int = 0) -> Callable[[datetime], datetime]:
    def tick(now: datetime) -> datetime:
        local = now.astimezone(MSK)
        for back in range(8):
            day = local.date() - timedelta(days=back)
            at = datetime.combine(day, time(hour, minute), tzinfo=MSK)
            if day.weekday() in weekdays and at <= local:
                return at
        raise AssertionError("a weekly job ticks at least once a week")

    return tick


def every(period: timedelta) -> Callable[[datetime], datetime]:
    seconds = int(period.total_seconds())

    def tick(now: datetime) -> datetime:
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)

    return tick


def month_start(now: datetime) -> datetime:
    local = now.astimezone(MSK)
    return datetime.combine(local.date().replace(day=1), time(0), tzinfo=MSK)


async def recount_sessions_provided(
    session: AsyncSession, now: datetime, tick: datetime, settings: LifecycleSettings
) -> dict[str, Any]:
    """`number_of_clients_provided`: sessions held this month (started, not cancelled/missed)."""
    held = dict(
        (
            await session.execute(
                select(Booking.psychologist_id, func.count(Booking.id))
                .where(
                    Booking.start_at >= month_start(now),
                    Booking.start_at < now,
                    Booking.status.in_([*ACTIVE_BOOKING_STATUSES, BookingStatus.COMPLETED]),
                )
                .group_by(Booking.psychologist_id)
            )
        ).all()
    )
    psychologists = list((await session.execute(select(Psychologist))).scalars())
    changed = 0
    for psychologist in psychologists:
        count = int(held.get(psychologist.id, 0))
        if psychologist.sessions_provided != count:
            psychologist.sessions_provided = count
            psychologist.updated_at = now
            changed += 1
    return {"psychologists": len(psychologists), "changed": changed}


SLOT_REMINDER_FRESH = timedelta(hours=20)
"""An evening's reminder to update slots that could not go out by the next afternoon is dropped."""


async def remind_to_update_slots(
    session: AsyncSession, now: datetime, tick: datetime, settings: LifecycleSettings
) -> dict[str, Any]:
    query = select(Psychologist).where(Psychologist.is_active.is_(True))
    sent = 0
    for psychologist in (await session.execute(query)).scalars():
        link = f"{settings.public_url.rstrip('/')}/slots?secret={psychologist.editor_secret}"
        message = await outbox.enqueue(
            session,
            dedupe_key=f"job:remind_slots:{tick.isoformat()}:{psychologist.id}",
            recipient_kind=PSYCHOLOGIST,
            recipient_ref=str(psychologist.id),
            chat_id=psychologist.telegram_id,
            text=f"Добрый вечер! Пожалуйста, проверьте, что ваши свободные окна на ближайшие недели "
            f"актуальны: {link}",
            now=now,
            expires_at=tick + SLOT_REMINDER_FRESH,
        )
        sent += message is not None
    return {"reminded": sent}


async def close_past_bookings(
    session: AsyncSession, now: datetime, tick: datetime, settings: LifecycleSettings
) -> dict[str, Any]:
    """An hour after the end: confirmed sessions are completed, never-confirmed ones missed."""
    cutoff = now - timedelta(hours=1)
    completed = await session.execute(
        update(Booking)
        .where(Booking.end_at <= cutoff, Booking.status == BookingStatus.CONFIRMED)
        .values(status=BookingStatus.COMPLETED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    missed = await session.execute(
        update(Booking)
        .where(Booking.end_at <= cutoff, Booking.status == BookingStatus.PENDING)
        .values(status=BookingStatus.MISSED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return {"completed": completed.rowcount, "missed": missed.rowcount}  # type: ignore[attr-defined]


HELPFUL_HAND_STAGES = ((timedelta(days=7), "7d"), (timedelta(days=14), "14d"))


async def helpful_hand_followups(
    session: AsyncSession, now: datetime, tick: datetime, settings: LifecycleSettings
) -> dict[str, Any]:
    """Unclaimed Helpful Hand applications: ask the client at +7 and +14 days, tell the admin at +21."""
    query = select(Application).where(
        Application.kind == ApplicationKind.HELPFUL_HAND,
        Application.status == ApplicationStatus.AWAITING_PSYCHOLOGIST,
        Application.created_at <= now - timedelta(days=7),
    )
    asked = alerted = 0
    for application in (await session.execute(query)).scalars():
        age = now - application.created_at
        client = await session.get(Client, application.client_id) if application.client_id else None
        # Only the latest stage reached: a worker back after downtime asks once, not twice.
        reached = [label for threshold, label in HELPFUL_HAND_STAGES if age >= threshold]
        if reached:
            message = await outbox.enqueue(
                session,
                dedupe_key=f"helpful_hand:{application.id}:{reached[-1]}",
                recipient_kind=CLIENT,
                recipient_ref=str(client.id) if client else None,
                chat_id=client.telegram_id if client else None,
                text="Здравствуйте! Мы всё ещё подбираем психолога по вашей заявке в «Руку помощи». "
                "Заявка для вас актуальна? Если да — просто ответьте на это сообщение.",
                now=now,
            )
            asked += message is not None
        if age >= timedelta(days=21):
            message = await outbox.enqueue(
                session,
                dedupe_key=f"helpful_hand:{application.id}:21d",
                recipient_kind=ADMIN,
                chat_id=settings.admin_chat_id,
                text=f"Заявку «Руки помощи» {application.number} три недели никто не взял. "
                "Помогите найти психолога.",
                now=now,
            )
            alerted += message is not None
    return {"asked": asked, "alerted": alerted}


BOT_LINK_GRACE = timedelta(minutes=2)
BOT_LINK_HORIZON = timedelta(hours=1)


async def check_bot_link_opened(
    session: AsyncSession, now: datetime, tick: datetime, settings: LifecycleSettings
) -> dict[str, Any]:
    """An application whose client has not opened the bot 2 minutes later: tell the admin."""
    query = (
        select(Application)
        .outerjoin(Client, Client.id == Application.client_id)
        .where(
            Application.created_at <= now - BOT_LINK_GRACE,
            Application.created_at > now - BOT_LINK_HORIZON,
            Client.telegram_id.is_(None),
        )
    )
    alerted = 0
    for application in (await session.execute(query)).scalars():
        message = await outbox.enqueue(
            session,
            dedupe_key=f"bot_link:{application.id}",
            recipient_kind=ADMIN,
            chat_id=settings.admin_chat_id,
            text=f"Клиент по заявке {application.number} не перешёл в бота. "
            f"Контакт: {application.contact_type or '—'} {application.contact or '—'}",
            now=now,
        )
        alerted += message is not None
    return {"alerted": alerted}


JOBS: tuple[Job, ...] = (
    Job("recount_sessions_provided", daily_at(21), recount_sessions_provided),
    Job("remind_to_update_slots", weekly_at({2, 5}, 19), remind_to_update_slots),
    Job("close_past_bookings", every(timedelta(hours=1)), close_past_bookings),
    Job("helpful_hand_followups", daily_at(12), helpful_hand_followups),
    Job("check_bot_link_opened", every(timedelta(minutes=1)), check_bot_link_opened),
)
JOBS_BY_NAME = {job.name: job for job in JOBS}
