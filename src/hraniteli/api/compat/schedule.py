"""Legacy schedule webhooks: the editor (get-slot, add/delete/plan) and aggregated views."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from hraniteli.api.compat import render
from hraniteli.api.compat.common import (
    cached,
    client_zone,
    json_response,
    query_params,
    raw_json_response,
    read_body,
    text,
    webhook,
    window,
)
from hraniteli.api.deps import AppContext, context
from hraniteli.applications import service as applications
from hraniteli.errors import Forbidden, InvalidInput, NotFound
from hraniteli.kit.moscow import MSK, monday_of
from hraniteli.kit.slotstrings import (
    BadSlotString,
    parse_date,
    parse_slot_string,
    parse_time,
    split_list,
)
from hraniteli.models import Psychologist, Slot
from hraniteli.psychologists import service as psychologists
from hraniteli.schedule import service as schedule
from hraniteli.schedule.views import group_by_day

router = APIRouter(tags=["compat: schedule"])

UNAUTHORED = {"error": "unauthored"}
TEXT_WEEKS = 4


def _slot_instant(ctx: AppContext, value: Any, tz_label: Any = None) -> datetime:
    from hraniteli.kit.moscow import BadTimeZone, zone_from_label

    try:
        tz = zone_from_label(text(tz_label) or None)
        return parse_slot_string(text(value), now=ctx.now(), tz=tz)
    except (BadSlotString, BadTimeZone) as exc:
        raise InvalidInput(str(exc), details=[{"field": "slot"}]) from exc


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(text(value))
    except ValueError:
        return None


async def _own_slot(ctx: AppContext, session: Any, psychologist: Psychologist, ref: Any) -> Slot:
    """A slot named by UUID or by "DD.MM HH:mm" (MSK)."""
    slot_id = _uuid(ref)
    if slot_id is not None:
        return await schedule.slot_of(session, psychologist=psychologist, slot_id=slot_id)
    return await schedule.slot_of(session, psychologist=psychologist, start_at=_slot_instant(ctx, ref))


# --- the psychologist's schedule editor ------------------------------------------------------


@webhook(router, "get-slot", ["GET"])
async def get_slot(request: Request) -> Response:
    """Editor grid for `secret` (or `{"error": "unauthored"}`); the bot's text weeks for `psychologist`."""
    ctx = context(request)
    query = query_params(request)
    if "secret" not in query and text(query.get("psychologist")):
        return await _text_weeks(ctx, text(query.get("psychologist")))
    now = ctx.now()
    today = now.astimezone(MSK).date()
    async with ctx.unit_of_work(write=False) as session:
        try:
            psychologist = await psychologists.psychologist_by_secret(session, query.get("secret"))
        except Forbidden:
            return json_response(UNAUTHORED)
        default_start = monday_of(today)
        start_date, end_date = window(
            {
                "startDate": query.get("startDate") or default_start.isoformat(),
                "endDate": query.get("endDate") or (default_start + timedelta(days=27)).isoformat(),
            },
            today=today,
            default_days=27,
        )
        start_at, end_at = schedule.msk_window(start_date, end_date)
        views = await schedule.list_slots(
            session, start_at=start_at, end_at=end_at, psychologist_ids=[psychologist.id], active_only=False
        )
    groups = group_by_day(views, tz=MSK, start_date=start_date, end_date=end_date)
    return json_response([{"items": render.editor_items(groups)}])


@webhook(router, "get-schedule", ["GET"])
async def get_schedule(request: Request) -> Response:
    """The bot's 4-week text schedule of one psychologist (seed 002)."""
    ctx = context(request)
    query = query_params(request)
    name = text(query.get("psychologist") or query.get("utm_psy"))
    return await _text_weeks(ctx, name)


async def _text_weeks(ctx: AppContext, name: str) -> Response:
    now = ctx.now()
    first_monday = monday_of(now.astimezone(MSK).date())
    async with ctx.unit_of_work(write=False) as session:
        psychologist = await psychologists.psychologist_by_name(session, name)
        start_at, end_at = schedule.msk_window(
            first_monday, first_monday + timedelta(days=7 * TEXT_WEEKS - 1)
        )
        views = await schedule.list_slots(
            session, start_at=start_at, end_at=end_at, psychologist_ids=[psychologist.id], active_only=False
        )
    texts = render.weekly_texts(views, first_monday=first_monday, weeks=TEXT_WEEKS, now=now)
    return json_response([{"res": texts}])


