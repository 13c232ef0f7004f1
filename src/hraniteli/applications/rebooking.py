"""Re-booking ("перезапись"): the same psychologist at another time, or another psychologist."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.applications import repository
from hraniteli.applications import service as applications
from hraniteli.applications.forms import ParsedForm, as_list
from hraniteli.bookings import service as bookings
from hraniteli.errors import InvalidInput
from hraniteli.models import Application, ApplicationKind, Psychologist


class RebookMode(StrEnum):
    TIME = "time"  # the same psychologist, another time
    PSYCHOLOGIST = "psychologist"  # another of the psychologists matched before


@dataclass(frozen=True)
class RebookTargets:
    previous_psychologist: str | None
    names: list[str]


async def previous_psychologist(session: AsyncSession, application: Application) -> Psychologist | None:
    booked = await applications.booked_psychologist(session, application)
    if booked is not None:
        return booked
    if application.claimed_by_id is not None:
        return await session.get(Psychologist, application.claimed_by_id)
    return None


async def targets(session: AsyncSession, *, lead_number: str, mode: str) -> RebookTargets:
    """Whose schedule the client sees: `time` → only the previous psychologist;
    `psychologist` → the previously matched ones without the previous psychologist."""
    try:
        chosen = RebookMode(mode or RebookMode.TIME)
    except ValueError as exc:
        raise InvalidInput("mode must be 'time' or 'psychologist'", details=[{"field": "mode"}]) from exc
    application = await applications.get_by_number(session, lead_number)
    previous = await previous_psychologist(session, application)
    previous_name = previous.name if previous else None
    if chosen == RebookMode.TIME:
        return RebookTargets(previous_name, [previous_name] if previous_name else [])
    candidates = await repository.list_candidates(session, application.id)
    names = []
    for candidate in candidates:
        psychologist = await session.get(Psychologist, candidate.psychologist_id)
        if psychologist is not None and psychologist.is_active and psychologist.name != previous_name:
            names.append(psychologist.name)
    return RebookTargets(previous_name, names)


async def _next_number(session: AsyncSession, lead_number: str) -> str:
    taken = set(await repository.list_numbers_like(session, f"{lead_number}-r"))
    index = 1
    while f"{lead_number}-r{index}" in taken:
        index += 1
    return f"{lead_number}-r{index}"


async def reassign(
    session: AsyncSession,
    *,
    lead_number: str,
    psychologists: object,
    slots: object,
    queries: object,
    now: datetime,
    policy: applications.IntakePolicy,
) -> applications.Submitted:
    """A new application for the lead: the previous one's answers, the newly chosen
    psychologists and times; then automatch books one (replacing the lead's upcoming session)
    or hands it to an administrator."""
    previous = await applications.get_by_number(session, lead_number)
    names = as_list(psychologists, ";,")
    chosen = as_list(slots, ";")
    if not chosen:
        raise InvalidInput("choose at least one time", details=[{"field": "slots"}])
    base = applications.form_of(previous)
    extra_requests = [q for q in as_list(queries, ";") if q not in base.requests]
    form: ParsedForm = replace(
        base,
        number=await _next_number(session, previous.number),
        raw={"reassign_of": previous.number, "filtered_psychologists": names, "slots": chosen},
        contact_type=previous.contact_type,
        contact=previous.contact,
        time_zone_label=previous.time_zone_label,
        requests=[*base.requests, *extra_requests],
        wanted_psychologists=names,
        chosen_slots=chosen,
        chosen_slot_ids=[],
        utm=dict(previous.utm),
        promocode=previous.promocode,
        experience=previous.experience,
        price_category=previous.price_category,
    )
    kind = ApplicationKind(previous.kind)
    if kind == ApplicationKind.HELPFUL_HAND:
        kind = ApplicationKind.MATCHING if not names else ApplicationKind.CARD
    result = await applications.submit(
        session, form=form, kind=kind, now=now, policy=policy, previous=previous
    )
    if result.booking is not None:
        # the new session replaces the lead's upcoming ones: its slot is free again
        for number in await repository.list_lead_numbers(session, previous.number):
            for old in await bookings.active_bookings_for_ref(session, number):
                if old.id != result.booking.id and old.start_at > now:
                    await bookings.cancel_booking(
                        session, booking=old, now=now, reason="клиент перезаписался"
                    )
    return result
