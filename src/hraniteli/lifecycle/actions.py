"""What each timeline event does when it comes due: messages through the outbox, and the
auto-cancel. Runs inside the worker's transaction, so an event and its messages commit together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import Insert, Table, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli import keyring
from hraniteli.bookings import service as bookings
from hraniteli.config import Settings
from hraniteli.kit.moscow import DAY_NAMES, MSK, BadTimeZone, zone, zone_from_label
from hraniteli.kit.proof import SEPARATOR, Purpose
from hraniteli.lifecycle.rules import EventKind, is_needed
from hraniteli.models import (
    ACTIVE_BOOKING_STATUSES,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Booking,
    BookingStatus,
    Client,
    OutboxMessage,
    Psychologist,
    Slot,
    SlotState,
    TimelineEvent,
    WorkState,
)
from hraniteli.notifications.service import ADMIN, CLIENT, PSYCHOLOGIST, Button, initial_state, message_parts
from hraniteli.psychologists import service as psychologists


@dataclass(frozen=True)
class LifecycleSettings:
    admin_chat_id: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    client_feedback_url: str = "https://psy.hrani.live/client-feedback-anketa"
    psychologist_feedback_url: str = "https://psy.hrani.live/psychologist-feedback-anketa"
    preparation_tips_url: str = "https://hrani.live/prepare"
    secret_key: str | None = None
    """Signs the proofs in the feedback links (None: the key stored in the database)."""
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
            secret_key=settings.secret_key.get_secret_value() if settings.secret_key else None,
            min_answer_window=timedelta(hours=settings.ladder_min_answer_hours),
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


async def load_parties(session: AsyncSession, booking_ids: list[uuid.UUID]) -> dict[uuid.UUID, Party]:
    """The bookings of a batch with their psychologist, client and application: four queries."""
    if not booking_ids:
        return {}
    found = list((await session.execute(select(Booking).where(Booking.id.in_(booking_ids)))).scalars())
    psychologist_ids = {b.psychologist_id for b in found}
    client_ids = {b.client_id for b in found if b.client_id}
    numbers = {b.application_ref for b in found if b.application_ref}
    psychologists = {
        p.id: p
        for p in (
            await session.execute(select(Psychologist).where(Psychologist.id.in_(psychologist_ids)))
        ).scalars()
    }
    clients = (
        {c.id: c for c in (await session.execute(select(Client).where(Client.id.in_(client_ids)))).scalars()}
        if client_ids
        else {}
    )
    applications = (
        {
            a.number: a
            for a in (
                await session.execute(select(Application).where(Application.number.in_(numbers)))
            ).scalars()
        }
        if numbers
        else {}
    )
    return {
        b.id: Party(
            b,
            psychologists[b.psychologist_id],
            clients.get(b.client_id) if b.client_id else None,
            applications.get(b.application_ref) if b.application_ref else None,
        )
        for b in found
    }


async def first_requests_sent(
    session: AsyncSession, booking_ids: list[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """When each booking's first confirmation request went out (absent: not yet)."""
    if not booking_ids:
        return {}
    query = select(TimelineEvent.booking_id, TimelineEvent.done_at).where(
        TimelineEvent.booking_id.in_(booking_ids),
        TimelineEvent.kind == EventKind.CONFIRM_REQUEST,
        TimelineEvent.state == WorkState.DONE,
    )
    return {row[0]: row[1] for row in (await session.execute(query)).all() if row[1] is not None}


def _client_chat(party: Party) -> str | None:
    return party.client.telegram_id if party.client else None


def _key(event: TimelineEvent, who: str) -> str:
    return f"booking:{event.booking_id}:{event.kind}:{who}"


@dataclass(frozen=True)
class Outgoing:
    """A message an event wants sent; the worker writes a batch's messages in one statement."""

    dedupe_key: str
    recipient_kind: str
    recipient_ref: str | None
    chat_id: str | None
    text: str
    buttons: list[list[Button]] | None = None
    expires_at: datetime | None = None


@dataclass
class Outcome:
    did: bool
    result: str
    messages: list[Outgoing] = field(default_factory=list)


def _to_client(
    out: list[Outgoing],
    party: Party,
    event: TimelineEvent,
    text: str,
    now: datetime,
    buttons: list[list[Button]] | None = None,
) -> None:
    out.append(
        Outgoing(
            _key(event, CLIENT),
            CLIENT,
            str(party.client.id) if party.client else None,
            _client_chat(party),
            text,
            buttons,
        )
    )


def _to_psychologist(
    out: list[Outgoing], party: Party, event: TimelineEvent, text: str, now: datetime
) -> None:
    out.append(
        Outgoing(
            _key(event, PSYCHOLOGIST),
            PSYCHOLOGIST,
            str(party.psychologist.id),
            party.psychologist.telegram_id,
            text,
        )
    )


