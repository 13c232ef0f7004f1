"""Psychologists' free slots: add, delete, repeat, and the windows the schedule views read."""

from __future__ import annotations

import calendar
import hashlib
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.errors import Conflict, InvalidInput, NotFound
from hraniteli.kit.bounds import OutOfRange, check_instant
from hraniteli.kit.moscow import MSK, zone
from hraniteli.models import Psychologist, RepeatRule, Slot, SlotState
from hraniteli.schedule import repository
from hraniteli.schedule.repository import SlotView

OCCURRENCES = {RepeatRule.WEEKLY: 4, RepeatRule.BIWEEKLY: 2, RepeatRule.MONTHLY: 1}
"""How many future occurrences a repeat rule materialises at once (what the editor asks for)."""

MAX_DURATION_MINUTES = 480

OVERLAPS = "the slot overlaps another slot of this psychologist"
OVERLAP_CONSTRAINT = "ex_slots_psychologist_overlap"
"""PostgreSQL's exclusion constraint on slots (migration 0008): the same answer as the check."""


@dataclass(frozen=True)
class SchedulePolicy:
    """The practice's calendar rules, from settings."""

    closed_weekdays: tuple[int, ...] = (6,)
    slot_duration_minutes: int = 60


@dataclass(frozen=True)
class AddedSlot:
    slot: Slot
    created: bool


def _check_start(start_at: datetime, *, now: datetime, policy: SchedulePolicy) -> None:
    try:
        check_instant(start_at)
    except OutOfRange as exc:
        raise InvalidInput(str(exc), details=[{"field": "slot"}]) from exc
    if start_at <= now:
        raise InvalidInput("the slot is in the past", details=[{"field": "slot"}])
    if start_at.astimezone(MSK).weekday() in policy.closed_weekdays:
        raise InvalidInput(
            "the service takes no sessions on this weekday (Moscow time)",
            details=[{"field": "slot"}],
        )


