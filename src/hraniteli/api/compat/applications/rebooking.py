"""Re-booking: the previous answers for the re-booking page, then the new match for the application.

Only the client may (the `lead_number` of the link the service sent carries its proof), or the
service with its API key.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hraniteli.api.compat.applications._common import intake_policy
from hraniteli.api.compat.common import json_response, read_body, webhook
from hraniteli.api.deps import client_number, context
from hraniteli.applications import rebooking
from hraniteli.applications import service as applications

router = APIRouter()


@webhook(router, "get-ticket-info-for-reassigment-without-schedule", ["GET"], limit="lookups")
async def get_ticket_info_for_reassignment_without_schedule(request: Request) -> Response:
    """The previous answers the re-booking page joins into `_queries` (and nothing more)."""
    ctx = context(request)
    async with ctx.unit_of_work(write=False) as session:
        number = await client_number(
            ctx, session, request, request.query_params.get("lead_number"), field="lead_number"
        )
        application = await applications.get_by_number(session, number)
    form = {
        "question_to_psychologist": "; ".join(application.requests),
        "traumaticEvents": list(application.traumatic_events),
        "clientStates": list(application.client_states),
        "diagnoses": list(application.diagnoses),
    }
    return json_response({"form": form, "lead_number": application.number})


@webhook(router, "reassign", ["POST"], limit="writes")
async def reassign(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        result = await rebooking.reassign(
            session,
            lead_number=await client_number(
                ctx, session, request, payload.get("lead_number"), field="lead_number"
            ),
            psychologists=payload.get("filtered_psychologists"),
            slots=payload.get("slots"),
            queries=payload.get("_queries"),
            now=ctx.now(),
            policy=intake_policy(ctx),
        )
        body = {"success": True, "ticket_id": result.application.number, "status": result.application.status}
    return json_response(body)
