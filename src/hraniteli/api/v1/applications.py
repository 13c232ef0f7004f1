"""Clean API: applications, the matching preview, Helpful Hand and form funnels."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.analytics import service as analytics
from hraniteli.api.deps import (
    AppContext,
    check_admin_key,
    client_number,
    context,
    has_admin_key,
    limit_contact,
    limited,
    require_admin,
)
from hraniteli.api.v1.params import Offset, refuse_nul
from hraniteli.applications import service as applications
from hraniteli.applications.forms import ParsedForm
from hraniteli.applications.schemas import (
    ApplicationAccepted,
    ApplicationCreate,
    ApplicationOut,
    CandidateOut,
    Funnel,
    FunnelStepOut,
    HelpfulHandBooking,
    HistoryOut,
    MatchingInput,
    OpenTicketOut,
    VerdictOut,
)
from hraniteli.helpful_hand import service as helpful_hand
from hraniteli.kit.moscow import MSK
from hraniteli.kit.proof import Purpose, split
from hraniteli.matching import service as matching
from hraniteli.matching.rules import ClientProfile
from hraniteli.models import ApplicationKind, ApplicationStatus, Psychologist
from hraniteli.psychologists import service as psychologists

router = APIRouter(prefix="/api/v1", tags=["applications & matching"], dependencies=[Depends(refuse_nul)])


def _policy(ctx: AppContext, *, staff: bool = False) -> applications.IntakePolicy:
    return applications.IntakePolicy(
        window_days=ctx.settings.schedule_window_days,
        min_lead=timedelta(minutes=ctx.settings.min_booking_lead_minutes),
        ladder=ctx.ladder,
        staff=staff,
    )


def _form(body: ApplicationCreate) -> ParsedForm:
    return ParsedForm(
        number=body.number,
        raw=body.model_dump(mode="json"),
        client_name=body.client.name,
        client_age=body.age or body.client.age,
        client_sex=body.sex or body.client.sex,
        wanted_psychologist_sex=body.wanted_psychologist_sex,
        contact_type=body.client.contact_type,
        contact=body.client.contact,
        time_zone_label=body.client.time_zone_label,
        requests=list(body.requests),
        client_states=list(body.client_states),
        traumatic_events=list(body.traumatic_events),
        diagnoses=list(body.diagnoses),
        takes_medication=body.takes_medication,
        preferences=list(body.preferences),
        price_category=body.price_category,
        price_rub=body.price_rub,
        promocode=body.promocode,
        utm=dict(body.utm),
        wanted_psychologists=list(body.wanted_psychologists),
        # instants travel as Moscow wall-clock strings with a year: the same path the forms use
        chosen_slots=[f"{start.astimezone(MSK):%d.%m.%Y %H:%M}" for start in body.chosen_starts],
        chosen_slot_ids=list(body.chosen_slot_ids),
    )


@router.post("/applications", status_code=201, dependencies=[Depends(limited("writes"))])
async def submit_application(body: ApplicationCreate, request: Request) -> ApplicationAccepted:
    """Intake: stores the application, matches it, books one of the chosen times if it can.

    Anyone may submit. Idempotent by `number`: repeating a number answers `created: false` and
    nothing else (no status, no booking) unless the caller proves the application is theirs
    (the number with its proof, as issued on creation) or holds the service key."""
    ctx = context(request)
    form = _form(body)
    await limit_contact(ctx, form.contact_type, form.contact)
    claimed = split(body.number)
    form.number = claimed.ref
    if body.client.time_zone_label and body.chosen_starts:
        form.time_zone_label = None  # the instants are already absolute
    async with ctx.unit_of_work() as session:
        result = await applications.submit(
            session, form=form, kind=body.kind, now=ctx.now(), policy=_policy(ctx)
        )
        application = result.application
        proofs = await ctx.proofs(session)
        owner = (
            result.created
            or proofs.is_valid(Purpose.CLIENT, application.number, claimed.token)
            or has_admin_key(ctx, request.headers.get("x-api-key"))
        )
        if not owner:
            return ApplicationAccepted(
                number=application.number, status=None, created=False, booking_id=None, session_start_at=None
            )
        booking = await applications.booking_of(session, application)
        proven = proofs.attach(Purpose.CLIENT, application.number)
        return ApplicationAccepted(
            number=application.number,
            status=application.status,
            created=result.created,
            booking_id=booking.id if booking else None,
            session_start_at=booking.start_at if booking else None,
            proof=proven if result.created else None,
            bot_link=f"https://t.me/{ctx.settings.bot_username}?start={proven}" if result.created else None,
        )


@router.get("/applications", dependencies=[Depends(require_admin)])
async def list_applications(
    request: Request,
    kind: ApplicationKind | None = None,
    status: ApplicationStatus | None = None,
    offset: Offset = 0,
    limit: int = Query(100, ge=1, le=500),
) -> list[ApplicationOut]:
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        found = await applications.list_applications(
            session, kind=kind, status=status, offset=offset, limit=limit
        )
        return [ApplicationOut.model_validate(a) for a in found]


@router.get("/applications/{number}", dependencies=[Depends(require_admin)])
async def get_application(number: str, request: Request) -> ApplicationOut:
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        found = await applications.details(session, number=number)
        out = ApplicationOut.model_validate(found.application)
    out.candidates = [
        CandidateOut(psychologist_id=c.psychologist_id, rank=c.rank, score=c.score, reason=c.reason)
        for c in found.candidates
    ]
    out.history = [HistoryOut(at=e.at, status=e.status, note=e.note) for e in found.history]
    return out


@router.post("/applications/{number}/automatch", dependencies=[Depends(require_admin)])
async def run_automatch(number: str, request: Request) -> ApplicationAccepted:
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        application = await applications.get_by_number(session, number)
        booking = await applications.automatch(
            session, application=application, now=ctx.now(), policy=_policy(ctx, staff=True)
        )
        return ApplicationAccepted(
            number=application.number,
            status=application.status,
            created=False,
            booking_id=booking.id if booking else None,
            session_start_at=booking.start_at if booking else None,
        )


@router.post("/matching/preview", dependencies=[Depends(require_admin)])
async def matching_preview(body: MatchingInput, request: Request) -> list[VerdictOut]:
    """Every active psychologist's verdict for this client, eligible first, with the reason."""
    ctx = context(request)
    client = ClientProfile(
        kind=body.kind,
        age=body.age,
        sex=body.sex,
        wanted_psychologist_sex=body.wanted_psychologist_sex,
        client_states=tuple(body.client_states),
        traumatic_events=tuple(body.traumatic_events),
        diagnoses=tuple(body.diagnoses),
        takes_medication=body.takes_medication,
        requests=tuple(body.requests),
        preferences=tuple(body.preferences),
        price_rub=body.price_rub,
    )
    async with ctx.unit_of_work(write=False) as session:
        verdicts = await matching.explain(
            session, client=client, now=ctx.now(), window_days=ctx.settings.schedule_window_days
        )
    return [
        VerdictOut(
            psychologist_id=v.psychologist_id,
            name=v.name,
            eligible=v.eligible,
            score=v.score,
            reason=v.reason,
        )
        for v in verdicts
    ]


