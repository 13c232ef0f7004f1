"""Research questionnaire and form-funnel tracking: what the pages record besides the application."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hraniteli.analytics import service as analytics
from hraniteli.api.compat.common import json_response, obj, read_body, webhook
from hraniteli.api.deps import context
from hraniteli.applications.forms import clean

router = APIRouter()

OK = {"success": True}


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
