"""Sessions seen from a ticket: confirm, reschedule, rate, feedback forms, history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.bookings import service as bookings
from hraniteli.errors import Conflict, InvalidInput, NotFound
from hraniteli.kit.moscow import MSK, BadTimeZone, zone_from_label
from hraniteli.kit.slotstrings import BadSlotString, parse_slot_string
from hraniteli.lifecycle import timeline
from hraniteli.lifecycle.rules import LadderPolicy
from hraniteli.models import (
    ACTIVE_BOOKING_STATUSES,
    Application,
    Booking,
    Client,
    Psychologist,
    SessionFeedback,
    Slot,
    TimelineEvent,
)


async def bookings_for_ticket(
    session: AsyncSession, number: str, *, active_only: bool = True
) -> list[Booking]:
    cleaned = (number or "").strip()
    if not cleaned:
        raise InvalidInput("`ticket_id` is required", details=[{"field": "ticket_id"}])
    query = select(Booking).where(Booking.application_ref == cleaned).order_by(Booking.start_at.desc())
    if active_only:
        query = query.where(Booking.status.in_(ACTIVE_BOOKING_STATUSES))
    return list((await session.execute(query)).scalars())


async def active_booking(session: AsyncSession, number: str) -> Booking:
    found = await bookings_for_ticket(session, number)
    if not found:
        raise NotFound("no active session for this ticket")
    return found[0]


async def confirm(session: AsyncSession, *, number: str, now: datetime, slot_time: str = "") -> Booking:
    """Confirm the ticket's session at `slot_time` ("DD.MM HH:mm", MSK) or, without one, its next
    session: the one the confirmation request was about, not a later one of the same ticket."""
    found = await bookings_for_ticket(session, number)
    if not found:
        raise NotFound("no active session for this ticket")
    if slot_time.strip():
        try:
            start_at = parse_slot_string(slot_time, now=now)
        except BadSlotString as exc:
            raise InvalidInput(str(exc), details=[{"field": "slot_time"}]) from exc
        found = [booking for booking in found if booking.start_at == start_at]
        if not found:
            raise NotFound("this ticket has no active session at this time")
    ahead = [booking for booking in found if booking.start_at > now]
    booking = min(ahead, key=lambda b: b.start_at) if ahead else found[0]
    return await bookings.confirm_booking(session, booking=booking, now=now)


async def reschedule(
    session: AsyncSession,
    *,
    number: str,
    new_time: str,
    now: datetime,
    time_zone_label: str | None = None,
    ladder: LadderPolicy | None = None,
) -> Booking:
    """Move the session to the same psychologist's free slot at `new_time` ("DD.MM HH:mm", MSK).
    The new time is booked first, so a failure leaves the old session untouched."""
    old = await active_booking(session, number)
    try:
        start_at = parse_slot_string(new_time, now=now, tz=zone_from_label(time_zone_label))
    except (BadSlotString, BadTimeZone) as exc:
        raise InvalidInput(str(exc), details=[{"field": "new_slot_time"}]) from exc
    query = select(Slot).where(Slot.psychologist_id == old.psychologist_id, Slot.start_at == start_at)
    slot = (await session.execute(query)).scalar_one_or_none()
    if slot is None:
        raise NotFound("the psychologist has no slot at this time")
    if slot.id == old.slot_id:
        raise Conflict("the session is already at this time")
    new = await bookings.book_slot(
        session,
        request=bookings.BookingRequest(
            slot_id=slot.id,
            client_id=old.client_id,
            application_ref=old.application_ref,
            is_helpful_hand=old.is_helpful_hand,
            is_auto_assigned=old.is_auto_assigned,
            ladder=ladder,
        ),
        now=now,
    )
    await bookings.cancel_booking(
        session, booking=old, now=now, reason=f"перенесена на {start_at.astimezone(MSK):%d.%m %H:%M} МСК"
    )
    application = (
        await session.execute(select(Application).where(Application.number == old.application_ref))
    ).scalar_one_or_none()
    if application is not None and application.booking_id == old.id:
        application.booking_id = new.id
        application.updated_at = now
    return new


async def ensure_timeline(
    session: AsyncSession, *, booking: Booking, now: datetime, policy: LadderPolicy | None = None
) -> list[TimelineEvent]:
    """The booking's timeline, planned now if it has none (legacy `plan-events`)."""
    existing = await timeline.list_timeline(session, booking_id=booking.id)
    if existing:
        return existing
    await timeline.plan_booking(session, booking=booking, now=now, policy=policy)
    return await timeline.list_timeline(session, booking_id=booking.id)


