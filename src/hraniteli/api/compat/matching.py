"""Legacy matched-schedule webhooks: the questionnaire's schedules, cards, diagnostics,
Helpful Hand, and the re-booking page's schedule."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from hraniteli.api.compat.common import read_body, text, webhook
from hraniteli.api.compat.schedule import aggregated_response
from hraniteli.api.deps import client_number, context
from hraniteli.applications import rebooking
from hraniteli.applications.forms import parse_form
from hraniteli.errors import InvalidInput
from hraniteli.matching import service as matching
from hraniteli.models import ApplicationKind
from hraniteli.psychologists import service as psychologists

router = APIRouter(tags=["compat: matching"])

HELPFUL_HAND_LEAD = timedelta(hours=24)


async def _matched(request: Request, kind: ApplicationKind, tag: str) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    form = parse_form(payload)
    only = [text(payload.get("show_only_psy"))] if text(payload.get("show_only_psy")) else None
    async with ctx.unit_of_work(write=False) as session:
        verdicts = await matching.match(
            session,
            client=matching.client_profile(form, kind),
            now=ctx.now(),
            window_days=ctx.settings.schedule_window_days,
            only=only,
            check_quota=only is None,
        )
    names = [verdict.name for verdict in verdicts]
    return await aggregated_response(ctx, payload, names=names, cache_tag=tag, with_name_order=True)


@webhook(router, "get-agregated-schedule-v2", ["POST"])
async def get_agregated_schedule_v2(request: Request) -> Response:
    """The matching questionnaire's result: free slots of compatible psychologists, best first."""
    return await _matched(request, ApplicationKind.MATCHING, "matched")


@webhook(router, "get-agregated-schedule-cards", ["POST"])
async def get_agregated_schedule_cards(request: Request) -> Response:
    """The card questionnaire: `show_only_psy` restricts to that psychologist (safety filters hold)."""
    return await _matched(request, ApplicationKind.CARD, "cards")


@webhook(router, "schedule-diagnosis-v2", ["POST"])
async def schedule_diagnosis_v2(request: Request) -> Response:
    return await _matched(request, ApplicationKind.DIAGNOSTIC, "diagnostic")


@webhook(router, "get-agregated-schedule-helpful-hand", ["POST"])
async def get_agregated_schedule_helpful_hand(request: Request) -> Response:
    """The claiming psychologist's free slots at least 24 h ahead (`utm_psy`)."""
    ctx = context(request)
    payload = await read_body(request)
    name = text(payload.get("utm_psy")) or text(payload.get("psychologist"))
    if not name:
        raise InvalidInput("`utm_psy` (the psychologist) is required", details=[{"field": "utm_psy"}])
    async with ctx.unit_of_work(write=False) as session:
        psychologist = await psychologists.psychologist_by_name(session, name)
    return await aggregated_response(
        ctx, payload, names=[psychologist.name], cache_tag="helpful-hand", lead=HELPFUL_HAND_LEAD
    )


async def _rebooking_schedule(request: Request) -> Response:
    ctx = context(request)
    query = request.query_params
    async with ctx.unit_of_work(write=False) as session:
        number = await client_number(ctx, session, request, query.get("lead_number"), field="lead_number")
        found = await rebooking.targets(session, lead_number=number, mode=text(query.get("mode")))
    previous = found.previous_psychologist
    return await aggregated_response(
        ctx,
        dict(query),
        names=found.names,
        cache_tag=f"rebooking:{previous}",
        with_name_order=True,
        envelope=lambda body: {
            "schedule": body["items"],
            "psychologist": previous,
            "name_order": body.get("name_order", []),
        },
    )


@webhook(router, "get-ticket-info-for-reassigment", ["GET"], limit="lookups")
async def get_ticket_info_for_reassignment(request: Request) -> Response:
    """`{schedule: [days…], psychologist: <previous>}`; mode=time → only them, mode=psychologist → others."""
    return await _rebooking_schedule(request)


@webhook(router, "get-reassignment-schedule", ["GET"], limit="lookups")
async def get_reassignment_schedule(request: Request) -> Response:
    """Seed 002's name for the same thing."""
    return await _rebooking_schedule(request)