async def _psychologist(
    ctx: AppContext,
    session: AsyncSession,
    request: Request,
    secret: str | None,
    psychologist_id: uuid.UUID | None,
) -> Psychologist | None:
    if secret and not request.headers.get("x-api-key"):
        return await psychologists.psychologist_by_secret(session, secret)
    await check_admin_key(ctx, request)
    if psychologist_id is not None:
        return await psychologists.get_psychologist(session, psychologist_id)
    return None


@router.get("/helpful-hand/tickets")
async def open_helpful_hand_tickets(
    request: Request,
    price: str | None = Query(default=None, description="'Бесплатно', '500 руб', … or 'Все'"),
    psychologist_id: uuid.UUID | None = None,
    x_api_key: str | None = Header(default=None),
    x_editor_secret: str | None = Header(default=None),
) -> list[OpenTicketOut]:
    """Open Helpful Hand applications: for a psychologist (X-Editor-Secret) only the clients
    they may take; for an administrator (X-API-Key) all, or those of `psychologist_id`."""
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        psychologist = await _psychologist(ctx, session, request, x_editor_secret, psychologist_id)
        tickets = await helpful_hand.list_open(
            session, psychologist=psychologist, price_filter=price, now=ctx.now()
        )
    return [OpenTicketOut(**t.__dict__) for t in tickets]


@router.post("/helpful-hand/tickets/{number}/claim")
async def claim_helpful_hand_ticket(
    number: str, request: Request, x_editor_secret: str | None = Header(default=None)
) -> ApplicationAccepted:
    """The psychologist (by their editor secret) takes the application; 409 if someone was first."""
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_secret(session, x_editor_secret)
        application = await helpful_hand.claim(
            session,
            psychologist=psychologist,
            number=number,
            now=ctx.now(),
            notice=await ctx.claim_notice(session),
        )
        return ApplicationAccepted(
            number=application.number,
            status=application.status,
            created=False,
            booking_id=None,
            session_start_at=None,
        )


@router.post(
    "/helpful-hand/tickets/{number}/booking", status_code=201, dependencies=[Depends(limited("writes"))]
)
async def book_helpful_hand_slot(
    number: str, body: HelpfulHandBooking, request: Request
) -> ApplicationAccepted:
    """The client books one of the claiming psychologist's slots, at least 24 h ahead. Only the
    client may: `number` with its proof (the link the service sent them), or the service key."""
    ctx = context(request)
    async with ctx.unit_of_work() as session:
        number = await client_number(ctx, session, request, number, field="number")
        booking = await helpful_hand.book(
            session,
            number=number,
            slot_ids=[body.slot_id],
            slot_strings=[],
            psychologist_name=None,
            time_zone_label=None,
            now=ctx.now(),
            ladder=ctx.ladder,
        )
        return ApplicationAccepted(
            number=number,
            status=ApplicationStatus.BOOKED,
            created=True,
            booking_id=booking.id,
            session_start_at=booking.start_at,
        )


@router.get("/analytics/funnel", dependencies=[Depends(require_admin)])
async def form_funnel(request: Request, form_type: str | None = None) -> Funnel:
    """How many form sessions reached each step (of one form type, or of all)."""
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        steps = await analytics.funnel(session, form_type=form_type)
    return Funnel(form_type=form_type, steps=[FunnelStepOut(step=s.step, sessions=s.sessions) for s in steps])
