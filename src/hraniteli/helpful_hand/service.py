"""Helpful Hand ("Рука помощи"): open applications, a psychologist claims one (first wins),
then the client books that psychologist's slot at least a day ahead."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.applications import service as applications
from hraniteli.applications.forms import price_of
from hraniteli.bookings import service as bookings
from hraniteli.errors import Conflict, Forbidden, InvalidInput, NotFound
from hraniteli.kit.moscow import BadTimeZone, zone_from_label
from hraniteli.kit.proof import SEPARATOR, Proofs, Purpose
from hraniteli.kit.slotstrings import BadSlotString, parse_slot_string
from hraniteli.lifecycle.rules import LadderPolicy
from hraniteli.matching import service as matching
from hraniteli.matching.rules import failed_filters
from hraniteli.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Booking,
    Client,
    Psychologist,
    Slot,
)
from hraniteli.notifications import service as outbox
from hraniteli.psychologists import service as psychologists

PRICE_FILTER_ALL = "Все"
ALREADY_TAKEN = "Этого клиента уже взял другой психолог. Выберите, пожалуйста, другую заявку."


@dataclass(frozen=True)
class OpenTicket:
    """What a psychologist sees before claiming: no name, no contact, no free text."""

    number: str
    price_category: str | None
    client_age: int | None
    client_sex: str | None
    client_states: list[str]
    traumatic_events: list[str]
    has_diagnosis: bool
    created_at: datetime


async def _helpful_hand_application(session: AsyncSession, number: str) -> Application:
    application = await applications.get_by_number(session, number)
    if application.kind != ApplicationKind.HELPFUL_HAND:
        raise NotFound("this is not a Helpful Hand application")
    return application


async def list_open(
    session: AsyncSession, *, psychologist: Psychologist | None, price_filter: str | None, now: datetime
) -> list[OpenTicket]:
    """Unclaimed Helpful Hand applications (optionally of one price category), oldest first.

    For a psychologist: only those whose client they may take (age, sex, skills, their
    Helpful Hand minimum price).
    """
    query = (
        select(Application)
        .where(
            Application.kind == ApplicationKind.HELPFUL_HAND,
            Application.status == ApplicationStatus.AWAITING_PSYCHOLOGIST,
        )
        .order_by(Application.created_at)
    )
    found = list((await session.execute(query)).scalars())
    wanted_price = (
        None if not price_filter or price_filter.strip() == PRICE_FILTER_ALL else price_of(price_filter)
    )
    if price_filter and price_filter.strip() != PRICE_FILTER_ALL and wanted_price is None:
        raise InvalidInput(f"unknown price filter {price_filter!r}", details=[{"field": "price"}])
    profile = None
    if psychologist is not None:
        profile = matching.profile_of(psychologist, booked=0, free_slots=0)
    tickets = []
    for application in found:
        if wanted_price is not None and (application.price_rub or 0) != wanted_price:
            continue
        if profile is not None:
            client = matching.client_profile(applications.form_of(application), ApplicationKind.HELPFUL_HAND)
            if failed_filters(client, profile, check_quota=False):
                continue
        tickets.append(
            OpenTicket(
                number=application.number,
                price_category=application.price_category,
                client_age=application.client_age,
                client_sex=application.client_sex,
                client_states=list(application.client_states),
                traumatic_events=list(application.traumatic_events),
                has_diagnosis=bool(application.diagnoses),
                created_at=application.created_at,
            )
        )
    return tickets


@dataclass(frozen=True)
class ClaimNotice:
    """How to tell the client their application was taken: the page where they pick a slot,
    reached by a link whose `ticket_id` carries the proof that they are its client."""

    proofs: Proofs
    booking_url: str


async def claim(
    session: AsyncSession,
    *,
    psychologist: Psychologist,
    number: str,
    now: datetime,
    notice: ClaimNotice | None = None,
) -> Application:
    """The psychologist takes the application; exactly one psychologist can (atomic). With a
    `notice`, the client is sent the link to this psychologist's free slots."""
    application = await _helpful_hand_application(session, number)
    if not psychologist.is_help_hand:
        raise Forbidden("Вы не участвуете в проекте «Рука помощи»")
    client = matching.client_profile(applications.form_of(application), ApplicationKind.HELPFUL_HAND)
    failed = failed_filters(
        client, matching.profile_of(psychologist, booked=0, free_slots=0), check_quota=False
    )
    if failed:
        raise Forbidden("Этот клиент вам не подходит: " + "; ".join(failed))
    taken = await session.execute(
        update(Application)
        .where(
            Application.id == application.id,
            Application.claimed_by_id.is_(None),
            Application.status == ApplicationStatus.AWAITING_PSYCHOLOGIST,
        )
        .values(
            claimed_by_id=psychologist.id, claimed_at=now, status=ApplicationStatus.CLAIMED, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(application)
        if application.claimed_by_id == psychologist.id:
            return application
        if application.claimed_by_id is not None:
            raise Conflict(ALREADY_TAKEN)
        raise Conflict("Заявка больше не ждёт психолога")
    await session.refresh(application)
    applications.record(
        application, session, ApplicationStatus.CLAIMED, now, f"заявку взял(а) {psychologist.name}"
    )
    await session.flush()
    if notice is not None:
        await _tell_client_claimed(
            session, application=application, psychologist=psychologist, notice=notice, now=now
        )
    return application


async def _tell_client_claimed(
    session: AsyncSession,
    *,
    application: Application,
    psychologist: Psychologist,
    notice: ClaimNotice,
    now: datetime,
) -> None:
    client = await session.get(Client, application.client_id) if application.client_id else None
    query = urlencode(
        {
            "ticket_id": notice.proofs.attach(Purpose.CLIENT, application.number),
            "utm_psy": psychologist.name,
        }
    )
    await outbox.enqueue(
        session,
        dedupe_key=f"helpful-hand-claimed:{application.id}",
        recipient_kind=outbox.CLIENT,
        recipient_ref=str(client.id) if client else None,
        chat_id=client.telegram_id if client else None,
        text=f"Здравствуйте! Психолог {psychologist.name} готов(а) работать с вами в проекте «Рука помощи». "
        f"Выберите, пожалуйста, удобное время первой сессии: {notice.booking_url}?{query}",
        now=now,
    )


UNKNOWN_PSYCHOLOGIST = "Не удалось узнать вас: ссылка неполная или устарела. Напишите администратору."


async def claimant(
    session: AsyncSession,
    *,
    proofs: Proofs,
    telegram_id: str | None,
    token: str | None,
    editor_secret: str | None = None,
) -> Psychologist:
    """Who takes an application on the claim page: the psychologist the link was sent to (their
    Telegram id with its proof), or the holder of an editor secret. Nobody else."""
    if editor_secret:
        try:
            return await psychologists.psychologist_by_secret(session, editor_secret)
        except Forbidden as exc:
            raise Forbidden(UNKNOWN_PSYCHOLOGIST) from exc
    try:
        return await psychologists.psychologist_by_proof(
            session, proofs=proofs, token=token, telegram_id=telegram_id or ""
        )
    except Forbidden as exc:
        raise Forbidden(UNKNOWN_PSYCHOLOGIST) from exc


async def claim_parameter(session: AsyncSession, *, proofs: Proofs, telegram_id: str) -> str | None:
    """The `telegram_id` a claim link for this psychologist carries (with their proof)."""
    psychologist = await psychologists.find_by_telegram_id(session, telegram_id)
    if psychologist is None or psychologist.telegram_id is None:
        return None
    return f"{psychologist.telegram_id}{SEPARATOR}{psychologists.proof_of(proofs, psychologist)}"


async def list_open_for_telegram(
    session: AsyncSession, *, telegram_id: str | None, price_filter: str | None, now: datetime
) -> list[OpenTicket]:
    """Open applications for the psychologist with this Telegram id (all, without one)."""
    psychologist = None
    if telegram_id:
        psychologist = await psychologists.find_by_telegram_id(session, telegram_id)
        if psychologist is None:
            raise NotFound("no psychologist with this telegram_id")
    return await list_open(session, psychologist=psychologist, price_filter=price_filter, now=now)


async def is_allowed(session: AsyncSession, *, number: str) -> bool:
    """May the client of this application pick a slot now? (claimed and not yet booked)."""
    application = await applications.get_by_number(session, number)
    return (
        application.kind == ApplicationKind.HELPFUL_HAND
        and application.claimed_by_id is not None
        and application.status == ApplicationStatus.CLAIMED
    )


async def book(
    session: AsyncSession,
    *,
    number: str,
    slot_ids: list[uuid.UUID],
    slot_strings: list[str],
    psychologist_name: str | None,
    time_zone_label: str | None,
    now: datetime,
    min_lead: timedelta = timedelta(hours=24),
    ladder: LadderPolicy | None = None,
) -> Booking:
    """The client books one of the claiming psychologist's slots (by UUID, or by string)."""
    application = await _helpful_hand_application(session, number)
    # Lock the application: a double click (or a retry while the first request is in flight)
    # then waits for the first booking and answers with it, instead of losing the slot's
    # compare-and-set to its own twin and telling the client the time was taken by someone else.
    locked = await session.execute(
        select(Application)
        .where(Application.id == application.id)
        .with_for_update(of=Application)
        .execution_options(populate_existing=True)
    )
    application = locked.scalar_one()
    if application.claimed_by_id is None:
        raise Forbidden("Заявку ещё не взял психолог")
    if application.status == ApplicationStatus.BOOKED and application.booking_id:
        existing = await session.get(Booking, application.booking_id)
        if existing is not None and existing.slot_id in slot_ids:
            return existing
        raise Conflict("По этой заявке сессия уже назначена")
    psychologist = await session.get(Psychologist, application.claimed_by_id)
    assert psychologist is not None
    if psychologist_name and " ".join(psychologist_name.split()) != psychologist.name:
        raise Forbidden("Этот психолог не брал вашу заявку")
    slot: Slot | None = None
    if slot_ids:
        slot = await session.get(Slot, slot_ids[0])
    elif slot_strings:
        try:
            start_at = parse_slot_string(slot_strings[0], now=now, tz=zone_from_label(time_zone_label))
        except (BadSlotString, BadTimeZone) as exc:
            raise InvalidInput(str(exc), details=[{"field": "slots"}]) from exc
        query = select(Slot).where(Slot.psychologist_id == psychologist.id, Slot.start_at == start_at)
        slot = (await session.execute(query)).scalar_one_or_none()
    else:
        raise InvalidInput("choose a slot", details=[{"field": "slots_objects"}])
    if slot is None:
        raise NotFound("no such slot")
    if slot.psychologist_id != psychologist.id:
        raise Forbidden("this slot belongs to another psychologist")
    if slot.start_at < now + min_lead:
        raise InvalidInput("Helpful Hand sessions are booked at least 24 hours ahead")
    booking = await bookings.book_slot(
        session,
        request=bookings.BookingRequest(
            slot_id=slot.id,
            client_id=application.client_id,
            application_ref=application.number,
            is_helpful_hand=True,
            ladder=ladder,
        ),
        now=now,
        min_lead=min_lead,
    )
    application.booking_id = booking.id
    applications.record(
        application, session, ApplicationStatus.BOOKED, now, f"клиент записался к {psychologist.name}"
    )
    await session.flush()
    return booking