@dataclass(frozen=True)
class FeedbackIn:
    author: str
    number: str | None
    psychologist_name: str | None
    rating: int | None
    text: str | None
    answers: dict[str, Any]


def _rating(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        rating = int(str(value).strip())
    except ValueError as exc:
        raise InvalidInput("rating must be a number from 1 to 5", details=[{"field": "rating"}]) from exc
    if not 1 <= rating <= 5:
        raise InvalidInput("rating must be a number from 1 to 5", details=[{"field": "rating"}])
    return rating


async def record_feedback(session: AsyncSession, *, feedback: FeedbackIn, now: datetime) -> SessionFeedback:
    """Store a feedback form; linked to the ticket's latest session and the psychologist when known."""
    booking = None
    if feedback.number:
        found = await bookings_for_ticket(session, feedback.number, active_only=False)
        if not found:
            raise NotFound("no session was booked for this application")
        booking = found[0]
    psychologist_id = booking.psychologist_id if booking else None
    if psychologist_id is None and feedback.psychologist_name:
        name = " ".join(feedback.psychologist_name.split())
        psychologist = (
            await session.execute(select(Psychologist).where(Psychologist.name == name))
        ).scalar_one_or_none()
        psychologist_id = psychologist.id if psychologist else None
    row = SessionFeedback(
        id=uuid.uuid4(),
        author=feedback.author,
        booking_id=booking.id if booking else None,
        application_number=feedback.number,
        psychologist_id=psychologist_id,
        rating=_rating(feedback.rating),
        text=(feedback.text or None) and feedback.text[:10_000],
        answers=feedback.answers,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True)
class PastSession:
    number: str | None
    psychologist: str
    start_at: datetime
    status: str
    rating: int | None
    feedback: str | None


async def history_for_telegram(session: AsyncSession, *, telegram: str) -> list[PastSession]:
    """A client's sessions, found by Telegram id or @username."""
    handle = telegram.strip()
    if not handle:
        raise InvalidInput("`client_telegram` is required", details=[{"field": "client_telegram"}])
    variants = {handle, handle.lstrip("@"), "@" + handle.lstrip("@")}
    clients = select(Client.id).where(
        or_(
            Client.telegram_id.in_(variants),
            Client.telegram_username.in_(variants),
            Client.contact.in_(variants),
        )
    )
    query = (
        select(Booking, Psychologist.name)
        .join(Psychologist, Psychologist.id == Booking.psychologist_id)
        .where(Booking.client_id.in_(clients))
        .order_by(Booking.start_at.desc())
    )
    result = []
    for booking, name in (await session.execute(query)).all():
        rated = (
            await session.execute(
                select(SessionFeedback)
                .where(SessionFeedback.booking_id == booking.id, SessionFeedback.author == "client")
                .order_by(SessionFeedback.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        result.append(
            PastSession(
                booking.application_ref,
                name,
                booking.start_at,
                booking.status,
                rated.rating if rated else None,
                rated.text if rated else None,
            )
        )
    return result


async def client_chat(session: AsyncSession, booking: Booking) -> str | None:
    client = await session.get(Client, booking.client_id) if booking.client_id else None
    return client.telegram_id if client else None


async def booking_of_chat(session: AsyncSession, *, booking_id: uuid.UUID, chat_id: str) -> Booking:
    """The booking, if it belongs to the client of this Telegram chat (a button they pressed)."""
    booking = await session.get(Booking, booking_id)
    client = await session.get(Client, booking.client_id) if booking and booking.client_id else None
    if booking is None or client is None or client.telegram_id != chat_id:
        raise NotFound("this session is not yours or no longer exists")
    return booking


async def confirm_from_chat(
    session: AsyncSession, *, booking_id: uuid.UUID, chat_id: str, now: datetime
) -> Booking:
    booking = await booking_of_chat(session, booking_id=booking_id, chat_id=chat_id)
    return await bookings.confirm_booking(session, booking=booking, now=now)


async def cancel_from_chat(
    session: AsyncSession, *, booking_id: uuid.UUID, chat_id: str, now: datetime
) -> Booking:
    booking = await booking_of_chat(session, booking_id=booking_id, chat_id=chat_id)
    return await bookings.cancel_booking(session, booking=booking, now=now, reason="клиент отменил в боте")