async def add_slot(
    session: AsyncSession,
    *,
    psychologist: Psychologist,
    start_at: datetime,
    now: datetime,
    policy: SchedulePolicy,
    duration_minutes: int | None = None,
    repeat_root_id: uuid.UUID | None = None,
    is_over_event: bool = False,
) -> AddedSlot:
    """Open a free slot; adding the same start again returns the existing slot (idempotent)."""
    duration = duration_minutes or policy.slot_duration_minutes
    if not 0 < duration <= MAX_DURATION_MINUTES:
        raise InvalidInput(f"slot duration must be 1…{MAX_DURATION_MINUTES} minutes")
    _check_start(start_at, now=now, policy=policy)
    existing = await repository.get_slot_at(session, psychologist.id, start_at)
    if existing is not None:
        return AddedSlot(existing, created=False)
    end_at = start_at + timedelta(minutes=duration)
    if await repository.list_overlapping_slots(session, psychologist.id, start_at, end_at):
        raise Conflict(OVERLAPS)
    slot = Slot(
        id=uuid.uuid4(),
        psychologist_id=psychologist.id,
        start_at=start_at,
        duration_minutes=duration,
        end_at=end_at,
        state=SlotState.FREE,
        repeat_rule=RepeatRule.NONE,
        repeat_root_id=repeat_root_id,
        is_over_event=is_over_event,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(slot)
            await session.flush()
    except IntegrityError as exc:
        # Another transaction committed a slot meanwhile (PostgreSQL: the check above cannot see
        # uncommitted rows; the unique index and the exclusion constraint can, and wait for them).
        existing = await repository.get_slot_at(session, psychologist.id, start_at)
        if existing is not None:
            return AddedSlot(existing, created=False)
        if OVERLAP_CONSTRAINT in str(exc.orig):
            raise Conflict(OVERLAPS) from exc
        raise
    await repository.bump_schedule_revision(session, psychologist.id)
    return AddedSlot(slot, created=True)


async def slot_of(
    session: AsyncSession,
    *,
    psychologist: Psychologist,
    slot_id: uuid.UUID | None = None,
    start_at: datetime | None = None,
) -> Slot:
    """The psychologist's own slot by id or by start; NotFound for anyone else's."""
    slot = None
    if slot_id is not None:
        slot = await repository.get_slot(session, slot_id)
    elif start_at is not None:
        slot = await repository.get_slot_at(session, psychologist.id, start_at)
    if slot is None or slot.psychologist_id != psychologist.id:
        raise NotFound("no such slot in this schedule")
    return slot


async def delete_slot(session: AsyncSession, *, psychologist: Psychologist, slot: Slot) -> None:
    if slot.psychologist_id != psychologist.id:
        raise NotFound("no such slot in this schedule")
    if slot.state != SlotState.FREE:
        raise Conflict("the slot is booked by a client; cancel the session before removing the slot")
    await session.delete(slot)
    await session.flush()
    await repository.bump_schedule_revision(session, psychologist.id)


def occurrence_starts(start_at: datetime, rule: RepeatRule, tz: tzinfo = MSK) -> list[datetime]:
    """Future starts a rule produces from `start_at`, at the same wall-clock time in `tz`
    (the psychologist's zone: a Berlin 10:00 stays 10:00 across a DST change)."""
    local = start_at.astimezone(tz)
    if rule in (RepeatRule.WEEKLY, RepeatRule.BIWEEKLY):
        step = 7 if rule == RepeatRule.WEEKLY else 14
        return [local + timedelta(days=step * i) for i in range(1, OCCURRENCES[rule] + 1)]
    if rule == RepeatRule.MONTHLY:
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        if local.day > calendar.monthrange(year, month)[1]:
            return []
        return [local.replace(year=year, month=month)]
    return []


async def set_repeat_rule(
    session: AsyncSession,
    *,
    psychologist: Psychologist,
    slot: Slot,
    rule: RepeatRule,
    now: datetime,
    policy: SchedulePolicy,
) -> list[Slot]:
    """Set the slot's repeat rule and open its next occurrences; returns the slots opened.

    Occurrences that fall on a closed weekday or collide with another slot are skipped.
    """
    if slot.psychologist_id != psychologist.id:
        raise NotFound("no such slot in this schedule")
    slot.repeat_rule = rule
    slot.updated_at = now
    opened: list[Slot] = []
    for start_at in occurrence_starts(slot.start_at, rule, zone(psychologist.time_zone)):
        try:
            added = await add_slot(
                session,
                psychologist=psychologist,
                start_at=start_at,
                now=now,
                policy=policy,
                duration_minutes=slot.duration_minutes,
                repeat_root_id=slot.id,
            )
        except (InvalidInput, Conflict):
            continue
        if added.created:
            opened.append(added.slot)
    await repository.bump_schedule_revision(session, psychologist.id)
    await session.flush()
    return opened


async def list_slots(
    session: AsyncSession,
    *,
    start_at: datetime,
    end_at: datetime,
    psychologist_ids: Sequence[uuid.UUID] | None = None,
    free_only: bool = False,
    not_before: datetime | None = None,
    active_only: bool = True,
) -> list[SlotView]:
    """Slots in [start_at, end_at) of active psychologists (of any, for their own editor);
    `not_before` hides earlier ones."""
    if end_at <= start_at:
        return []
    lower = max(start_at, not_before) if not_before else start_at
    return await repository.list_slot_views(
        session,
        start_at=lower,
        end_at=end_at,
        psychologist_ids=psychologist_ids,
        free_only=free_only,
        active_psychologists_only=active_only,
    )


def _digest(rows: Sequence[tuple[uuid.UUID, int, bool]]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for psychologist_id, revision, is_active in sorted(rows):
        digest.update(f"{psychologist_id}:{revision}:{int(is_active)};".encode())
    return digest.hexdigest()


async def schedule_fingerprint(
    session: AsyncSession, psychologist_ids: Sequence[uuid.UUID] | None = None
) -> str:
    """Changes whenever any of these psychologists' slots (or profile) change: a cache key."""
    return _digest(await repository.list_schedule_revisions(session, psychologist_ids))


@dataclass(frozen=True)
class NamedScope:
    """Psychologists named by a caller, resolved in one query, with their cache fingerprint."""

    ids: list[uuid.UUID]
    unknown: list[str]
    fingerprint: str


async def named_scope(session: AsyncSession, names: Sequence[str]) -> NamedScope:
    rows = await repository.list_revisions_by_names(session, names)
    known = {name for _, name, _, _ in rows}
    return NamedScope(
        ids=[psychologist_id for psychologist_id, _, _, _ in rows],
        unknown=[name for name in names if name not in known],
        fingerprint=_digest([(pid, revision, active) for pid, _, revision, active in rows]),
    )


async def free_rows(
    session: AsyncSession,
    *,
    start_at: datetime,
    end_at: datetime,
    psychologist_ids: Sequence[uuid.UUID] | None = None,
    not_before: datetime | None = None,
) -> list[tuple[str, str, datetime]]:
    """(id, psychologist, start) of bookable free slots in the window, by start then name."""
    lower = max(start_at, not_before) if not_before else start_at
    if end_at <= lower or psychologist_ids == []:
        return []
    return await repository.list_free_rows(
        session, start_at=lower, end_at=end_at, psychologist_ids=psychologist_ids
    )


def msk_window(start_date: date, end_date: date) -> tuple[datetime, datetime]:
    """[start of start_date, end of end_date) in Moscow time, as UTC instants."""
    start = datetime.combine(start_date, datetime.min.time(), tzinfo=MSK)
    end = datetime.combine(end_date + timedelta(days=1), datetime.min.time(), tzinfo=MSK)
    return start, end


def busiest_hours(views: Sequence[SlotView], *, top: int = 3) -> list[tuple[datetime, int]]:
    """The `top` start instants at which most of the given psychologists are free (earliest first on ties)."""
    counts = Counter(view.start_at for view in views if view.state == SlotState.FREE)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]


async def free_slot_counts(
    session: AsyncSession, *, start_at: datetime, end_at: datetime
) -> list[tuple[str, int]]:
    return await repository.count_free_slots_by_psychologist(session, start_at=start_at, end_at=end_at)
