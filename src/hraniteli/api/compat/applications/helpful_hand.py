"""Helpful Hand: a psychologist claims the application, the client books, the confirm page and lists."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from hraniteli.api.compat.common import json_response, read_body, text, webhook
from hraniteli.api.deps import check_admin_key, client_number, context
from hraniteli.applications import service as applications
from hraniteli.applications.forms import parse_form
from hraniteli.errors import DomainError, InvalidInput, NotFound
from hraniteli.helpful_hand import service as helpful_hand
from hraniteli.kit.proof import Purpose, split
from hraniteli.models import ApplicationKind

router = APIRouter()


@webhook(router, "confirm-help-hand-by-psychologist", ["POST"], limit="writes")
async def confirm_help_hand_by_psychologist(request: Request) -> Response:
    """The psychologist takes the application: `{}` on success, `{"error": text}` otherwise (HTTP 200).

    Only that psychologist may: the `telegram_id` of the link the service sent them carries
    their proof (`<telegram id>-<token>`), or the body carries their editor `secret`.
    """
    ctx = context(request)
    payload = await read_body(request)
    claimed = split(text(payload.get("telegram_id")))
    try:
        async with ctx.unit_of_work() as session:
            psychologist = await helpful_hand.claimant(
                session,
                proofs=await ctx.proofs(session),
                telegram_id=claimed.ref,
                token=claimed.token,
                editor_secret=text(payload.get("secret")) or None,
            )
            await helpful_hand.claim(
                session,
                psychologist=psychologist,
                number=text(payload.get("link_id")),
                now=ctx.now(),
                notice=await ctx.claim_notice(session),
            )
    except (DomainError, InvalidInput) as exc:
        message = exc.message
        if isinstance(exc, NotFound):
            message = "Заявка не найдена. Проверьте ссылку или напишите администратору."
        return json_response({"error": message})
    return json_response({})


@webhook(router, "check-allotment-for-slot-confirmation", ["GET"], limit="lookups")
async def check_allotment_for_slot_confirmation(request: Request) -> Response:
    ctx = context(request)
    number = split(text(request.query_params.get("ticket_id"))).ref
    async with ctx.unit_of_work(write=False) as session:
        try:
            allowed = await helpful_hand.is_allowed(session, number=number)
        except (NotFound, InvalidInput):
            allowed = False
    return json_response({"is_allowed": allowed})


async def _book_helpful_hand(request: Request) -> Response:
    """Only the client books: the `ticket_id` of the link the service sent them (when the
    psychologist took the application) carries the proof."""
    ctx = context(request)
    payload = await read_body(request)
    form = parse_form(payload)
    psychologist_name = form.raw.get("utm_psy") or (
        form.wanted_psychologists[0] if form.wanted_psychologists else None
    )
    async with ctx.unit_of_work() as session:
        number = await client_number(ctx, session, request, payload.get("ticket_id"), field="ticket_id")
        booking = await helpful_hand.book(
            session,
            number=number,
            slot_ids=form.chosen_slot_ids,
            slot_strings=form.chosen_slots,
            psychologist_name=text(psychologist_name) or None,
            time_zone_label=form.time_zone_label,
            now=ctx.now(),
            ladder=ctx.ladder,
        )
        booking_id = booking.id
    return json_response({"success": True, "booking_id": str(booking_id)})


@webhook(router, "helpful-hand-zayavka-new", ["POST"], limit="writes")
async def helpful_hand_zayavka_new(request: Request) -> Response:
    """The client books the claiming psychologist's slot (by slot UUID); HTTP 200 on success."""
    return await _book_helpful_hand(request)


@webhook(router, "helpful-hand-zayavka", ["POST"], limit="writes")
async def helpful_hand_zayavka(request: Request) -> Response:
    return await _book_helpful_hand(request)


@webhook(router, "get-ticket-info", ["GET", "POST"], limit="lookups")
async def get_ticket_info(request: Request) -> Response:
    """What the Helpful Hand confirm page needs: the price category, and nothing else unless the
    number carries the client's proof (the link the service sent them): then also the status,
    the psychologist and the session time."""
    ctx = context(request)
    payload = await read_body(request)
    value = text(payload.get("ticket_id")) or text(payload.get("link_id")) or text(payload.get("client_id"))
    async with ctx.unit_of_work(write=False) as session:
        proven = (await ctx.proofs(session)).proven(Purpose.CLIENT, value)
        number = proven or split(value).ref
        view = await applications.ticket_view(session, await applications.get_by_number(session, number))
    application, booking = view.application, view.booking
    if proven is None:
        public = {
            "id": application.number,
            "ticket_id": application.number,
            "psychologist_price": application.price_category,
        }
        return json_response({**public, "ticket": public})
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
    await check_admin_key(ctx, request)
    payload = await read_body(request)
    telegram_id = text(payload.get("telegram_id")) or None
    async with ctx.unit_of_work(write=False) as session:
        tickets = await helpful_hand.list_open_for_telegram(
            session,
            telegram_id=telegram_id,
            price_filter=text(payload.get("price")) or None,
            now=ctx.now(),
        )
        # the link the bot gives this psychologist to take a ticket, with their proof in it
        claim_as = (
            await helpful_hand.claim_parameter(
                session, proofs=await ctx.proofs(session), telegram_id=telegram_id
            )
            if telegram_id
            else None
        )
    claim_url = ctx.settings.helpful_hand_claim_url
    return json_response(
        {
            "tickets": [
                {
                    "link_id": t.number,
                    "confirm_link": (
                        f"{claim_url}?{urlencode({'telegram_id': claim_as, 'link_id': t.number})}"
                        if claim_as
                        else None
                    ),
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
    await check_admin_key(ctx, request)
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
