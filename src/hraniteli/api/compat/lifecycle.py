"""Legacy session-lifecycle webhooks: planning, Supabase notifications, confirmations,
rescheduling, feedback, history, the crons run on demand, and the editor's "Готово" calls."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Request, Response

from hraniteli.api.compat.bookings import slot_from_row
from hraniteli.api.compat.common import json_response, obj, read_body, short_text, text, webhook
from hraniteli.api.deps import AppContext, check_admin_key, client_number, context, has_admin_key
from hraniteli.applications import service as applications
from hraniteli.applications import telegram
from hraniteli.bookings import service as bookings
from hraniteli.conferencing.service import MeetingProviders
from hraniteli.errors import InvalidInput, NotFound
from hraniteli.kit.moscow import MSK
from hraniteli.kit.proof import split
from hraniteli.lifecycle import meetings, sessions
from hraniteli.lifecycle.actions import LifecycleSettings
from hraniteli.lifecycle.worker import Worker, WorkReport
from hraniteli.models import Booking, TimelineEvent
from hraniteli.notifications import service as outbox
from hraniteli.notifications.service import ADMIN, CLIENT, PSYCHOLOGIST
from hraniteli.psychologists import service as psychologists

router = APIRouter(tags=["compat: session lifecycle"])

NUMBER_LENGTH = 64
"""An application number as feedback stores it (`session_feedback.application_number`)."""


async def _admin(ctx: AppContext, request: Request) -> None:
    await check_admin_key(ctx, request)


def _worker(ctx: AppContext) -> Worker:
    return Worker(
        ctx.database, LifecycleSettings.from_settings(ctx.settings), batch_size=ctx.settings.worker_batch_size
    )


def _timeline(events: list[TimelineEvent]) -> list[dict[str, Any]]:
    return [
        {"kind": e.kind, "due_at": e.due_at.isoformat(), "state": e.state, "result": e.result} for e in events
    ]


async def _booking_of(ctx: AppContext, session: Any, payload: dict[str, Any]) -> Booking:
    """The active booking named by a slot row (`id` or `slot_id`, or psychologist+date+time) or a ticket."""
    slot_ref = dict(payload)
    if text(payload.get("slot_id")) and not text(payload.get("id")):
        slot_ref["id"] = payload.get("slot_id")
    if text(slot_ref.get("id")) or text(slot_ref.get("psychologist")):
        slot = await slot_from_row(ctx, session, slot_ref)
        booking = await bookings.active_booking_for_slot(session, slot.id)
        if booking is None:
            raise NotFound("the slot has no active booking")
        return booking
    number = text(payload.get("ticket_id")) or text(payload.get("ticket"))
    if number:
        return await sessions.active_booking(session, number)
    raise InvalidInput("name the session: the slot row (`id`) or `ticket_id`")


async def _plan(request: Request) -> Response:
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        booking = await _booking_of(ctx, session, payload)
        events = await sessions.ensure_timeline(session, booking=booking, now=ctx.now(), policy=ctx.ladder)
        body = {"success": True, "booking_id": str(booking.id), "events": _timeline(events)}
    return json_response(body)


@webhook(router, "plan-events", ["POST"])
async def plan_events(request: Request) -> Response:
    """The booking's timeline (planned now if missing): confirmations, alert, auto-cancel, reminder…"""
    return await _plan(request)


@webhook(router, "plan-client-events", ["POST"])
async def plan_client_events(request: Request) -> Response:
    return await _plan(request)


FREE, BOOKED = "Свободен", "Забронирован"


@webhook(router, "notify-update", ["POST"])
async def notify_update(request: Request) -> Response:
    """Supabase's database webhook `{type, table, record, old_record}` on a slot row:
    free → booked starts the booking's life, booked → free cancels it."""
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    record, old = obj(payload, "record"), obj(payload, "old_record")
    new_state, old_state = text(record.get("state")), text(old.get("state"))
    now = ctx.now()
    async with ctx.unit_of_work() as session:
        slot = await slot_from_row(ctx, session, record)
        active = await bookings.active_booking_for_slot(session, slot.id)
        if new_state == BOOKED and old_state != BOOKED:
            if active is None:
                active = await bookings.book_slot(
                    session,
                    request=bookings.BookingRequest(
                        slot_id=slot.id,
                        application_ref=text(record.get("ticket")) or None,
                        is_auto_assigned=bool(record.get("auto_assigned")),
                        is_helpful_hand=bool(record.get("is_helpful_hand")),
                        ladder=ctx.ladder,
                    ),
                    now=now,
                )
            events = await sessions.ensure_timeline(session, booking=active, now=now, policy=ctx.ladder)
            body = {
                "success": True,
                "action": "booked",
                "booking_id": str(active.id),
                "events": _timeline(events),
            }
        elif new_state == FREE and old_state == BOOKED:
            if active is not None:
                await bookings.cancel_booking(session, booking=active, now=now, reason="слот освобождён")
            body = {"success": True, "action": "cancelled"}
        else:
            body = {"success": True, "action": "none"}
    return json_response(body)


