"""Intake: the Tilda forms, seed 002's application and diagnostic shapes, diagnostic booking."""

from __future__ import annotations

import secrets
import string
import uuid

from fastapi import APIRouter, Request, Response

from hraniteli.api.compat.applications._common import intake_policy
from hraniteli.api.compat.common import json_response, obj, read_body, text, webhook
from hraniteli.api.deps import check_admin_key, context, limit_contact
from hraniteli.applications import service as applications
from hraniteli.applications.forms import parse_form
from hraniteli.errors import Conflict, InvalidInput
from hraniteli.models import ApplicationKind

router = APIRouter()


def new_number(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(7))


async def _submit(request: Request, kind: ApplicationKind) -> Response:
    ctx = context(request)
    form = parse_form(await read_body(request))
    await limit_contact(ctx, form.contact_type, form.contact)
    async with ctx.unit_of_work() as session:
        result = await applications.submit(
            session, form=form, kind=form.kind_for(kind), now=ctx.now(), policy=intake_policy(ctx)
        )
        number = result.application.number
    return json_response({"success": True, "ticket_id": number})


@webhook(router, "tilda-zayavka", ["POST"], limit="writes")
async def tilda_zayavka(request: Request) -> Response:
    """The main application (matching form, card form, catalogue contact stage)."""
    return await _submit(request, ApplicationKind.MATCHING)


@webhook(router, "tilda-zayavka-diagnostic-v2", ["POST"], limit="writes")
async def tilda_zayavka_diagnostic_v2(request: Request) -> Response:
    return await _submit(request, ApplicationKind.DIAGNOSTIC)


@webhook(router, "tilda-zayavka-diagnostic", ["POST"], limit="writes")
async def tilda_zayavka_diagnostic(request: Request) -> Response:
    return await _submit(request, ApplicationKind.DIAGNOSTIC)


@webhook(router, "register-ticket-for-help-hand", ["POST"], limit="writes")
async def register_ticket_for_help_hand(request: Request) -> Response:
    return await _submit(request, ApplicationKind.HELPFUL_HAND)


@webhook(router, "submit-application", ["POST"], limit="writes")
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
    await limit_contact(ctx, form.contact_type, form.contact)
    async with ctx.unit_of_work() as session:
        result = await applications.submit(
            session, form=form, kind=ApplicationKind.MATCHING, now=ctx.now(), policy=intake_policy(ctx)
        )
        number = result.application.number
    return json_response({"success": True, "ticket_id": number})


@webhook(router, "diagnostic-session-request", ["POST"], limit="writes")
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
    await limit_contact(ctx, contact_type, contact)
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
    await check_admin_key(ctx, request)
    payload = await read_body(request)
    try:
        slot_id = uuid.UUID(text(payload.get("slot_id")))
    except ValueError as exc:
        raise InvalidInput("`slot_id` must be a slot UUID", details=[{"field": "slot_id"}]) from exc
    async with ctx.unit_of_work() as session:
        application = await applications.get_by_number(session, text(payload.get("client_id")))
        application.chosen_slot_ids = [str(slot_id)]
        booking = await applications.automatch(
            session, application=application, now=ctx.now(), policy=intake_policy(ctx, staff=True), names=[]
        )
        if booking is None:
            raise Conflict(application.result_reason or "the slot could not be booked")
        booking_id = booking.id
    return json_response({"success": True, "booking_id": str(booking_id)})
