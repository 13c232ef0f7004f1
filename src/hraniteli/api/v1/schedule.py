"""Clean API: the aggregated schedule of many psychologists, and bookings (admin key)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Header, Query, Request

from hraniteli.api.deps import context, require_admin
from hraniteli.api.v1.params import refuse_nul
from hraniteli.bookings import service as bookings
from hraniteli.bookings.schemas import BookingCancel, BookingCreate, BookingOut
from hraniteli.errors import InvalidInput
from hraniteli.kit.bounds import Day
from hraniteli.kit.moscow import BadTimeZone, zone
from hraniteli.schedule import service as schedule
from hraniteli.schedule.schemas import Schedule, ScheduleDay, ScheduleSlot
from hraniteli.schedule.views import group_by_day

router = APIRouter(prefix="/api/v1", tags=["schedule & bookings"], dependencies=[Depends(refuse_nul)])

MAX_DAYS = 92


@router.get("/schedule")
async def get_schedule(
    request: Request,
    from_date: Day | None = Query(default=None, alias="from"),
    to_date: Day | None = Query(default=None, alias="to"),
    tz: str = Query(default="Europe/Moscow", description="The client's IANA time zone"),
    psychologist_id: list[uuid.UUID] | None = Query(default=None),
) -> Schedule:
    """Free slots of all (or the given) active psychologists, by day in the client's zone."""
    ctx = context(request)
    try:
        client_zone = zone(tz)
    except BadTimeZone as exc:
        raise InvalidInput(str(exc), details=[{"field": "tz"}]) from exc
    now = ctx.now()
    start = from_date or now.astimezone(client_zone).date()
    end = to_date or start + timedelta(days=ctx.settings.schedule_window_days)
    if end < start or (end - start).days > MAX_DAYS:
        raise InvalidInput(f"`to` must be within {MAX_DAYS} days after `from`")
    start_at = datetime.combine(start, datetime.min.time(), tzinfo=client_zone)
    end_at = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=client_zone)
    async with ctx.unit_of_work(write=False) as session:
        views = await schedule.list_slots(
            session,
            start_at=start_at,
            end_at=end_at,
            psychologist_ids=psychologist_id,
            free_only=True,
            not_before=now,
        )
    groups = group_by_day(
        views,
        tz=client_zone,
        start_date=start,
        end_date=end,
        skip_weekdays=ctx.policy.closed_weekdays,
    )
    return Schedule(
        time_zone=tz,
        from_date=start,
        to_date=end,
        days=[
            ScheduleDay(
                date=group.day,
                slots=[
                    ScheduleSlot(
                        id=view.id,
                        psychologist_id=view.psychologist_id,
                        psychologist=view.psychologist,
                        start_at=view.start_at,
                        local_time=local.strftime("%H:%M"),
                        duration_minutes=view.duration_minutes,
                    )
                    for entries in group.hours.values()
                    for view, local in entries
                ],
            )
            for group in groups
        ],
    )


@router.post("/bookings", status_code=201, dependencies=[Depends(require_admin)])
async def create_booking(
    body: BookingCreate,
    request: Request,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> BookingOut:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        booking = await bookings.book_slot(
            session,
            request=bookings.BookingRequest(
                slot_id=body.slot_id,
                client_id=body.client_id,
                application_ref=body.application_ref,
                idempotency_key=idempotency_key,
                is_auto_assigned=body.is_auto_assigned,
                is_helpful_hand=body.is_helpful_hand,
                ladder=ctx.ladder,
            ),
            now=ctx.now(),
            min_lead=timedelta(minutes=ctx.settings.min_booking_lead_minutes),
        )
        return BookingOut.model_validate(booking)


@router.get("/bookings/{booking_id}", dependencies=[Depends(require_admin)])
async def get_booking(booking_id: uuid.UUID, request: Request) -> BookingOut:
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        return BookingOut.model_validate(await bookings.get_booking(session, booking_id))


@router.post("/bookings/{booking_id}/cancel", dependencies=[Depends(require_admin)])
async def cancel_booking(
    booking_id: uuid.UUID, request: Request, body: BookingCancel | None = None
) -> BookingOut:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        booking = await bookings.get_booking(session, booking_id)
        cancelled = await bookings.cancel_booking(
            session, booking=booking, now=ctx.now(), reason=body.reason if body else None
        )
        return BookingOut.model_validate(cancelled)
