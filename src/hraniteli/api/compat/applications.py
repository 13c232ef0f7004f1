"""Legacy application webhooks: intake forms, Helpful Hand, automatch and hand-offs, re-booking."""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.analytics import service as analytics
from hraniteli.api.compat.common import json_response, obj, read_body, text, webhook
from hraniteli.api.deps import AppContext, check_admin_key, context
from hraniteli.applications import rebooking
from hraniteli.applications import service as applications
from hraniteli.applications.forms import as_list, clean, parse_form
from hraniteli.errors import Conflict, DomainError, InvalidInput, NotFound
from hraniteli.helpful_hand import service as helpful_hand
from hraniteli.matching import service as matching
from hraniteli.models import Application, ApplicationKind, ApplicationStatus, Booking
from hraniteli.psychologists import service as psychologists

router = APIRouter(tags=["compat: applications"])

OK = {"success": True}


def intake_policy(ctx: AppContext) -> applications.IntakePolicy:
    return applications.IntakePolicy(
        window_days=ctx.settings.schedule_window_days,
        min_lead=timedelta(minutes=ctx.settings.min_booking_lead_minutes),
        ladder=ctx.ladder,
    )


def new_number(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(7))


async def _submit(request: Request, kind: ApplicationKind) -> Response:
    ctx = context(request)
    form = parse_form(await read_body(request))
    async with ctx.unit_of_work() as session:
        result = await applications.submit(
            session, form=form, kind=form.kind_for(kind), now=ctx.now(), policy=intake_policy(ctx)
        )
        number = result.application.number
    return json_response({"success": True, "ticket_id": number})


@webhook(router, "tilda-zayavka", ["POST"])
async def tilda_zayavka(request: Request) -> Response:
    """The main application (matching form, card form, catalogue contact stage)."""
    return await _submit(request, ApplicationKind.MATCHING)


@webhook(router, "tilda-zayavka-diagnostic-v2", ["POST"])
async def tilda_zayavka_diagnostic_v2(request: Request) -> Response:
    return await _submit(request, ApplicationKind.DIAGNOSTIC)


@webhook(router, "tilda-zayavka-diagnostic", ["POST"])
async def tilda_zayavka_diagnostic(request: Request) -> Response:
    return await _submit(request, ApplicationKind.DIAGNOSTIC)


@webhook(router, "register-ticket-for-help-hand", ["POST"])
async def register_ticket_for_help_hand(request: Request) -> Response:
    return await _submit(request, ApplicationKind.HELPFUL_HAND)


@webhook(router, "submit-application", ["POST"])
async def submit_application(request: Request) -> Response:
    """Seed 002's application shape: {name, age, contact:{type,value}, selected_slots, preferences}."""
    ctx = context(request)
    payload = await read_body(request)
    contact = obj(payload, "contact")
    preferences = obj(payload, "preferences")
    flat = {
        "ticket_id": text(payload.get("ticket_id")) or new_number(""),
        "name": payload.get("name"),
        "age": payload.get("age"),
        "contactType": contact.get("type"),
        "contact": contact.get("value"),
        "slots": payload.get("selected_slots") or [],
        "sexPsycho": preferences.get("gender"),
        "questions": preferences.get("specializations") or [],
        "categoryType": preferences.get("price_max"),
    }
    form = parse_form(flat)
    async with ctx.unit_of_work() as session:
        result = await applications.submit(
            session, form=form, kind=ApplicationKind.MATCHING, now=ctx.now(), policy=intake_policy(ctx)
        )
        number = result.application.number
    return json_response({"success": True, "ticket_id": number})


@webhook(router, "diagnostic-session-request", ["POST"])
async def diagnostic_session_request(request: Request) -> Response:
    """Seed 002: {client_name, client_phone, client_telegram, client_email, request_text, utm}."""
    ctx = context(request)
    payload = await read_body(request)
    utm = obj(payload, "utm")
    contact_type, contact = next(
        (
            (kind, text(payload.get(key)))
            for kind, key in (
                ("Telegram", "client_telegram"),
                ("Phone", "client_phone"),
                ("Email", "client_email"),
            )
            if text(payload.get(key))
        ),
        (None, None),
    )
    if not contact:
        raise InvalidInput(
            "a contact (telegram, phone or email) is required", details=[{"field": "client_telegram"}]
        )
    form = parse_form(
        {
            "ticket_id": text(payload.get("ticket_id")) or new_number("ds_"),
            "name": payload.get("client_name"),
            "contactType": contact_type,
            "contact": contact,
            "questions": [text(payload.get("request_text"))] if text(payload.get("request_text")) else [],
            **{f"utm_{key}": value for key, value in utm.items() if isinstance(key, str)},
        }
    )
    async with ctx.unit_of_work() as session:
        result = await applications.submit(
            session, form=form, kind=ApplicationKind.DIAGNOSTIC, now=ctx.now(), policy=intake_policy(ctx)
        )
        number = result.application.number
    return json_response({"success": True, "message": "Заявка на диагностику принята", "ticket_id": number})