def _to_admin(
    out: list[Outgoing], settings: LifecycleSettings, event: TimelineEvent, text: str, now: datetime
) -> None:
    out.append(Outgoing(_key(event, ADMIN), ADMIN, None, settings.admin_chat_id, text))


def confirmation_buttons(booking: Booking) -> list[list[Button]]:
    return [
        [Button("Спасибо, я приду", data=f"confirm:{booking.id}")],
        [
            Button("Перенести", data=f"reschedule:{booking.id}"),
            Button("Отменить", data=f"cancel:{booking.id}"),
        ],
    ]


FEEDBACK_FRESH = timedelta(days=3)
"""How long after the session a feedback request is still worth sending."""
OFFER_FRESH = timedelta(days=1)
"""How long an offer of free slots is worth sending (the slots it lists fill up)."""


def stale_at(kind: EventKind, booking: Booking, now: datetime) -> datetime:
    """When an event's messages stop being worth sending, should they wait that long (no bot
    token, no chat yet, the sender down): a confirmation request, an alert about it or a
    cancellation notice once the session has begun; a reminder once it has ended."""
    if kind == EventKind.REMINDER:
        return booking.end_at
    if kind == EventKind.FEEDBACK:
        return booking.end_at + FEEDBACK_FRESH
    if kind in (EventKind.OFFER_AFTER_5_DAYS, EventKind.OFFER_AFTER_3_WEEKS):
        return now + OFFER_FRESH
    return booking.start_at


async def run_event(
    session: AsyncSession,
    *,
    event: TimelineEvent,
    now: datetime,
    settings: LifecycleSettings,
    party: Party | None,
    asked_at: datetime | None,
) -> Outcome:
    """What the event does: the messages to send (written by the caller), each with the moment
    it goes stale, and for the auto-cancel the cancellation itself. `asked_at`: when the first
    confirmation request went out."""
    outcome = await _run_event(
        session, event=event, now=now, settings=settings, party=party, asked_at=asked_at
    )
    if outcome.messages and party is not None:
        expires_at = stale_at(EventKind(event.kind), party.booking, now)
        outcome.messages = [replace(message, expires_at=expires_at) for message in outcome.messages]
    return outcome