@webhook(router, "generate-conference-link", ["POST"])
async def generate_conference_link(request: Request) -> Response:
    """The session's meeting link (made now if it has none): `{link, platform}`."""
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    async with ctx.unit_of_work(write=False) as session:
        booking = await _booking_of(ctx, session, payload)
        booking_id = booking.id
        if booking.meeting_link:
            return json_response({"link": booking.meeting_link, "platform": booking.meeting_platform})
    async with httpx.AsyncClient(trust_env=False) as http:
        created = await meetings.make_link_now(
            ctx.database,
            MeetingProviders.from_settings(ctx.settings, http),
            booking_id=booking_id,
            now=ctx.now(),
        )
    return json_response({"link": created.link, "platform": created.platform})


@webhook(router, "confirm-session-by-client", ["POST"])
async def confirm_session_by_client(request: Request) -> Response:
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        await sessions.confirm(
            session,
            number=text(payload.get("ticket_id")),
            now=ctx.now(),
            slot_time=text(payload.get("slot_time")),
        )
    return json_response({"success": True, "message": "Сессия подтверждена"})


@webhook(router, "reschedule-session", ["POST"])
async def reschedule_session(request: Request) -> Response:
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        moved = await sessions.reschedule(
            session,
            number=text(payload.get("ticket_id")),
            new_time=text(payload.get("new_slot_time")),
            ladder=ctx.ladder,
            now=ctx.now(),
        )
        when = moved.start_at.astimezone(MSK).strftime("%d.%m %H:%M")
    return json_response({"success": True, "message": f"Сессия перенесена на {when} МСК"})


@webhook(router, "rate-session", ["POST"])
async def rate_session(request: Request) -> Response:
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        await sessions.record_feedback(
            session,
            feedback=sessions.FeedbackIn(
                author=CLIENT,
                number=short_text(payload, "ticket_id", max_length=NUMBER_LENGTH),
                psychologist_name=None,
                rating=payload.get("rating"),
                text=text(payload.get("feedback")) or None,
                answers={},
            ),
            now=ctx.now(),
        )
    return json_response({"success": True, "message": "Спасибо за отзыв"})


@webhook(router, "client-sessions-history", ["GET"])
async def client_sessions_history(request: Request) -> Response:
    ctx = context(request)
    await _admin(ctx, request)
    async with ctx.unit_of_work(write=False) as session:
        found = await sessions.history_for_telegram(
            session, telegram=text(request.query_params.get("client_telegram"))
        )
    return json_response(
        {
            "sessions": [
                {
                    "ticket_id": item.number,
                    "psychologist_name": item.psychologist,
                    "slot_time": item.start_at.astimezone(MSK).strftime("%d.%m.%Y %H:%M"),
                    "status": item.status,
                    "rating": item.rating,
                    "feedback": item.feedback,
                }
                for item in found
            ]
        }
    )


@webhook(router, "client-os", ["POST"], limit="writes")
async def client_os(request: Request) -> Response:
    """The client's feedback form (anketa + the link's query parameters)."""
    ctx = context(request)
    payload = await read_body(request)
    anketa = obj(payload, "anketa")
    if not anketa:
        raise InvalidInput("`anketa` is required", details=[{"field": "anketa"}])
    async with ctx.unit_of_work() as session:
        # only the client the link was sent to: `utm_client` carries the proof (404 otherwise)
        number = await client_number(ctx, session, request, payload.get("utm_client"), field="utm_client")
        await sessions.record_feedback(
            session,
            feedback=sessions.FeedbackIn(
                author=CLIENT,
                number=number,
                psychologist_name=text(payload.get("psychologist_name")) or None,
                rating=anketa.get("mark"),
                text=text(anketa.get("needs")) or None,
                answers=anketa,
            ),
            now=ctx.now(),
        )
    return json_response({"success": True})


