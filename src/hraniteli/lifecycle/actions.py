"""What each timeline event does when it comes due: messages through the outbox, and the
auto-cancel. Runs inside the worker's transaction, so an event and its messages commit together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.bookings import service as bookings
from hraniteli.config import Settings
from hraniteli.kit.moscow import DAY_NAMES, MSK, BadTimeZone, zone, zone_from_label
from hraniteli.lifecycle.rules import EventKind, is_needed
from hraniteli.models import (
    ACTIVE_BOOKING_STATUSES,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Booking,
    BookingStatus,
    Client,
    Psychologist,
    Slot,
    SlotState,
    TimelineEvent,
    WorkState,
)
from hraniteli.notifications import service as outbox
from hraniteli.notifications.service import ADMIN, CLIENT, PSYCHOLOGIST, Button


@dataclass(frozen=True)
class LifecycleSettings:
    admin_chat_id: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    client_feedback_url: str = "https://psy.hrani.live/client-feedback-anketa"
    psychologist_feedback_url: str = "https://psy.hrani.live/psychologist-feedback-anketa"
    preparation_tips_url: str = "https://hrani.live/prepare"
    offer_slots: int = 5
    min_answer_window: timedelta = timedelta(hours=3)
    """An auto-cancel needs the first request to have gone out at least this long ago."""

    @classmethod
    def from_settings(cls, settings: Settings) -> LifecycleSettings:
        return cls(
            admin_chat_id=settings.telegram_admin_chat_id,
            public_url=settings.public_url,
            client_feedback_url=settings.client_feedback_url,
            psychologist_feedback_url=settings.psychologist_feedback_url,
            preparation_tips_url=settings.preparation_tips_url,
        )


@dataclass
class Party:
    booking: Booking
    psychologist: Psychologist
    client: Client | None
    application: Application | None

    @property
    def number(self) -> str:
        return self.application.number if self.application else (self.booking.application_ref or "—")

    def client_zone(self) -> tzinfo:
        label = self.application.time_zone_label if self.application else None
        try:
            return zone_from_label(label)
        except BadTimeZone:
            return MSK

    def psychologist_zone(self) -> tzinfo:
        try:
            return zone(self.psychologist.time_zone)
        except BadTimeZone:
            return MSK


def when(instant: datetime, tz: tzinfo) -> str:
    local = instant.astimezone(tz)
    label = "МСК" if tz is MSK else local.strftime("UTC%z")[:-2]
    return f"{DAY_NAMES[local.weekday()]}, {local:%d.%m} в {local:%H:%M} ({label})"


async def load_party(session: AsyncSession, booking_id: object) -> Party | None:
    booking = await session.get(Booking, booking_id)
    if booking is None:
        return None
    psychologist = await session.get(Psychologist, booking.psychologist_id)
    assert psychologist is not None
    client = await session.get(Client, booking.client_id) if booking.client_id else None
    application = None
    if booking.application_ref:
        query = select(Application).where(Application.number == booking.application_ref)
        application = (await session.execute(query)).scalar_one_or_none()
    return Party(booking, psychologist, client, application)


def _client_chat(party: Party) -> str | None:
    return party.client.telegram_id if party.client else None


def _key(event: TimelineEvent, who: str) -> str:
    return f"booking:{event.booking_id}:{event.kind}:{who}"


async def _to_client(
    session: AsyncSession,
    party: Party,
    event: TimelineEvent,
    text: str,
    now: datetime,
    buttons: list[list[Button]] | None = None,
) -> None:
    await outbox.enqueue(
        session,
        dedupe_key=_key(event, CLIENT),
        recipient_kind=CLIENT,
        recipient_ref=str(party.client.id) if party.client else None,
        chat_id=_client_chat(party),
        text=text,
        buttons=buttons,
        now=now,
    )


async def _to_psychologist(
    session: AsyncSession, party: Party, event: TimelineEvent, text: str, now: datetime
) -> None:
    await outbox.enqueue(
        session,
        dedupe_key=_key(event, PSYCHOLOGIST),
        recipient_kind=PSYCHOLOGIST,
        recipient_ref=str(party.psychologist.id),
        chat_id=party.psychologist.telegram_id,
        text=text,
        now=now,
    )


async def _to_admin(
    session: AsyncSession, settings: LifecycleSettings, event: TimelineEvent, text: str, now: datetime
) -> None:
    await outbox.enqueue(
        session,
        dedupe_key=_key(event, ADMIN),
        recipient_kind=ADMIN,
        chat_id=settings.admin_chat_id,
        text=text,
        now=now,
    )


def confirmation_buttons(booking: Booking) -> list[list[Button]]:
    return [
        [Button("Спасибо, я приду", data=f"confirm:{booking.id}")],
        [
            Button("Перенести", data=f"reschedule:{booking.id}"),
            Button("Отменить", data=f"cancel:{booking.id}"),
        ],
    ]


async def run_event(
    session: AsyncSession, *, event: TimelineEvent, now: datetime, settings: LifecycleSettings
) -> tuple[bool, str]:
    """Do what the event says; returns (did something, a short result for the timeline)."""
    party = await load_party(session, event.booking_id)
    if party is None:
        return False, "бронь удалена"
    booking = party.booking
    kind = EventKind(event.kind)
    if not is_needed(
        kind,
        is_confirmed=booking.is_confirmed,
        is_active=booking.status in ACTIVE_BOOKING_STATUSES,
        is_past=booking.end_at <= now
        and booking.status not in (BookingStatus.CANCELLED, BookingStatus.MISSED),
    ):
        return False, "уже не нужно"
    name = party.application.client_name if party.application and party.application.client_name else ""
    hello = f"Здравствуйте{', ' + name if name else ''}!"
    client_time = when(booking.start_at, party.client_zone())
    psy_time = when(booking.start_at, party.psychologist_zone())
    psychologist = party.psychologist.name

    asked_at = await _first_request_sent_at(session, booking)
    if kind == EventKind.CONFIRM_REPEAT and asked_at is not None and now - asked_at < REPEAT_GAP:
        return False, "первый запрос ушёл только что (работник опоздал): повтор не нужен"
    if kind == EventKind.AUTO_CANCEL and (asked_at is None or now - asked_at < settings.min_answer_window):
        await _to_admin(
            session,
            settings,
            event,
            f"Клиент не успел ответить на запрос подтверждения (заявка {party.number}, психолог "
            f"{psychologist}, {when(booking.start_at, MSK)}): сессию не отменяем, свяжитесь с клиентом.",
            now,
        )
        return False, "клиент не успел ответить: не отменяем"

    if kind in (EventKind.CONFIRM_REQUEST, EventKind.CONFIRM_REPEAT):
        again = "Ещё раз напоминаем" if kind == EventKind.CONFIRM_REPEAT else "Напоминаем"
        text = (
            f"{hello} {again}: у вас сессия с психологом {psychologist} — {client_time}.\n"
            "Пожалуйста, подтвердите, что придёте. "
            "Если планы изменились, сессию можно перенести или отменить."
        )
        await _to_client(session, party, event, text, now, confirmation_buttons(booking))
        return True, "запрос подтверждения отправлен"

    if kind == EventKind.ALERT_UNCONFIRMED:
        text = (
            f"Клиент не подтвердил сессию: заявка {party.number}, психолог {psychologist}, "
            f"{when(booking.start_at, MSK)}. Свяжитесь с клиентом."
        )
        await _to_admin(session, settings, event, text, now)
        return True, "администратор предупреждён"

    if kind == EventKind.AUTO_CANCEL:
        await bookings.cancel_booking(
            session, booking=booking, now=now, reason="не подтверждена за 18 часов до начала", is_auto=True
        )
        if party.application is not None:
            session.add(
                ApplicationEvent(
                    application_id=party.application.id,
                    at=now,
                    status=ApplicationStatus.CANCELLED,
                    note="сессия отменена автоматически: клиент не подтвердил",
                )
            )
            party.application.status = ApplicationStatus.CANCELLED
            party.application.updated_at = now
        await _to_client(
            session,
            party,
            event,
            f"{hello} Мы не получили подтверждения, поэтому сессия {client_time} отменена, а время "
            "освобождено. Если вы хотите записаться снова — напишите нам, мы поможем подобрать время.",
            now,
        )
        await _to_psychologist(
            session,
            party,
            event,
            f"Сессия {psy_time} отменена: клиент не подтвердил участие. Слот снова свободен.",
            now,
        )
        await _to_admin(
            session,
            settings,
            event,
            f"Автоотмена: заявка {party.number}, психолог {psychologist}, {when(booking.start_at, MSK)}.",
            now,
        )
        return True, "сессия отменена, слот освобождён"

    if kind == EventKind.REMINDER:
        link = booking.meeting_link or "ссылку пришлём отдельно"
        await _to_client(
            session,
            party,
            event,
            f"{hello} Скоро ваша сессия с психологом {psychologist} — {client_time}.\n"
            f"Ссылка на встречу: {link}\nКак подготовиться: {settings.preparation_tips_url}",
            now,
        )
        await _to_psychologist(
            session,
            party,
            event,
            f"Напоминание: сессия {psy_time}, заявка {party.number}.\nСсылка на встречу: {link}",
            now,
        )
        return True, "напоминания отправлены"

    if kind == EventKind.FEEDBACK:
        query = urlencode(
            {
                "telegram_id": _client_chat(party) or "",
                "utm_client": party.number,
                "psychologist_name": psychologist,
                "telegram_id_psychologist": party.psychologist.telegram_id or "",
                "session_date": booking.start_at.astimezone(MSK).strftime("%d.%m.%Y %H:%M"),
            }
        )
        await _to_client(
            session,
            party,
            event,
            f"{hello} Как прошла сессия с психологом {psychologist}? Нам очень важен ваш отзыв: "
            f"{settings.client_feedback_url}?{query}",
            now,
        )
        await _to_psychologist(
            session,
            party,
            event,
            "Пожалуйста, заполните короткую анкету о сессии: "
            f"{settings.psychologist_feedback_url}?{urlencode({'psychologist_name': psychologist})}",
            now,
        )
        return True, "запросы отзывов отправлены"

    # the two offers of another session
    free = await _next_free_slots(session, party.psychologist.id, now, settings.offer_slots)
    if not free:
        return False, "у психолога нет свободных окон"
    times = "\n".join(f"• {when(start, party.client_zone())}" for start in free)
    await _to_client(
        session,
        party,
        event,
        f"{hello} Хотите продолжить работу с психологом {psychologist}? Ближайшие свободные окна:\n{times}",
        now,
        [[Button("Записаться", data=f"rebook:{booking.id}")]],
    )
    return True, "предложено записаться снова"


REPEAT_GAP = timedelta(hours=1)


async def _first_request_sent_at(session: AsyncSession, booking: Booking) -> datetime | None:
    query = select(TimelineEvent.done_at).where(
        TimelineEvent.booking_id == booking.id,
        TimelineEvent.kind == EventKind.CONFIRM_REQUEST,
        TimelineEvent.state == WorkState.DONE,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _next_free_slots(
    session: AsyncSession, psychologist_id: object, now: datetime, limit: int
) -> list[datetime]:
    query = (
        select(Slot.start_at)
        .where(
            Slot.psychologist_id == psychologist_id,
            Slot.state == SlotState.FREE,
            Slot.start_at > now + timedelta(hours=24),
        )
        .order_by(Slot.start_at)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())