async def _run_event(
    session: AsyncSession,
    *,
    event: TimelineEvent,
    now: datetime,
    settings: LifecycleSettings,
    party: Party | None,
    asked_at: datetime | None,
) -> Outcome:
    out: list[Outgoing] = []
    if party is None:
        return Outcome(False, "бронь удалена")
    booking = party.booking
    kind = EventKind(event.kind)
    if not is_needed(
        kind,
        is_confirmed=booking.is_confirmed,
        is_active=booking.status in ACTIVE_BOOKING_STATUSES,
        is_past=booking.end_at <= now
        and booking.status not in (BookingStatus.CANCELLED, BookingStatus.MISSED),
    ):
        return Outcome(False, "уже не нужно")
    name = party.application.client_name if party.application and party.application.client_name else ""
    hello = f"Здравствуйте{', ' + name if name else ''}!"
    client_time = when(booking.start_at, party.client_zone())
    psy_time = when(booking.start_at, party.psychologist_zone())
    psychologist = party.psychologist.name

    if kind == EventKind.CONFIRM_REPEAT and asked_at is not None and now - asked_at < REPEAT_GAP:
        return Outcome(False, "первый запрос ушёл только что (работник опоздал): повтор не нужен", out)
    if kind == EventKind.AUTO_CANCEL and (asked_at is None or now - asked_at < settings.min_answer_window):
        _to_admin(
            out,
            settings,
            event,
            f"Клиент не успел ответить на запрос подтверждения (заявка {party.number}, психолог "
            f"{psychologist}, {when(booking.start_at, MSK)}): сессию не отменяем, свяжитесь с клиентом.",
            now,
        )
        return Outcome(False, "клиент не успел ответить: не отменяем", out)

    if kind in (EventKind.CONFIRM_REQUEST, EventKind.CONFIRM_REPEAT):
        again = "Ещё раз напоминаем" if kind == EventKind.CONFIRM_REPEAT else "Напоминаем"
        text = (
            f"{hello} {again}: у вас сессия с психологом {psychologist} — {client_time}.\n"
            "Пожалуйста, подтвердите, что придёте. "
            "Если планы изменились, сессию можно перенести или отменить."
        )
        _to_client(out, party, event, text, now, confirmation_buttons(booking))
        return Outcome(True, "запрос подтверждения отправлен", out)

    if kind == EventKind.ALERT_UNCONFIRMED:
        text = (
            f"Клиент не подтвердил сессию: заявка {party.number}, психолог {psychologist}, "
            f"{when(booking.start_at, MSK)}. Свяжитесь с клиентом."
        )
        _to_admin(out, settings, event, text, now)
        return Outcome(True, "администратор предупреждён", out)

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
        _to_client(
            out,
            party,
            event,
            f"{hello} Мы не получили подтверждения, поэтому сессия {client_time} отменена, а время "
            "освобождено. Если вы хотите записаться снова — напишите нам, мы поможем подобрать время.",
            now,
        )
        _to_psychologist(
            out,
            party,
            event,
            f"Сессия {psy_time} отменена: клиент не подтвердил участие. Слот снова свободен.",
            now,
        )
        _to_admin(
            out,
            settings,
            event,
            f"Автоотмена: заявка {party.number}, психолог {psychologist}, {when(booking.start_at, MSK)}.",
            now,
        )
        return Outcome(True, "сессия отменена, слот освобождён", out)

    if kind == EventKind.REMINDER:
        link = booking.meeting_link or "ссылку пришлём отдельно"
        _to_client(
            out,
            party,
            event,
            f"{hello} Скоро ваша сессия с психологом {psychologist} — {client_time}.\n"
            f"Ссылка на встречу: {link}\nКак подготовиться: {settings.preparation_tips_url}",
            now,
        )
        _to_psychologist(
            out,
            party,
            event,
            f"Напоминание: сессия {psy_time}, заявка {party.number}.\nСсылка на встречу: {link}",
            now,
        )
        return Outcome(True, "напоминания отправлены", out)

    if kind == EventKind.FEEDBACK:
        # Each form posts back the parameters of its link unchanged: the proof rides in one of
        # them, so only the person the link was sent to can answer (docs/decisions.md, Access).
        proofs = await keyring.proofs(session, settings.secret_key)
        session_date = booking.start_at.astimezone(MSK)
        client_query = urlencode(
            {
                "utm_client": proofs.attach(Purpose.CLIENT, party.number),
                "psychologist_name": psychologist,
                "session_date": session_date.strftime("%d.%m.%Y %H:%M"),
            }
        )
        psychologist_query = urlencode(
            {
                "psychologist_name": psychologist,
                "feedback_date": f"{session_date:%d.%m.%Y}{SEPARATOR}"
                + psychologists.proof_of(proofs, party.psychologist),
            }
        )
        _to_client(
            out,
            party,
            event,
            f"{hello} Как прошла сессия с психологом {psychologist}? Нам очень важен ваш отзыв: "
            f"{settings.client_feedback_url}?{client_query}",
            now,
        )
        _to_psychologist(
            out,
            party,
            event,
            "Пожалуйста, заполните короткую анкету о сессии: "
            f"{settings.psychologist_feedback_url}?{psychologist_query}",
            now,
        )
        return Outcome(True, "запросы отзывов отправлены", out)

    # the two offers of another session
    free = await _next_free_slots(session, party.psychologist.id, now, settings.offer_slots)
    if not free:
        return Outcome(False, "у психолога нет свободных окон", out)
    times = "\n".join(f"• {when(start, party.client_zone())}" for start in free)
    _to_client(
        out,
        party,
        event,
        f"{hello} Хотите продолжить работу с психологом {psychologist}? Ближайшие свободные окна:\n{times}",
        now,
        [[Button("Записаться", data=f"rebook:{booking.id}")]],
    )
    return Outcome(True, "предложено записаться снова", out)


REPEAT_GAP = timedelta(hours=1)


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


SIDE_EFFECT_KINDS = frozenset({EventKind.AUTO_CANCEL})
"""Events that change bookings; the worker runs them in their own savepoint."""


_OUTBOX = cast(Table, OutboxMessage.__table__)


def _outbox_insert(dialect: str) -> Insert:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(_OUTBOX).on_conflict_do_nothing(index_elements=["dedupe_key"])


async def write_messages(session: AsyncSession, messages: list[Outgoing], now: datetime) -> None:
    """A batch's messages; a dedupe key already there is skipped. One executemany of a
    statement compiled once: a multi-row VALUES of 200 messages would be a new statement of
    2,200 bind parameters, compiled afresh for every batch (~60 % of a sweep)."""
    if not messages:
        return
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "dedupe_key": part.dedupe_key,
            "recipient_kind": m.recipient_kind,
            "recipient_ref": m.recipient_ref,
            "chat_id": m.chat_id,
            "text": part.text,
            "buttons": part.buttons,
            "state": initial_state(m.chat_id),
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": part.created_at,
            "expires_at": m.expires_at,
        }
        for m in messages
        for part in message_parts(m.dedupe_key, m.text, m.buttons, now)
    ]
    await session.execute(_outbox_insert(session.get_bind().dialect.name), rows)
