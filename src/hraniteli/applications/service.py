"""Applications: intake (idempotent by number), matching candidates, automatch, hand-off."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.applications import repository
from hraniteli.applications.forms import ParsedForm
from hraniteli.bookings import service as bookings
from hraniteli.errors import Conflict, DomainError, InvalidInput, NotFound
from hraniteli.kit.contacts import contact_key
from hraniteli.kit.moscow import BadTimeZone, zone_from_label
from hraniteli.kit.slotstrings import BadSlotString, parse_slot_string
from hraniteli.lifecycle.rules import LadderPolicy
from hraniteli.matching import service as matching
from hraniteli.matching.repository import list_free_slots_at
from hraniteli.matching.rules import Verdict
from hraniteli.models import (
    Application,
    ApplicationCandidate,
    ApplicationEvent,
    ApplicationKind,
    ApplicationStatus,
    Booking,
    Client,
    Psychologist,
    Sex,
    Slot,
    SlotState,
)
from hraniteli.schedule.repository import get_slot


@dataclass(frozen=True)
class IntakePolicy:
    window_days: int = 28
    min_lead: timedelta = timedelta(0)
    helpful_hand_min_lead: timedelta = timedelta(hours=24)
    ladder: LadderPolicy | None = None
    staff: bool = False
    """Booked by staff (the service key): a client may then hold several upcoming sessions with
    one psychologist. Otherwise one per contact and psychologist (a drained schedule is refused)."""


@dataclass(frozen=True)
class Submitted:
    application: Application
    created: bool
    booking: Booking | None = None


def _same_submitter(application: Application, form: ParsedForm) -> bool:
    return (application.contact or "") == (form.contact or "") or not form.contact or not application.contact


async def _unique_number(session: AsyncSession, number: str) -> str:
    """A number for a colliding application from another person: `number-2`, `number-3`, …"""
    taken = set(await repository.list_numbers_like(session, number))
    suffix = 2
    while f"{number}-{suffix}" in taken:
        suffix += 1
    return f"{number}-{suffix}"


async def _client_for(session: AsyncSession, form: ParsedForm, now: datetime) -> Client | None:
    if not form.contact:
        return None
    contact_type = form.contact_type or "unknown"
    client = await repository.get_client_by_contact(session, contact_type, form.contact)
    if client is None:
        client = Client(
            id=uuid.uuid4(),
            contact_type=contact_type,
            contact=form.contact,
            name=form.client_name,
            age=form.client_age,
            sex=form.client_sex,
            time_zone="Europe/Moscow",
            created_at=now,
            updated_at=now,
        )
        session.add(client)
        await session.flush()
    else:
        client.name = form.client_name or client.name
        client.age = form.client_age or client.age
        client.sex = form.client_sex or client.sex
        client.updated_at = now
    return client


def record(
    application: Application, session: AsyncSession, status: ApplicationStatus, now: datetime, note: str
) -> None:
    """Move the application to `status` and write the history row."""
    application.status = status
    application.updated_at = now
    session.add(ApplicationEvent(application_id=application.id, at=now, status=status, note=note))


async def store_candidates(session: AsyncSession, application: Application, verdicts: list[Verdict]) -> None:
    await session.execute(
        delete(ApplicationCandidate).where(ApplicationCandidate.application_id == application.id)
    )
    for rank, verdict in enumerate(verdicts, start=1):
        session.add(
            ApplicationCandidate(
                id=uuid.uuid4(),
                application_id=application.id,
                psychologist_id=verdict.psychologist_id,
                rank=rank,
                score=verdict.score,
                reason=verdict.reason,
            )
        )
    await session.flush()


def _fill(application: Application, form: ParsedForm) -> None:
    application.raw = form.raw
    application.client_name = form.client_name
    application.client_age = form.client_age
    application.client_sex = form.client_sex
    application.contact_type = form.contact_type
    application.contact = form.contact
    application.contact_key = contact_key(form.contact_type, form.contact)
    application.time_zone_label = form.time_zone_label
    application.requests = form.requests
    application.client_states = form.client_states
    application.traumatic_events = form.traumatic_events
    application.diagnoses = form.diagnoses
    application.takes_medication = form.takes_medication
    application.preferences = form.preferences
    application.wanted_psychologist_sex = form.wanted_psychologist_sex
    application.experience = form.experience
    application.price_category = form.price_category
    application.price_rub = form.price_rub
    application.promocode = form.promocode
    application.utm = form.utm
    application.wanted_psychologists = form.wanted_psychologists
    application.chosen_slots = form.chosen_slots
    application.chosen_slot_ids = [str(slot_id) for slot_id in form.chosen_slot_ids]
    application.research_row_id = form.research_row_id


async def submit(
    session: AsyncSession,
    *,
    form: ParsedForm,
    kind: ApplicationKind,
    now: datetime,
    policy: IntakePolicy,
    previous: Application | None = None,
) -> Submitted:
    """Store an application, find its candidates and, if it names times, book one.

    Re-submitting a number is idempotent (the first application is returned untouched);
    a number another person already used gets a suffix instead of overwriting theirs.
    """
    if not form.number:
        raise InvalidInput(
            "the application number (`ticket_id`) is missing", details=[{"field": "ticket_id"}]
        )
    try:
        async with session.begin_nested():
            return await _submit_new(session, form=form, kind=kind, now=now, policy=policy, previous=previous)
    except IntegrityError:
        # The same number stored meanwhile by a concurrent request (a double click, a retry
        # while the first one is in flight): answer like a repeat submission.
        existing = await repository.get_application_by_number(session, form.number)
        if existing is None or not _same_submitter(existing, form):
            raise
        return Submitted(existing, created=False)


async def _submit_new(
    session: AsyncSession,
    *,
    form: ParsedForm,
    kind: ApplicationKind,
    now: datetime,
    policy: IntakePolicy,
    previous: Application | None,
) -> Submitted:
    assert form.number is not None
    number = form.number
    existing = await repository.get_application_by_number(session, number)
    if existing is not None:
        if _same_submitter(existing, form):
            return Submitted(existing, created=False)
        number = await _unique_number(session, number)
    client = await _client_for(session, form, now)
    application = Application(
        id=uuid.uuid4(),
        number=number,
        kind=kind,
        status=ApplicationStatus.NEW,
        client_id=client.id if client else None,
        time_offset_hours=0.0,
        previous_id=previous.id if previous else None,
        created_at=now,
        updated_at=now,
    )
    _fill(application, form)
    session.add(application)
    await session.flush()
    record(application, session, ApplicationStatus.NEW, now, "заявка получена")
    client_profile = matching.client_profile(form, kind)
    verdicts = await matching.match(session, client=client_profile, now=now, window_days=policy.window_days)
    await store_candidates(session, application, verdicts)
    if kind == ApplicationKind.HELPFUL_HAND:
        record(
            application, session, ApplicationStatus.AWAITING_PSYCHOLOGIST, now, "ждёт психолога «Руки помощи»"
        )
        await session.flush()
        return Submitted(application, created=True)
    booking = None
    if form.chosen_slots or form.chosen_slot_ids:
        replacing = await repository.list_lead_numbers(session, previous.number) if previous else []
        booking = await automatch(
            session, application=application, now=now, policy=policy, replacing=replacing
        )
    await session.flush()
    return Submitted(application, created=True, booking=booking)


async def _chosen_instants(application: Application, now: datetime) -> tuple[list[datetime], list[str]]:
    try:
        tz = zone_from_label(application.time_zone_label)
    except BadTimeZone:
        tz = zone_from_label(None)
    instants, unreadable = [], []
    for text in application.chosen_slots:
        try:
            instants.append(parse_slot_string(text, now=now, tz=tz))
        except BadSlotString:
            unreadable.append(text)
    return instants, unreadable


async def automatch(
    session: AsyncSession,
    *,
    application: Application,
    now: datetime,
    policy: IntakePolicy,
    names: list[str] | None = None,
    replacing: list[str] | None = None,
) -> Booking | None:
    """Book the best free (psychologist, slot) pair among the chosen times, atomically.

    Candidates: the psychologists the client named (safety filters apply, quota does not),
    else the matching candidates. Pairs are tried by quota left (most first), then the
    earliest start. Unless staff book, a psychologist with whom the client (by contact)
    already has an upcoming session is skipped — sessions of the applications in `replacing`
    (a re-booking's lead) aside. When nothing can be booked, the application goes to an
    administrator.
    """
    wanted = names if names is not None else list(application.wanted_psychologists)
    form_profile = matching.client_profile(form_of(application), ApplicationKind(application.kind))
    if wanted:
        verdicts = await matching.match(
            session,
            client=form_profile,
            now=now,
            window_days=policy.window_days,
            only=wanted,
            check_quota=False,
        )
    else:
        verdicts = await matching.match(session, client=form_profile, now=now, window_days=policy.window_days)
    eligible = {v.psychologist_id: v for v in verdicts}
    profiles = {
        p.id: p
        for p in await matching.psychologist_profiles(
            session, now=now, window_days=policy.window_days, names=[v.name for v in verdicts]
        )
    }
    instants, unreadable = await _chosen_instants(application, now)
    slots: list[Slot] = []
    for slot_id in application.chosen_slot_ids:
        slot = await get_slot(session, uuid.UUID(slot_id))
        if slot is not None:
            slots.append(slot)
    if instants and eligible:
        slots.extend(await list_free_slots_at(session, psychologist_ids=list(eligible), instants=instants))
    busy: set[uuid.UUID] = set()
    if not policy.staff and application.contact_key:
        busy = await repository.list_psychologists_booked_for_contact(
            session, contact_key=application.contact_key, now=now, excluding=replacing or []
        )
    offered = [
        slot
        for slot in {s.id: s for s in slots}.values()
        if slot.psychologist_id in eligible
        and slot.state == SlotState.FREE
        and slot.start_at > now + policy.min_lead
    ]
    pairs = [slot for slot in offered if slot.psychologist_id not in busy]
    pairs.sort(key=lambda s: (-profiles[s.psychologist_id].quota_left, s.start_at))
    for slot in pairs:
        try:
            async with session.begin_nested():
                booking = await bookings.book_slot(
                    session,
                    request=bookings.BookingRequest(
                        slot_id=slot.id,
                        client_id=application.client_id,
                        application_ref=application.number,
                        is_auto_assigned=True,
                        is_helpful_hand=application.kind == ApplicationKind.HELPFUL_HAND,
                        ladder=policy.ladder,
                    ),
                    now=now,
                    min_lead=policy.min_lead,
                )
        except (Conflict, DomainError):
            continue
        application.booking_id = booking.id
        verdict = eligible[slot.psychologist_id]
        application.result_reason = f"назначен {verdict.name}: {verdict.reason}"
        record(application, session, ApplicationStatus.BOOKED, now, application.result_reason)
        return booking
    reasons = []
    if not application.chosen_slots and not application.chosen_slot_ids:
        reasons.append("клиент не выбрал время")
    if unreadable:
        reasons.append("не удалось прочитать время: " + ", ".join(unreadable))
    if not eligible:
        reasons.append("нет подходящих психологов")
    elif offered and not pairs:
        reasons.append("у клиента уже есть предстоящая сессия с этим психологом")
    elif not pairs:
        reasons.append("выбранное время уже занято или недоступно у подходящих психологов")
    else:
        reasons.append("все подходящие слоты заняли раньше")
    application.result_reason = "; ".join(reasons)
    record(application, session, ApplicationStatus.HANDED_TO_ADMIN, now, application.result_reason)
    return None


def form_of(application: Application) -> ParsedForm:
    """The clean fields of a stored application, as matching reads them."""
    return ParsedForm(
        number=application.number,
        raw=application.raw,
        client_name=application.client_name,
        client_age=application.client_age,
        client_sex=Sex(application.client_sex) if application.client_sex else None,
        wanted_psychologist_sex=Sex(application.wanted_psychologist_sex)
        if application.wanted_psychologist_sex
        else None,
        requests=list(application.requests),
        client_states=list(application.client_states),
        traumatic_events=list(application.traumatic_events),
        diagnoses=list(application.diagnoses),
        takes_medication=application.takes_medication,
        preferences=list(application.preferences),
        price_rub=application.price_rub,
    )


async def get_by_number(session: AsyncSession, number: str | None) -> Application:
    cleaned = (number or "").strip()
    if not cleaned:
        raise InvalidInput("the application number is missing", details=[{"field": "ticket_id"}])
    application = await repository.get_application_by_number(session, cleaned)
    if application is None:
        raise NotFound("no application with this number")
    return application


async def set_status(
    session: AsyncSession, *, application: Application, status: ApplicationStatus, now: datetime, note: str
) -> Application:
    record(application, session, status, now, note)
    await session.flush()
    return application


async def hand_off_to_admin(
    session: AsyncSession, *, application: Application, now: datetime, note: str
) -> Application:
    application.result_reason = note
    return await set_status(
        session, application=application, status=ApplicationStatus.HANDED_TO_ADMIN, now=now, note=note
    )


async def booking_of(session: AsyncSession, application: Application) -> Booking | None:
    return await session.get(Booking, application.booking_id) if application.booking_id else None


async def booked_psychologist(session: AsyncSession, application: Application) -> Psychologist | None:
    booking = await booking_of(session, application)
    return await session.get(Psychologist, booking.psychologist_id) if booking else None


@dataclass(frozen=True)
class TicketView:
    """An application with who has it (booked or claimed) and when its session is."""

    application: Application
    psychologist: Psychologist | None
    booking: Booking | None


async def ticket_view(session: AsyncSession, application: Application) -> TicketView:
    booking = await booking_of(session, application)
    psychologist_id = booking.psychologist_id if booking else application.claimed_by_id
    psychologist = await session.get(Psychologist, psychologist_id) if psychologist_id else None
    return TicketView(application, psychologist, booking)


async def ticket_views(session: AsyncSession, *, kind: ApplicationKind | None = None) -> list[TicketView]:
    return [
        await ticket_view(session, application) for application in await list_applications(session, kind=kind)
    ]


async def list_applications(
    session: AsyncSession,
    *,
    kind: ApplicationKind | None = None,
    status: ApplicationStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[Application]:
    return await repository.list_applications(session, kind=kind, status=status, offset=offset, limit=limit)


@dataclass(frozen=True)
class ClientSummary:
    """What the psychologist sees behind their booked hour (their own client only)."""

    application: Application
    booking: Booking


async def summary_for_slot(session: AsyncSession, *, slot_id: uuid.UUID) -> ClientSummary | None:
    booking = await bookings.active_booking_for_slot(session, slot_id)
    if booking is None:
        return None
    application = await repository.get_application_by_booking(session, booking.id)
    if application is None and booking.application_ref:
        application = await repository.get_application_by_number(session, booking.application_ref)
    if application is None:
        return None
    return ClientSummary(application, booking)


@dataclass(frozen=True)
class ApplicationDetails:
    application: Application
    candidates: list[ApplicationCandidate]
    history: list[ApplicationEvent]


async def details(session: AsyncSession, *, number: str) -> ApplicationDetails:
    application = await get_by_number(session, number)
    return ApplicationDetails(
        application,
        await repository.list_candidates(session, application.id),
        await repository.list_history(session, application.id),
    )


async def get_or_submit(
    session: AsyncSession, *, number: str, form: ParsedForm | None, now: datetime, policy: IntakePolicy
) -> Application:
    """The application a bot-side call names; submitted from the call's data if it is new here."""
    try:
        return await get_by_number(session, number)
    except NotFound:
        if form is None:
            raise
    result = await submit(
        session, form=form, kind=form.kind_for(ApplicationKind.MATCHING), now=now, policy=policy
    )
    return result.application


async def rematch(
    session: AsyncSession,
    *,
    application: Application,
    names: list[str],
    slots: list[str],
    slot_ids: list[str],
    now: datetime,
    policy: IntakePolicy,
) -> Booking | None:
    """Automatch again with the times (and psychologists) an administrator or the bot names."""
    if application.status == ApplicationStatus.BOOKED and application.booking_id:
        raise Conflict("a session is already booked for this application")
    if slots:
        application.chosen_slots = slots
    if slot_ids:
        valid = []
        for value in slot_ids:
            try:
                valid.append(str(uuid.UUID(value)))
            except ValueError:
                continue
        application.chosen_slot_ids = valid
    return await automatch(session, application=application, now=now, policy=policy, names=names or None)


async def assigned_name(session: AsyncSession, booking: Booking | None) -> str | None:
    if booking is None:
        return None
    psychologist = await session.get(Psychologist, booking.psychologist_id)
    return psychologist.name if psychologist else None