@webhook(router, "psy-os", ["POST"], limit="writes")
async def psy_os(request: Request) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    anketa = obj(payload, "anketa")
    if not anketa:
        raise InvalidInput("`anketa` is required", details=[{"field": "anketa"}])
    claimed = split(text(payload.get("feedback_date")))
    async with ctx.unit_of_work() as session:
        # only the psychologist the link was sent to: `feedback_date` carries their proof
        psychologist = await psychologists.psychologist_by_proof(
            session,
            proofs=await ctx.proofs(session),
            name=text(payload.get("psychologist_name")),
            token=claimed.token,
            trusted=has_admin_key(ctx, request.headers.get("x-api-key")),
        )
        await sessions.record_feedback(
            session,
            feedback=sessions.FeedbackIn(
                author=PSYCHOLOGIST,
                number=None,
                psychologist_name=psychologist.name,
                rating=anketa.get("mark"),
                text=None,
                answers={**anketa, "feedback_date": claimed.ref},
            ),
            now=ctx.now(),
        )
    return json_response({"success": True})


async def _offer(request: Request) -> Response:
    """The offers of another session are planned with every booking; this shows them."""
    return await _plan(request)


@webhook(router, "schedule_client_action_after_5_days", ["POST"])
async def schedule_after_5_days(request: Request) -> Response:
    return await _offer(request)


@webhook(router, "schedule_client_action_after_3_weeks", ["POST"])
async def schedule_after_3_weeks(request: Request) -> Response:
    return await _offer(request)


MAX_TICKET_MESSAGE = 16_000
"""An administrator's message to a client: up to four Telegram messages (longer ones are split)."""


@webhook(router, "send-ticket-notification", ["POST"])
async def send_ticket_notification(request: Request) -> Response:
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    message = text(payload.get("message"))
    if not message:
        raise InvalidInput("`message` is required", details=[{"field": "message"}])
    if len(message) > MAX_TICKET_MESSAGE:
        raise InvalidInput(
            f"`message` is longer than {MAX_TICKET_MESSAGE} characters", details=[{"field": "message"}]
        )
    now = ctx.now()
    async with ctx.unit_of_work() as session:
        booking = await sessions.active_booking(session, text(payload.get("ticket_id")))
        chat = await sessions.client_chat(session, booking)
        kind = text(payload.get("notification_type")) or "custom"
        await outbox.enqueue(
            session,
            dedupe_key=f"ticket:{booking.application_ref}:{kind}:{now.isoformat()}",
            recipient_kind=CLIENT,
            recipient_ref=str(booking.client_id) if booking.client_id else None,
            chat_id=chat,
            text=message,
            now=now,
        )
    return json_response({"success": True, "message": "Уведомление поставлено в очередь"})


# --- crons, run on demand -------------------------------------------------------------------


async def _tick(request: Request) -> WorkReport:
    ctx = context(request)
    await _admin(ctx, request)
    return await _worker(ctx).tick(ctx.now())


@webhook(router, "auto-cancel-tickets", ["POST"])
async def auto_cancel_tickets(request: Request) -> Response:
    numbers = (await _tick(request)).cancelled_tickets
    return json_response(
        {"success": True, "cancelled_tickets": numbers, "message": f"Отменено: {len(numbers)}"}
    )


@webhook(router, "send-session-reminders", ["POST"])
async def send_session_reminders(request: Request) -> Response:
    report = await _tick(request)
    return json_response(
        {"success": True, "sent_reminders": report.events_done, "message": "Напоминания отправлены"}
    )


@webhook(router, "update-ticket-statuses", ["POST"])
async def update_ticket_statuses(request: Request) -> Response:
    ctx = context(request)
    await _admin(ctx, request)
    result = await _worker(ctx).run_job_now("close_past_bookings", ctx.now())
    updated = sum(int(str(result.get(key, 0))) for key in ("completed", "missed"))
    return json_response({"success": True, "updated_tickets": updated, "message": "Статусы обновлены"})


CRON_JOBS = {
    "update-sessions-count": "recount_sessions_provided",
    "remind-slots": "remind_to_update_slots",
    "check-link-transition": "check_bot_link_opened",
    "confirm-help-hand": "helpful_hand_followups",
}


