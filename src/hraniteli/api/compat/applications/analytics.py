"""Research questionnaire and form-funnel tracking: what the pages record besides the application."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hraniteli.analytics import service as analytics
from hraniteli.api.compat.common import json_response, obj, read_body, text, webhook
from hraniteli.api.deps import LINK_REFUSED, client_address, context, proven_ref
from hraniteli.applications.forms import clean
from hraniteli.errors import NotFound
from hraniteli.kit.proof import Proofs, Purpose, split

router = APIRouter()

OK = {"success": True}


# --- research questionnaire -----------------------------------------------------------------


@webhook(router, "research-tilda-zayavka", ["POST"], limit="writes")
async def research_tilda_zayavka(request: Request) -> Response:
    """Anyone may send a questionnaire; the row numbers come back with their proof, so only the
    sender can later put a contact on the row (`update-contacts-stb`)."""
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        proofs = await ctx.proofs(session)
        row = await analytics.save_research(
            session, raw=payload, submitter_key=_submitter(proofs, request), now=ctx.now()
        )
        row_ref = proofs.attach(Purpose.RESEARCH, str(row.id))
    return json_response({"success": True, "rowId": row_ref, "baserowId": row_ref})


@webhook(router, "get-sheets-row-number", ["GET", "POST"], limit="lookups")
async def get_sheets_row_number(request: Request) -> Response:
    """The caller's own newest research row (the page asks right after sending its questionnaire
    and identifies itself no other way, so the row is found by the sender's address); nulls when
    they sent none in the last hour, and the page then skips `update-contacts-stb`."""
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        proofs = await ctx.proofs(session)
        row_id = await analytics.latest_research_row(
            session, submitter_key=_submitter(proofs, request), now=ctx.now()
        )
    row_ref = proofs.attach(Purpose.RESEARCH, str(row_id)) if row_id else None
    return json_response({"rowId": row_ref, "baserowId": row_ref, "row": row_ref})


@webhook(router, "update-contacts-stb", ["PUT", "POST"], limit="writes")
async def update_contacts_stb(request: Request) -> Response:
    """The contact for the sender's own research row: `bid`/`rid` as `research-tilda-zayavka`
    answered them (with proof). Any other row number is refused like an unknown one (404)."""
    ctx = context(request)
    payload = await read_body(request)
    field = "bid" if text(payload.get("bid")) else "rid"
    async with ctx.unit_of_work() as session:
        row = await proven_ref(
            ctx, session, request, payload.get(field), purpose=Purpose.RESEARCH, field=field
        )
        if not row.isascii() or not row.isdigit() or len(row) > 10:
            raise NotFound(LINK_REFUSED, details=[{"field": field}])
        await analytics.update_research_contacts(
            session,
            row_id=int(row),
            contact_type=clean(payload.get("contactType")) or None,
            contact=clean(payload.get("contact")) or None,
            name=clean(payload.get("name")) or None,
            application_number=split(clean(payload.get("ticket_id"))).ref or None,
            now=ctx.now(),
        )
    return json_response(OK)


def _submitter(proofs: Proofs, request: Request) -> str:
    """The sender's address as a keyed hash: enough to recognise them within the hour, not stored raw."""
    return proofs.keyed_hash("address", client_address(request))


def _number(value: object) -> object:
    """A form number as the pages send it; the re-booking page sends its proven `lead_number`."""
    return split(value).ref if isinstance(value, str) else value


# --- form analytics ---------------------------------------------------------------------------


@webhook(router, "init-form-tracking", ["POST", "PUT"], limit="tracking")
async def init_form_tracking(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        await analytics.start_form(
            session,
            number=_number(payload.get("ticket_id")),
            form_type=payload.get("form_type"),
            step=payload.get("step"),
            now=ctx.now(),
        )
    return json_response(OK)


@webhook(router, "update-tracking-step", ["PUT", "POST"], limit="tracking")
async def update_tracking_step(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    number = _number(payload.get("ticket_id"))
    if not text(number):
        # the emergency page reports its steps without a number: nothing to count, as it expects
        return json_response(OK)
    async with ctx.unit_of_work() as session:
        await analytics.reach_step(session, number=number, step=payload.get("step"), now=ctx.now())
    return json_response(OK)


@webhook(router, "step-analytics", ["PUT", "POST"], limit="tracking")
async def step_analytics(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        await analytics.record_answer(
            session,
            number=_number(payload.get("ticketID") or payload.get("ticket_id")),
            field=payload.get("field"),
            value=payload.get("value"),
            now=ctx.now(),
        )
    return json_response(OK)


@webhook(router, "update-tracker", ["PUT", "POST"], limit="tracking")
async def update_tracker(request: Request) -> Response:
    """Legacy: the whole form at the slots step; kept as the `form_snapshot` answer."""
    ctx = context(request)
    payload = await read_body(request)
    form = obj(payload, "form")
    async with ctx.unit_of_work() as session:
        await analytics.record_answer(
            session,
            number=_number(payload.get("ticket_id") or form.get("ticket_id")),
            field="form_snapshot",
            value={"form": form, "formPsyClientInfo": payload.get("formPsyClientInfo")},
            now=ctx.now(),
        )
    return json_response(OK)


@webhook(router, "update-analytics-before-slots", ["PUT", "POST"], limit="tracking")
async def update_analytics_before_slots(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    form = obj(payload, "form")
    number = _number(payload.get("ticket_id") or form.get("ticket_id"))
    async with ctx.unit_of_work() as session:
        await analytics.record_before_slots(
            session,
            number=number,
            snapshot={"form": form, "formPsyClientInfo": payload.get("formPsyClientInfo")},
            now=ctx.now(),
        )
    return json_response(OK)
