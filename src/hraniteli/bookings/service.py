"""Booking a slot without double booking, and cancelling a booking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.errors import Conflict, InvalidInput, NotFound
from hraniteli.lifecycle import timeline
from hraniteli.lifecycle.rules import LadderPolicy
from hraniteli.models import ACTIVE_BOOKING_STATUSES, Booking, BookingStatus, Client, Slot, SlotState
from hraniteli.schedule.repository import bump_schedule_revision

TAKEN = "this time has just been booked by someone else; please choose another slot"


@dataclass(frozen=True)
class BookingRequest:
    slot_id: uuid.UUID
    client_id: uuid.UUID | None = None
    application_ref: str | None = None
    idempotency_key: str | None = None
    is_auto_assigned: bool = False
    is_helpful_hand: bool = False
    is_confirmed: bool = False
    meeting_link: str | None = None
    meeting_id: str | None = None
    calendar_meeting_id: str | None = None
    ladder: LadderPolicy | None = None
    """The session ladder to plan (settings); None: the defaults."""


async def get_booking(session: AsyncSession, booking_id: uuid.UUID) -> Booking:
    booking = await session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("no such booking")
    return booking


async def active_booking_for_slot(session: AsyncSession, slot_id: uuid.UUID) -> Booking | None:
    query = select(Booking).where(Booking.slot_id == slot_id, Booking.status.in_(ACTIVE_BOOKING_STATUSES))
    return (await session.execute(query)).scalar_one_or_none()


async def active_bookings_for_ref(session: AsyncSession, application_ref: str) -> list[Booking]:
    query = (
        select(Booking)
        .where(Booking.application_ref == application_ref, Booking.status.in_(ACTIVE_BOOKING_STATUSES))
        .order_by(Booking.start_at)
    )
    return list((await session.execute(query)).scalars())


async def _booking_for_key(session: AsyncSession, request: BookingRequest) -> Booking | None:
    """The booking an earlier request with this idempotency key made, if any."""
    if not request.idempotency_key:
        return None
    query = select(Booking).where(Booking.idempotency_key == request.idempotency_key)
    earlier = (await session.execute(query)).scalar_one_or_none()
    if earlier is not None and earlier.slot_id != request.slot_id:
        raise Conflict("this idempotency key was already used for another slot")
    return earlier


async def book_slot(
    session: AsyncSession,
    *,
    request: BookingRequest,
    now: datetime,
    min_lead: timedelta = timedelta(0),
) -> Booking:
    """Take a free slot atomically: compare-and-set on the slot, then the booking row.

    The database backs this up: one active booking per slot (partial unique index) and, on
    PostgreSQL, no two active bookings of one psychologist overlapping (exclusion constraint).
    A request repeated with the same idempotency key returns the first booking.
    """
    earlier = await _booking_for_key(session, request)
    if earlier is not None:
        return earlier
    if request.client_id is not None and await session.get(Client, request.client_id) is None:
        raise NotFound("no such client", details=[{"field": "client_id"}])
    taken = await session.execute(
        update(Slot)
        .where(Slot.id == request.slot_id, Slot.state == SlotState.FREE, Slot.start_at > now + min_lead)
        .values(state=SlotState.BOOKED, updated_at=now)
        .returning(Slot.psychologist_id, Slot.start_at, Slot.duration_minutes)
    )
    row = taken.first()
    if row is None:
        # A retry racing its own original waited for it on the slot's row lock (PostgreSQL):
        # the original has committed by now, and the retry must get its booking, not a 409.
        earlier = await _booking_for_key(session, request)
        if earlier is not None:
            return earlier
        slot = await session.get(Slot, request.slot_id)
        if slot is None:
            raise NotFound("no such slot")
        if slot.state != SlotState.FREE:
            raise Conflict(TAKEN)
        if slot.start_at <= now:
            raise InvalidInput("the slot is in the past")
        raise InvalidInput("the slot starts too soon to be booked")
    psychologist_id, start_at, duration = row
    # Lock order: the slot (above), then the psychologist's row, then the booking. The revision
    # bump locks the row, so one psychologist's bookings insert their rows one at a time: two
    # inserts of overlapping bookings would otherwise each wait for the other's uncommitted row
    # under the exclusion constraint, a deadlock. Behind the lock the later one sees the earlier
    # one committed and gets a Conflict (docs/decisions.md, "Lock order").
    await bump_schedule_revision(session, psychologist_id)
    booking = Booking(
        id=uuid.uuid4(),
        slot_id=request.slot_id,
        psychologist_id=psychologist_id,
        client_id=request.client_id,
        application_ref=request.application_ref,
        start_at=start_at,
        end_at=start_at + timedelta(minutes=duration),
        status=BookingStatus.CONFIRMED if request.is_confirmed else BookingStatus.PENDING,
        is_confirmed=request.is_confirmed,
        is_auto_assigned=request.is_auto_assigned,
        is_auto_canceled=False,
        is_helpful_hand=request.is_helpful_hand,
        meeting_link=request.meeting_link,
        meeting_id=request.meeting_id,
        calendar_meeting_id=request.calendar_meeting_id,
        idempotency_key=request.idempotency_key,
        created_at=now,
        updated_at=now,
        confirmed_at=now if request.is_confirmed else None,
    )
    session.add(booking)
    try:
        await session.flush()
    except IntegrityError as exc:
        # The unique index or the exclusion constraint caught a race the CAS could not see
        # (an overlapping slot of the same psychologist). The unit of work rolls back.
        raise Conflict("the psychologist already has a session at this time") from exc
    await timeline.plan_booking(session, booking=booking, now=now, policy=request.ladder)
    return booking


async def confirm_booking(session: AsyncSession, *, booking: Booking, now: datetime) -> Booking:
    """The client confirmed ("Спасибо, я приду"): the confirmation ladder stops."""
    if booking.status not in ACTIVE_BOOKING_STATUSES:
        raise Conflict(f"the booking is already {booking.status}")
    if not booking.is_confirmed:
        booking.is_confirmed = True
        booking.status = BookingStatus.CONFIRMED
        booking.confirmed_at = now
        booking.updated_at = now
        await session.flush()
        await timeline.skip_confirmation_events(session, booking_id=booking.id, now=now)
    return booking


async def cancel_booking(
    session: AsyncSession,
    *,
    booking: Booking,
    now: datetime,
    reason: str | None = None,
    is_auto: bool = False,
) -> Booking:
    """Cancel an active booking and free its slot again if it is still ahead."""
    if booking.status not in ACTIVE_BOOKING_STATUSES:
        raise Conflict(f"the booking is already {booking.status}")
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.updated_at = now
    booking.cancellation_reason = reason
    booking.is_auto_canceled = is_auto
    await session.flush()
    if booking.start_at > now:
        await session.execute(
            update(Slot)
            .where(Slot.id == booking.slot_id, Slot.state == SlotState.BOOKED)
            .values(state=SlotState.FREE, updated_at=now)
        )
    await bump_schedule_revision(session, booking.psychologist_id)
    await timeline.cancel_pending(
        session,
        booking_id=booking.id,
        now=now,
        reason="сессия отменена" + (" автоматически" if is_auto else ""),
    )
    await timeline.plan_meeting_deletion(session, booking=booking, now=now)
    return booking