def _cron(path: str, job: str) -> None:
    async def handler(request: Request) -> Response:
        ctx = context(request)
        await _admin(ctx, request)
        result = await _worker(ctx).run_job_now(job, ctx.now())
        return json_response({"success": True, "job": job, "result": result})

    handler.__name__ = f"cron_{job}"
    handler.__doc__ = f"Seed cron `{path}`: run `{job}` now."
    webhook(router, path, ["POST", "GET"])(handler)


for _path, _job in CRON_JOBS.items():
    _cron(_path, _job)


@webhook(router, "auto-cancel", ["POST", "GET"])
async def cron_auto_cancel(request: Request) -> Response:
    report = await _tick(request)
    return json_response({"success": True, "result": report.__dict__})


@webhook(router, "session-confirmation", ["POST", "GET"])
async def cron_session_confirmation(request: Request) -> Response:
    report = await _tick(request)
    return json_response({"success": True, "result": report.__dict__})


# --- the schedule editor's "Готово" -----------------------------------------------------------


async def _editor_done(request: Request, variant: str) -> Response:
    ctx = context(request)
    payload = await read_body(request)
    now = ctx.now()
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_secret(session, text(payload.get("secret")))
        day = now.astimezone(MSK).date().isoformat()
        await outbox.enqueue(
            session,
            dedupe_key=f"onboarding:{variant}:{psychologist.id}:{day}",
            recipient_kind=PSYCHOLOGIST,
            recipient_ref=str(psychologist.id),
            chat_id=psychologist.telegram_id,
            text="Спасибо! Ваше расписание сохранено. Клиенты увидят свободные окна при записи.",
            now=now,
        )
    return json_response({"success": True})


@webhook(router, "send-onboarding-message-after-slot-setup", ["POST"])
async def onboarding_after_slot_setup(request: Request) -> Response:
    return await _editor_done(request, "community")


@webhook(router, "send-onboarding-message-after-slot-setup-rp", ["POST"])
async def onboarding_after_slot_setup_rp(request: Request) -> Response:
    return await _editor_done(request, "rp")


@webhook(router, "send-onboarding-message-after-slot-setup-supervisii", ["POST"])
async def onboarding_after_slot_setup_supervisii(request: Request) -> Response:
    return await _editor_done(request, "supervision")


@webhook(router, "send-slot-change-notifications", ["POST"])
async def send_slot_change_notifications(request: Request) -> Response:
    """The psychologist finished editing: tell the administrators (once an hour at most)."""
    ctx = context(request)
    payload = await read_body(request)
    now = ctx.now()
    async with ctx.unit_of_work() as session:
        psychologist = await psychologists.psychologist_by_secret(session, text(payload.get("secret")))
        hour = now.astimezone(MSK).strftime("%Y-%m-%dT%H")
        await outbox.enqueue(
            session,
            dedupe_key=f"slots_changed:{psychologist.id}:{hour}",
            recipient_kind=ADMIN,
            chat_id=ctx.settings.telegram_admin_chat_id,
            text=f"{psychologist.name} обновил(а) расписание.",
            now=now,
        )
    return json_response({"success": True})


@webhook(router, "client-registration", ["POST"])
async def client_registration(request: Request) -> Response:
    """Seed 002/003: the client wrote to the bot (`{user_id}`)."""
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        client = await telegram.register_client(
            session,
            telegram_id=payload.get("user_id"),
            username=text(payload.get("username")) or None,
            now=ctx.now(),
        )
        client_id = client.id
    return json_response({"success": True, "client_id": str(client_id)})


@webhook(router, "process-link", ["POST"])
async def process_link(request: Request) -> Response:
    """Seed 002: the client opened the bot from their application's link (`{user_id, ticket_id}`)."""
    ctx = context(request)
    await _admin(ctx, request)
    payload = await read_body(request)
    async with ctx.unit_of_work() as session:
        # the service key vouches for the caller: the chat is linked without further proof
        client = await telegram.attach_chat(
            session,
            application=await applications.get_by_number(session, text(payload.get("ticket_id"))),
            telegram_id=payload.get("user_id"),
            username=text(payload.get("username")) or None,
            now=ctx.now(),
        )
        client_id = client.id
    return json_response({"success": True, "client_id": str(client_id)})
