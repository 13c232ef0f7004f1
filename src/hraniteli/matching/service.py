"""Matching with data: psychologists' profiles with their quota and free slots, then the rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.applications.forms import ParsedForm
from hraniteli.kit.moscow import MSK
from hraniteli.matching.rules import (
    ClientProfile,
    PsychologistProfile,
    Verdict,
    failed_filters,
    judge,
    rank,
)
from hraniteli.models import ACTIVE_BOOKING_STATUSES, Booking, Psychologist, Slot, SlotState
from hraniteli.models.enums import ApplicationKind, ClientSexAccepted, PsychologistGroup


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """[start of today, start of next month) in Moscow time."""
    today = now.astimezone(MSK).date()
    first_next = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return (
        datetime.combine(today, datetime.min.time(), tzinfo=MSK),
        datetime.combine(first_next, datetime.min.time(), tzinfo=MSK),
    )


async def booked_until_month_end(
    session: AsyncSession, *, now: datetime, psychologist_ids: Sequence[uuid.UUID] | None = None
) -> dict[uuid.UUID, int]:
    start, end = month_bounds(now)
    query = (
        select(Booking.psychologist_id, func.count(Booking.id))
        .where(
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            Booking.start_at >= start,
            Booking.start_at < end,
        )
        .group_by(Booking.psychologist_id)
    )
    if psychologist_ids is not None:
        query = query.where(Booking.psychologist_id.in_(list(psychologist_ids)))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def free_slot_counts(
    session: AsyncSession,
    *,
    start_at: datetime,
    end_at: datetime,
    psychologist_ids: Sequence[uuid.UUID] | None = None,
) -> dict[uuid.UUID, int]:
    query = (
        select(Slot.psychologist_id, func.count(Slot.id))
        .where(Slot.state == SlotState.FREE, Slot.start_at >= start_at, Slot.start_at < end_at)
        .group_by(Slot.psychologist_id)
    )
    if psychologist_ids is not None:
        query = query.where(Slot.psychologist_id.in_(list(psychologist_ids)))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


def quota_left(psychologist: Psychologist | ProfileRow, booked: int) -> int:
    """`debt − number_of_clients_provided − sessions booked from today to month end`."""
    debt: int = psychologist.debt
    provided: int = psychologist.sessions_provided
    return debt - provided - booked


PROFILE_COLUMNS = (
    Psychologist.id,
    Psychologist.name,
    Psychologist.sex,
    Psychologist.client_sex,
    Psychologist.min_client_age,
    Psychologist.max_client_age,
    Psychologist.skills,
    Psychologist.queries,
    Psychologist.group,
    Psychologist.is_active,
    Psychologist.allow_assignment,
    Psychologist.is_help_hand,
    Psychologist.help_hand_min_price,
    Psychologist.is_first_free,
    Psychologist.does_diagnostics,
    Psychologist.min_price,
    Psychologist.main_modal,
    Psychologist.additional_modals,
    Psychologist.is_married,
    Psychologist.has_children,
    Psychologist.debt,
    Psychologist.sessions_provided,
)
"""What `profile_of` reads: a matching request selects these columns, not whole ORM objects."""

ProfileRow = Row[*tuple[Any, ...]]


def profile_of(
    psychologist: Psychologist | ProfileRow, *, booked: int, free_slots: int
) -> PsychologistProfile:
    """The rules' view of a psychologist (an ORM object, or a row of PROFILE_COLUMNS)."""
    return PsychologistProfile(
        id=psychologist.id,
        name=psychologist.name,
        sex=psychologist.sex,
        client_sex=ClientSexAccepted(psychologist.client_sex),
        min_client_age=psychologist.min_client_age,
        max_client_age=psychologist.max_client_age,
        skills=tuple(psychologist.skills),
        queries=tuple(psychologist.queries),
        group=PsychologistGroup(psychologist.group),
        is_active=psychologist.is_active,
        allow_assignment=psychologist.allow_assignment,
        is_help_hand=psychologist.is_help_hand,
        help_hand_min_price=psychologist.help_hand_min_price,
        is_first_free=psychologist.is_first_free,
        does_diagnostics=psychologist.does_diagnostics,
        min_price=psychologist.min_price,
        main_modal=psychologist.main_modal,
        additional_modals=tuple(psychologist.additional_modals),
        is_married=psychologist.is_married,
        has_children=psychologist.has_children,
        quota_left=quota_left(psychologist, booked),
        free_slots=free_slots,
    )


async def _profile_rows(session: AsyncSession, names: Sequence[str] | None) -> Sequence[ProfileRow]:
    """Active psychologists (optionally only `names`) as rows of PROFILE_COLUMNS."""
    query = select(*PROFILE_COLUMNS).where(Psychologist.is_active.is_(True))
    if names is not None:
        query = query.where(Psychologist.name.in_(list(names)))
    return (await session.execute(query)).all()


async def psychologist_profiles(
    session: AsyncSession, *, now: datetime, window_days: int, names: Sequence[str] | None = None
) -> list[PsychologistProfile]:
    rows = await _profile_rows(session, names)
    booked = await booked_until_month_end(session, now=now)
    free = await free_slot_counts(session, start_at=now, end_at=now + timedelta(days=window_days))
    return [profile_of(r, booked=booked.get(r.id, 0), free_slots=free.get(r.id, 0)) for r in rows]


def client_profile(form: ParsedForm, kind: ApplicationKind) -> ClientProfile:
    return ClientProfile(
        kind=kind,
        age=form.client_age,
        sex=form.client_sex,
        wanted_psychologist_sex=form.wanted_psychologist_sex,
        client_states=tuple(form.client_states),
        traumatic_events=tuple(form.traumatic_events),
        diagnoses=tuple(form.diagnoses),
        takes_medication=form.takes_medication,
        requests=tuple(form.requests),
        preferences=tuple(form.preferences),
        price_rub=form.price_rub,
    )


async def match(
    session: AsyncSession,
    *,
    client: ClientProfile,
    now: datetime,
    window_days: int,
    only: Sequence[str] | None = None,
    check_quota: bool = True,
) -> list[Verdict]:
    """Eligible psychologists for the client, best first (restricted to `only` names if given).

    The hard filters never look at free slots (only the score does): the slots are counted for
    the psychologists who pass them, not for everyone."""
    rows = await _profile_rows(session, only)
    booked = await booked_until_month_end(session, now=now)
    passing = [
        profile
        for profile in (profile_of(row, booked=booked.get(row.id, 0), free_slots=0) for row in rows)
        if not failed_filters(client, profile, check_quota=check_quota)
    ]
    if not passing:
        return []
    free = await free_slot_counts(
        session,
        start_at=now,
        end_at=now + timedelta(days=window_days),
        psychologist_ids=[profile.id for profile in passing],
    )
    profiles = [replace(profile, free_slots=free.get(profile.id, 0)) for profile in passing]
    return rank(client, profiles, check_quota=check_quota)


async def explain(
    session: AsyncSession, *, client: ClientProfile, now: datetime, window_days: int
) -> list[Verdict]:
    """Every active psychologist's verdict (eligible or not, with why): the admin preview."""
    profiles = await psychologist_profiles(session, now=now, window_days=window_days)
    verdicts = [judge(client, profile) for profile in profiles]
    return sorted(verdicts, key=lambda v: (not v.eligible, -v.score, v.name))