@webhook(router, "process-diagnostic-session-request", ["POST"])
async def process_diagnostic_session_request(request: Request) -> Response:
    """Book a diagnostic slot for an application: {client_id (number), psychologist_id, slot_id}."""
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    payload = await read_body(request)
    try:
        slot_id = uuid.UUID(text(payload.get("slot_id")))
    except ValueError as exc:
        raise InvalidInput("`slot_id` must be a slot UUID", details=[{"field": "slot_id"}]) from exc
    async with ctx.unit_of_work() as session:
        application = await applications.get_by_number(session, text(payload.get("client_id")))
        application.chosen_slot_ids = [str(slot_id)]
        booking = await applications.automatch(
            session, application=application, now=ctx.now(), policy=intake_policy(ctx), names=[]
        )
        if booking is None:
            raise Conflict(application.result_reason or "the slot could not be booked")
        booking_id = booking.id
    return json_response({"success": True, "booking_id": str(booking_id)})


# --- research questionnaire -----------------------------------------------------------------


@webhook(router, "research-tilda-zayavka", ["POST"])
async def research_tilda_zayavka(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        row = await analytics.save_research(session, raw=payload, now=ctx.now())
        row_id = row.id
    return json_response({"success": True, "rowId": row_id, "baserowId": row_id})


@webhook(router, "get-sheets-row-number", ["GET", "POST"])
async def get_sheets_row_number(request: Request) -> Response:
    """The newest research row (the page asks right after sending its questionnaire)."""
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        row_id = await analytics.latest_research_row(session)
    return json_response({"rowId": row_id, "baserowId": row_id, "row": row_id})


@webhook(router, "update-contacts-stb", ["PUT", "POST"])
async def update_contacts_stb(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    row = clean(payload.get("bid")) or clean(payload.get("rid"))
    async with ctx.unit_of_work() as session:
        await analytics.update_research_contacts(
            session,
            row_id=int(row) if row.isdigit() else None,
            contact_type=clean(payload.get("contactType")) or None,
            contact=clean(payload.get("contact")) or None,
            name=clean(payload.get("name")) or None,
            application_number=clean(payload.get("ticket_id")) or None,
            now=ctx.now(),
        )
    return json_response(OK)


# --- form analytics ---------------------------------------------------------------------------


@webhook(router, "init-form-tracking", ["POST", "PUT"])
async def init_form_tracking(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        await analytics.start_form(
            session,
            number=payload.get("ticket_id"),
            form_type=payload.get("form_type"),
            step=payload.get("step"),
            now=ctx.now(),
        )
    return json_response(OK)


@webhook(router, "update-tracking-step", ["PUT", "POST"])
async def update_tracking_step(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        await analytics.reach_step(
            session, number=payload.get("ticket_id"), step=payload.get("step"), now=ctx.now()
        )
    return json_response(OK)


@webhook(router, "step-analytics", ["PUT", "POST"])
async def step_analytics(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        await analytics.record_answer(
            session,
            number=payload.get("ticketID") or payload.get("ticket_id"),
            field=payload.get("field"),
            value=payload.get("value"),
            now=ctx.now(),
        )
    return json_response(OK)


@webhook(router, "update-tracker", ["PUT", "POST"])
async def update_tracker(request: Request) -> Response:
    """Legacy: the whole form at the slots step; kept as the `form_snapshot` answer."""
    ctx = context(request)
    payload = await read_body(request)
    form = obj(payload, "form")
    async with ctx.unit_of_work() as session:
        await analytics.record_answer(
            session,
            number=payload.get("ticket_id") or form.get("ticket_id"),
            field="form_snapshot",
            value={"form": form, "formPsyClientInfo": payload.get("formPsyClientInfo")},
            now=ctx.now(),
        )
    return json_response(OK)


@webhook(router, "update-analytics-before-slots", ["PUT", "POST"])
async def update_analytics_before_slots(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    form = obj(payload, "form")
    number = payload.get("ticket_id") or form.get("ticket_id")
    async with ctx.unit_of_work() as session:
        await analytics.record_before_slots(
            session,
            number=number,
            snapshot={"form": form, "formPsyClientInfo": payload.get("formPsyClientInfo")},
            now=ctx.now(),
        )
    return json_response(OK)


# --- Helpful Hand ---------------------------------------------------------------------------


@webhook(router, "confirm-help-hand-by-psychologist", ["POST", "GET"])
async def confirm_help_hand_by_psychologist(request: Request) -> Response:
    """The psychologist takes the application: `{}` on success, `{"error": text}` otherwise (HTTP 200)."""
    ctx = context(request)
    payload = await read_body(request)
    try:
        async with ctx.unit_of_work() as session:
            await helpful_hand.claim_by_telegram(
                session,
                telegram_id=text(payload.get("telegram_id")),
                number=text(payload.get("link_id")),
                now=ctx.now(),
            )
    except (DomainError, InvalidInput) as exc:
        message = exc.message
        if isinstance(exc, NotFound):
            message = "Заявка не найдена. Проверьте ссылку или напишите администратору."
        return json_response({"error": message})
    return json_response({})


@webhook(router, "check-allotment-for-slot-confirmation", ["GET"])
async def check_allotment_for_slot_confirmation(request: Request) -> Response:
    ctx = context(request)
    number = text(request.query_params.get("ticket_id"))
    async with ctx.unit_of_work(write=False) as session:
        try:
            allowed = await helpful_hand.is_allowed(session, number=number)
        except (NotFound, InvalidInput):
            allowed = False
    return json_response({"is_allowed": allowed})


async def _book_helpful_hand(request: Request) -> Response:
    ctx = context(request)
    form = parse_form(await read_body(request))
    if not form.number:
        raise InvalidInput(
            "the application number (`ticket_id`) is missing", details=[{"field": "ticket_id"}]
        )
    psychologist_name = form.raw.get("utm_psy") or (
        form.wanted_psychologists[0] if form.wanted_psychologists else None
    )
    async with ctx.unit_of_work() as session:
        booking = await helpful_hand.book(
            session,
            number=form.number,
            slot_ids=form.chosen_slot_ids,
            slot_strings=form.chosen_slots,
            psychologist_name=text(psychologist_name) or None,
            time_zone_label=form.time_zone_label,
            now=ctx.now(),
            ladder=ctx.ladder,
        )
        booking_id = booking.id
    return json_response({"success": True, "booking_id": str(booking_id)})


@webhook(router, "helpful-hand-zayavka-new", ["POST"])
async def helpful_hand_zayavka_new(request: Request) -> Response:
    """The client books the claiming psychologist's slot (by slot UUID); HTTP 200 on success."""
    return await _book_helpful_hand(request)


@webhook(router, "helpful-hand-zayavka", ["POST"])
async def helpful_hand_zayavka(request: Request) -> Response:
    return await _book_helpful_hand(request)


@webhook(router, "get-ticket-info", ["GET", "POST"])
async def get_ticket_info(request: Request) -> Response:
    """What the Helpful Hand confirm page needs: the price category (no personal data)."""
    ctx = context(request)
    payload = await read_body(request)
    number = text(payload.get("ticket_id")) or text(payload.get("link_id")) or text(payload.get("client_id"))
    async with ctx.unit_of_work(write=False) as session:
        view = await applications.ticket_view(session, await applications.get_by_number(session, number))
    application, booking = view.application, view.booking
    ticket = {
        "id": application.number,
        "ticket_id": application.number,
        "status": application.status,
        "is_helpful_hand": application.kind == ApplicationKind.HELPFUL_HAND,
        "psychologist_price": application.price_category,
        "psychologist_name": view.psychologist.name if view.psychologist else None,
        "slot_time": booking.start_at.isoformat() if booking else None,
        "created_at": application.created_at.isoformat(),
        "updated_at": application.updated_at.isoformat(),
    }
    return json_response({**ticket, "ticket": ticket})


@webhook(router, "get-help-hand-tickets", ["POST", "GET"])
async def get_help_hand_tickets(request: Request) -> Response:
    """Open Helpful Hand applications a psychologist may take (bot side: admin key)."""
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    payload = await read_body(request)
    async with ctx.unit_of_work(write=False) as session:
        tickets = await helpful_hand.list_open_for_telegram(
            session,
            telegram_id=text(payload.get("telegram_id")) or None,
            price_filter=text(payload.get("price")) or None,
            now=ctx.now(),
        )
    return json_response(
        {
            "tickets": [
                {
                    "link_id": t.number,
                    "price": t.price_category,
                    "client_age": t.client_age,
                    "client_sex": t.client_sex,
                    "client_state": t.client_states,
                    "traumatic_events": t.traumatic_events,
                    "has_diagnosis": t.has_diagnosis,
                    "created_at": t.created_at.isoformat(),
                }
                for t in tickets
            ]
        }
    )


@webhook(router, "get-helpful-hand-tickets", ["GET", "POST"])
async def get_helpful_hand_tickets(request: Request) -> Response:
    """Seed 000: every Helpful Hand application for administrators (admin key)."""
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    async with ctx.unit_of_work(write=False) as session:
        views = await applications.ticket_views(session, kind=ApplicationKind.HELPFUL_HAND)
    return json_response({"tickets": [_seed_ticket(view) for view in views]})


def _seed_ticket(view: applications.TicketView) -> dict[str, Any]:
    application, psychologist, booking = view.application, view.psychologist, view.booking
    contact_type = (application.contact_type or "").lower()
    return {
        "id": application.number,
        "client_name": application.client_name,
        "client_phone": application.contact if contact_type in ("phone", "whatsapp") else None,
        "client_telegram": application.contact if contact_type == "telegram" else None,
        "client_email": application.contact if contact_type == "email" else None,
        "request_text": "; ".join(application.requests),
        "status": application.status,
        "price": application.price_category,
        "created_at": application.created_at.isoformat(),
        "updated_at": application.updated_at.isoformat(),
        "psychologist_name": psychologist.name if psychologist else None,
        "slot_time": booking.start_at.isoformat() if booking else None,
    }


# --- bot/admin side: automatch and hand-offs ---------------------------------------------------


def _ticket_info(payload: dict[str, Any]) -> dict[str, Any]:
    for key in ("ticket_info", "tiket_info"):
        value = payload.get(key)
        if isinstance(value, dict):
            return value
    return {}


async def _application_for(ctx: AppContext, session: AsyncSession, payload: dict[str, Any]) -> Application:
    """The application a bot-side call names (`ticket_id` or `ticket_info`), new ones submitted."""
    info = _ticket_info(payload)
    number = (
        text(payload.get("ticket_id"))
        or text(info.get("ticket_id"))
        or text(info.get("number"))
        or text(info.get("id"))
    )
    if not number:
        raise InvalidInput(
            "name the application: `ticket_id` or `ticket_info.ticket_id`", details=[{"field": "ticket_id"}]
        )
    form = parse_form({**obj(payload, "client_info"), **info, "ticket_id": number}) if info else None
    return await applications.get_or_submit(
        session, number=number, form=form, now=ctx.now(), policy=intake_policy(ctx)
    )


async def _automatch(
    ctx: AppContext,
    session: AsyncSession,
    application: Application,
    names: list[str],
    slots: list[str],
    slot_ids: list[str],
) -> Booking | None:
    return await applications.rematch(
        session,
        application=application,
        names=names,
        slots=slots,
        slot_ids=slot_ids,
        now=ctx.now(),
        policy=intake_policy(ctx),
    )


@webhook(router, "automatch", ["POST"])
async def automatch(request: Request) -> Response:
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        application = await _application_for(ctx, session, payload)
        booking = await _automatch(
            ctx,
            session,
            application,
            as_list(payload.get("psychologists"), ";,"),
            as_list(payload.get("slots"), ";"),
            as_list(payload.get("slots_id"), ";,"),
        )
        body = {
            "success": booking is not None,
            "ticket_id": application.number,
            "status": application.status,
            "assigned_psychologist": await applications.assigned_name(session, booking),
            "slot_id": str(booking.slot_id) if booking else None,
            "reason": application.result_reason,
        }
    return json_response(body)


@webhook(router, "auto-assign-psychologist", ["POST"])
async def auto_assign_psychologist(request: Request) -> Response:
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        application = await _application_for(ctx, session, payload)
        booking = await _automatch(
            ctx,
            session,
            application,
            as_list(payload.get("psychologist_list"), ";,"),
            as_list(payload.get("slot_time"), ";"),
            [],
        )
        assigned = await applications.assigned_name(session, booking)
        reason = application.result_reason or ""
    return json_response(
        {"success": booking is not None, "message": reason, "assigned_psychologist": assigned}
    )


@webhook(router, "assign-psychologist", ["POST"])
async def assign_psychologist(request: Request) -> Response:
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    payload = await read_body(request)
    name = " ".join(text(payload.get("psychologist_name")).split())
    if not name:
        raise InvalidInput("`psychologist_name` is required", details=[{"field": "psychologist_name"}])
    async with ctx.unit_of_work() as session:
        await psychologists.psychologist_by_name(session, name)
        application = await _application_for(ctx, session, payload)
        booking = await _automatch(
            ctx, session, application, [name], as_list(payload.get("slot_time"), ";"), []
        )
        if booking is None:
            raise Conflict(application.result_reason or "the slot could not be booked")
    return json_response({"success": True, "message": f"Клиент записан к {name}"})


@webhook(router, "send-ticket-data-to-admin", ["POST"])
async def send_ticket_data_to_admin(request: Request) -> Response:
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        application = await _application_for(ctx, session, payload)
        note = "передано администратору"
        wanted = as_list(payload.get("psychologists"), ";,")
        slots = as_list(payload.get("slots"), ";")
        if wanted or slots:
            note += f": психологи {', '.join(wanted) or '—'}; время {', '.join(slots) or '—'}"
        await applications.hand_off_to_admin(session, application=application, now=ctx.now(), note=note)
    return json_response({"success": True, "message": "Заявка передана администратору"})


@webhook(router, "confirm-ticket", ["POST"])
async def confirm_ticket(request: Request) -> Response:
    """Seed 000: a psychologist (by name) takes a Helpful Hand application."""
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_name(
            session, text(payload.get("psychologist_name"))
        )
        await helpful_hand.claim(
            session, psychologist=psychologist, number=text(payload.get("ticket_id")), now=ctx.now()
        )
    return json_response({"success": True, "message": f"Заявку взял(а) {psychologist.name}"})


STATUS_ALIASES = {"new": "new", "confirmed": "booked", "rejected": "cancelled", "closed": "closed"}


@webhook(router, "update-ticket-status", ["POST"])
async def update_ticket_status(request: Request) -> Response:
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    payload = await read_body(request)
    raw = text(payload.get("status")).lower()
    try:
        status = ApplicationStatus(STATUS_ALIASES.get(raw, raw))
    except ValueError as exc:
        allowed = ", ".join(s.value for s in ApplicationStatus)
        raise InvalidInput(f"unknown status; use one of: {allowed}", details=[{"field": "status"}]) from exc
    async with ctx.unit_of_work() as session:
        application = await applications.get_by_number(session, text(payload.get("ticket_id")))
        await applications.set_status(
            session, application=application, status=status, now=ctx.now(), note="статус изменён вручную"
        )
    return json_response({"success": True, "message": f"Статус: {status.value}"})


@webhook(router, "get-assigment-coeff", ["GET"])
async def get_assigment_coeff(request: Request) -> Response:
    """Sessions left to assign this month: debt − provided − booked from today to month end."""
    ctx = context(request)
    check_admin_key(ctx, request.headers.get("x-api-key"))
    name = text(request.query_params.get("psychologist_name")) or text(
        request.query_params.get("psychologist")
    )
    async with ctx.unit_of_work(write=False) as session:
        psychologist = await psychologists.psychologist_by_name(session, name)
        booked = (
            await matching.booked_until_month_end(session, now=ctx.now(), psychologist_ids=[psychologist.id])
        ).get(psychologist.id, 0)
    return json_response(
        {
            "psychologist_name": psychologist.name,
            "coefficient": matching.quota_left(psychologist, booked),
            "debt": psychologist.debt,
            "number_of_clients_provided": psychologist.sessions_provided,
            "booked_until_month_end": booked,
        }
    )


# --- re-booking ---------------------------------------------------------------------------------


@webhook(router, "get-ticket-info-for-reassigment-without-schedule", ["GET"])
async def get_ticket_info_for_reassignment_without_schedule(request: Request) -> Response:
    """The previous answers the re-booking page joins into `_queries` (and nothing more)."""
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        application = await applications.get_by_number(session, text(request.query_params.get("lead_number")))
    form = {
        "question_to_psychologist": "; ".join(application.requests),
        "traumaticEvents": list(application.traumatic_events),
        "clientStates": list(application.client_states),
        "diagnoses": list(application.diagnoses),
    }
    return json_response({"form": form, "lead_number": application.number})


@webhook(router, "reassign", ["POST"])
async def reassign(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        result = await rebooking.reassign(
            session,
            lead_number=text(payload.get("lead_number")),
            psychologists=payload.get("filtered_psychologists"),
            slots=payload.get("slots"),
            queries=payload.get("_queries"),
            now=ctx.now(),
            policy=intake_policy(ctx),
        )
        body = {"success": True, "ticket_id": result.application.number, "status": result.application.status}
    return json_response(body)