@webhook(router, "add-slot", ["POST"])
async def add_slot(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    start_at = _slot_instant(ctx, payload.get("slot"), payload.get("userTimeZone"))
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_secret(session, text(payload.get("secret")))
        added = await schedule.add_slot(
            session, psychologist=psychologist, start_at=start_at, now=ctx.now(), policy=ctx.policy
        )
    return json_response({"id": str(added.slot.id), "created": added.created})


@webhook(router, "add-slot-over-event", ["POST"])
async def add_slot_over_event(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    start_at = _slot_instant(ctx, payload.get("slot"))
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_secret(session, text(payload.get("secret")))
        added = await schedule.add_slot(
            session,
            psychologist=psychologist,
            start_at=start_at,
            now=ctx.now(),
            policy=ctx.policy,
            is_over_event=True,
        )
    return json_response({"id": str(added.slot.id), "created": added.created})


@webhook(router, "delete-slot", ["POST"])
async def delete_slot(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    ref = payload.get("slot") if payload.get("slot") is not None else payload.get("id")
    if not text(ref):
        raise InvalidInput("`slot` is required", details=[{"field": "slot"}])
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_secret(session, text(payload.get("secret")))
        slot = await _own_slot(ctx, session, psychologist, ref)
        slot_id = slot.id
        await schedule.delete_slot(session, psychologist=psychologist, slot=slot)
    return json_response({"success": True, "id": str(slot_id)})


@webhook(router, "get-root-planned-free-slot", ["GET"])
async def get_root_planned_free_slot(request: Request) -> Response:
    ctx = context(request)
    query = query_params(request)
    async with ctx.unit_of_work(write=False) as session:
        psychologist = await psychologists.psychologist_by_secret(session, query.get("secret"))
        slot = await _own_slot(ctx, session, psychologist, query.get("slot"))
        if slot.repeat_root_id is not None:
            slot = await schedule.slot_of(session, psychologist=psychologist, slot_id=slot.repeat_root_id)
        rule = slot.repeat_rule
    return json_response({"repeat_period": render.REPEAT_RU[rule], "slot": str(slot.id)})


@webhook(router, "plan-free-slots", ["POST"])
async def plan_free_slots(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    label = text(payload.get("repeat_period"))
    if label not in render.REPEAT_FROM_RU:
        raise InvalidInput(
            f"repeat_period must be one of: {', '.join(render.REPEAT_FROM_RU)}",
            details=[{"field": "repeat_period"}],
        )
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_secret(session, text(payload.get("secret")))
        slot = await _own_slot(ctx, session, psychologist, payload.get("slot"))
        opened = await schedule.set_repeat_rule(
            session,
            psychologist=psychologist,
            slot=slot,
            rule=render.REPEAT_FROM_RU[label],
            now=ctx.now(),
            policy=ctx.policy,
        )
    return json_response({"success": True, "repeat_period": label, "created": [str(s.id) for s in opened]})


@webhook(router, "get-ticket-for-slot", ["GET"])
async def get_ticket_for_slot(request: Request) -> Response:
    """The client summary behind one of the psychologist's booked hours; `{}` when there is none."""
    ctx = context(request)
    query = query_params(request)
    now = ctx.now()
    try:
        day = parse_date(text(query.get("date")), today=now.astimezone(MSK).date())
        clock = parse_time(text(query.get("time")))
    except BadSlotString as exc:
        raise InvalidInput(str(exc), details=[{"field": "date/time"}]) from exc
    async with ctx.unit_of_work(write=False) as session:
        psychologist = await psychologists.psychologist_by_secret(session, query.get("secret"))
        start_at = datetime.combine(day, clock, tzinfo=MSK)
        slot = await schedule.slot_of(session, psychologist=psychologist, start_at=start_at)
        summary = await applications.summary_for_slot(session, slot_id=slot.id)
    if summary is None:
        return json_response({})
    return json_response(render.client_summary(summary))


# --- aggregated schedules ------------------------------------------------------------------


async def aggregated_response(
    ctx: AppContext,
    payload: dict[str, Any],
    *,
    names: list[str] | None,
    cache_tag: str,
    default_days: int | None = None,
    with_name_order: bool = False,
    lead: timedelta = timedelta(0),
    envelope: Callable[[dict[str, Any]], Any] = lambda body: [body],
    require_known: bool = False,
) -> Response:
    """Free slots hour-keyed by the client's local time: of everyone, or of `names` (in this
    order, which `name_order` then reports for those who have a free slot in the window).

    One read transaction; an unchanged schedule is served from the render cache after a
    single small query (the psychologists' revisions)."""
    now = ctx.now()
    offset, tz = client_zone(payload)
    today = now.astimezone(tz).date()
    start_date, end_date = window(
        payload, today=today, default_days=default_days or ctx.settings.schedule_window_days
    )
    key = (
        cache_tag,
        start_date,
        end_date,
        offset,
        tuple(names) if names is not None else None,
        with_name_order,
        lead,
    )
    trusted = ctx.render_cache.trusted(key, now=now)
    if trusted is not None:
        return raw_json_response(trusted)
    async with ctx.unit_of_work(write=False) as session:
        ids: list[uuid.UUID] | None = None
        if names is None:
            fingerprint = await schedule.schedule_fingerprint(session)
        else:
            scope = await schedule.named_scope(session, names)
            if require_known and scope.unknown:
                raise NotFound(f"no psychologist named {scope.unknown[0]!r}")
            ids, fingerprint = scope.ids, scope.fingerprint

        async def produce() -> tuple[Any, datetime]:
            rows = await schedule.free_rows(
                session,
                start_at=datetime.combine(start_date, datetime.min.time(), tzinfo=tz),
                end_at=datetime.combine(end_date + timedelta(days=1), datetime.min.time(), tzinfo=tz),
                psychologist_ids=ids,
                not_before=now + lead,
            )
            body: dict[str, Any] = {
                "items": render.aggregated_days(
                    rows,
                    tz=tz,
                    start_date=start_date,
                    end_date=end_date,
                    skip_weekdays=ctx.policy.closed_weekdays,
                )
            }
            if with_name_order and names is not None:
                present = {psychologist for _, psychologist, _ in rows}
                body["name_order"] = [name for name in names if name in present]
            midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz)
            # rows are ordered by start: the first one leaves the view when it starts
            valid_until = min(rows[0][2] - lead, midnight) if rows else midnight
            return envelope(body), valid_until

        return await cached(ctx, key, fingerprint, now, produce)


@webhook(router, "get-aggregated-all", ["POST", "GET"])
async def get_aggregated_all(request: Request) -> Response:
    """All psychologists' free slots (optionally only `show_only_psy`), hour-keyed by local time."""
    ctx = context(request)
    payload = await read_body(request)
    only = text(payload.get("show_only_psy"))
    return await aggregated_response(ctx, payload, names=[only] if only else None, cache_tag="all")


@webhook(router, "get-aggregated-schedule-by-psychologist", ["GET", "POST"])
async def get_aggregated_schedule_by_psychologist(request: Request) -> Response:
    """One psychologist's free slots; query `utm_psy` (clients) or `psychologist` (seed 001)."""
    ctx = context(request)
    payload = await read_body(request)
    name = " ".join((text(payload.get("utm_psy")) or text(payload.get("psychologist"))).split())
    if not name:
        raise NotFound("psychologist name is empty")
    return await aggregated_response(ctx, payload, names=[name], cache_tag="one", require_known=True)


@webhook(router, "slot-counter", ["GET", "POST"])
async def slot_counter(request: Request) -> Response:
    """Free slots in the coming window, in total and per psychologist, as one text."""
    ctx = context(request)
    now = ctx.now()
    days = ctx.settings.schedule_window_days
    async with ctx.unit_of_work(write=False) as session:
        counts = await schedule.free_slot_counts(session, start_at=now, end_at=now + timedelta(days=days))
    total = sum(count for _, count in counts)
    lines = [f"Свободных слотов на {days} дн. вперёд: {total}"]
    if counts:
        lines.append("")
        lines.extend(f"{name}: {count}" for name, count in counts)
    return json_response({"result": "\n".join(lines), "total": total})


@webhook(router, "get_general_slots", ["POST"])
async def get_general_slots(request: Request) -> Response:
    """Top-3 hours at which most of the listed psychologists are free (seed 001/003 format)."""
    ctx = context(request)
    payload = await read_body(request)
    names = split_list(payload.get("psychologist_list"))
    now = ctx.now()
    async with ctx.unit_of_work(write=False) as session:
        ids = None
        if names:
            found = await psychologists.psychologists_by_names(session, names)
            unknown = sorted({" ".join(n.split()) for n in names} - {p.name for p in found})
            if unknown:
                raise NotFound(
                    f"unknown psychologists: {', '.join(unknown)}",
                    details=[{"field": "psychologist_list", "unknown": unknown}],
                )
            ids = [p.id for p in found]
        views = await schedule.list_slots(
            session,
            start_at=now,
            end_at=now + timedelta(days=ctx.settings.schedule_window_days),
            psychologist_ids=ids,
            free_only=True,
        )
    top = schedule.busiest_hours(views)
    lines = "".join(f"{at.astimezone(MSK):%d.%m %H:%M}: {count}\n" for at, count in top)
    return json_response({"formated_result": f"Топ-3 наиболее свободных слота\n\n{lines}"})
