"""Application and client queries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.models import (
    ACTIVE_BOOKING_STATUSES,
    Application,
    ApplicationCandidate,
    ApplicationEvent,
    ApplicationKind,
    ApplicationStatus,
    Booking,
    Client,
)


async def get_application_by_number(session: AsyncSession, number: str) -> Application | None:
    query = select(Application).where(Application.number == number)
    return (await session.execute(query)).scalar_one_or_none()


async def lock_application_by_number(session: AsyncSession, number: str) -> Application | None:
    query = select(Application).where(Application.number == number).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_application_by_booking(session: AsyncSession, booking_id: uuid.UUID) -> Application | None:
    query = select(Application).where(Application.booking_id == booking_id)
    return (await session.execute(query)).scalar_one_or_none()


async def list_numbers_like(session: AsyncSession, number: str) -> list[str]:
    query = select(Application.number).where(Application.number.like(f"{number}%"))
    return list((await session.execute(query)).scalars())


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_applications_numbered(session: AsyncSession, number: str) -> list[Application]:
    """The application with this number and those stored for colliding numbers (`number-2`, …)."""
    query = (
        select(Application)
        .where(
            (Application.number == number) | Application.number.like(f"{_like_prefix(number)}-%", escape="\\")
        )
        .order_by(Application.created_at)
        .limit(50)
    )
    found = (await session.execute(query)).scalars()
    return [a for a in found if a.number == number or a.number[len(number) + 1 :].isdigit()]


async def list_applications_by_contact_key(
    session: AsyncSession, contact_key: str, *, since: datetime
) -> list[Application]:
    query = (
        select(Application)
        .where(Application.contact_key == contact_key, Application.created_at >= since)
        .order_by(Application.created_at)
        .limit(50)
    )
    return list((await session.execute(query)).scalars())


async def list_lead_numbers(session: AsyncSession, lead_number: str) -> list[str]:
    """A lead's application and its re-bookings (`lead-r1`, `lead-r2`, …)."""
    query = select(Application.number).where(
        (Application.number == lead_number)
        | Application.number.like(f"{_like_prefix(lead_number)}-r%", escape="\\")
    )
    found = (await session.execute(query)).scalars()
    return [n for n in found if n == lead_number or n[len(lead_number) + 2 :].isdigit()]


async def list_psychologists_booked_for_contact(
    session: AsyncSession, *, contact_key: str, now: datetime, excluding: list[str]
) -> set[uuid.UUID]:
    """The psychologists with whom this contact has an upcoming active session."""
    query = (
        select(Booking.psychologist_id)
        .join(Application, Application.number == Booking.application_ref)
        .where(
            Application.contact_key == contact_key,
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            Booking.start_at > now,
        )
    )
    if excluding:
        query = query.where(Booking.application_ref.not_in(excluding))
    return set((await session.execute(query)).scalars())


async def get_client_by_contact(session: AsyncSession, contact_type: str, contact: str) -> Client | None:
    query = (
        select(Client)
        .where(Client.contact_type == contact_type, Client.contact == contact)
        .order_by(Client.created_at)
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def list_candidates(session: AsyncSession, application_id: uuid.UUID) -> list[ApplicationCandidate]:
    query = (
        select(ApplicationCandidate)
        .where(ApplicationCandidate.application_id == application_id)
        .order_by(ApplicationCandidate.rank)
    )
    return list((await session.execute(query)).scalars())


async def list_applications(
    session: AsyncSession,
    *,
    kind: ApplicationKind | None = None,
    status: ApplicationStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[Application]:
    query = select(Application).order_by(Application.created_at.desc()).offset(offset).limit(limit)
    if kind is not None:
        query = query.where(Application.kind == kind)
    if status is not None:
        query = query.where(Application.status == status)
    return list((await session.execute(query)).scalars())


async def list_history(session: AsyncSession, application_id: uuid.UUID) -> list[ApplicationEvent]:
    query = (
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application_id)
        .order_by(ApplicationEvent.at, ApplicationEvent.id)
    )
    return list((await session.execute(query)).scalars())
