"""Queries about meetings already handed out: which Zoom accounts are taken at a given time."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.conferencing.providers import Platform
from hraniteli.models import ACTIVE_BOOKING_STATUSES, Booking


async def busy_zoom_accounts(
    session: AsyncSession,
    *,
    start_at: datetime,
    end_at: datetime,
    exclude_booking_id: uuid.UUID | None = None,
) -> set[str]:
    """Zoom accounts hosting an active booking that overlaps [start_at, end_at).

    Back-to-back sessions do not overlap: one ending at 15:00 leaves the account free at 15:00.
    `exclude_booking_id` leaves out the booking the meeting is for (when its link is remade).
    """
    query = (
        select(Booking.meeting_account)
        .where(
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            Booking.meeting_platform == Platform.ZOOM.value,
            Booking.meeting_account.is_not(None),
            Booking.start_at < end_at,
            Booking.end_at > start_at,
        )
        .distinct()
    )
    if exclude_booking_id is not None:
        query = query.where(Booking.id != exclude_booking_id)
    return {account for account in (await session.execute(query)).scalars() if account}
