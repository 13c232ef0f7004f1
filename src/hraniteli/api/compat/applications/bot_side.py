"""Bot/admin side (admin key): automatch, manual assignment, hand-offs, status changes, quota left."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.api.compat.applications._common import intake_policy
from hraniteli.api.compat.common import json_response, obj, read_body, text, webhook
from hraniteli.api.deps import AppContext, check_admin_key, context
from hraniteli.applications import service as applications
from hraniteli.applications.forms import as_list, parse_form
from hraniteli.errors import Conflict, InvalidInput
from hraniteli.helpful_hand import service as helpful_hand
from hraniteli.matching import service as matching
from hraniteli.models import Application, ApplicationStatus, Booking
from hraniteli.psychologists import service as psychologists

router = APIRouter()


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
        session, number=number, form=form, now=ctx.now(), policy=intake_policy(ctx, staff=True)
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
        policy=intake_policy(ctx, staff=True),
    )


@webhook(router, "automatch", ["POST"])
async def automatch(request: Request) -> Response:
    ctx = context(request)
    await check_admin_key(ctx, request)
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
    await check_admin_key(ctx, request)
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
    await check_admin_key(ctx, request)
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
    await check_admin_key(ctx, request)
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
    await check_admin_key(ctx, request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_name(
            session, text(payload.get("psychologist_name"))
        )
        await helpful_hand.claim(
            session,
            psychologist=psychologist,
            number=text(payload.get("ticket_id")),
            now=ctx.now(),
            notice=await ctx.claim_notice(session),
        )
    return json_response({"success": True, "message": f"Заявку взял(а) {psychologist.name}"})


STATUS_ALIASES = {"new": "new", "confirmed": "booked", "rejected": "cancelled", "closed": "closed"}


@webhook(router, "update-ticket-status", ["POST"])
async def update_ticket_status(request: Request) -> Response:
    ctx = context(request)
    await check_admin_key(ctx, request)
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
    await check_admin_key(ctx, request)
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
