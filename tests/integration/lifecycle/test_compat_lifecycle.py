"""The legacy session-lifecycle webhooks (plan-events, notify-update, confirm/reschedule/rate,
feedback forms, history, ticket notifications, the crons on demand, the editor's "Готово")
and the admin timeline/outbox API, over HTTP against the app with a frozen clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hraniteli.bookings import service as bookings
from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.kit.proof import Purpose
from hraniteli.models import Booking, BookingStatus, Client, Psychologist, SessionFeedback, Slot
from tests.builders import make_psychologist, make_slot, msk
from tests.conftest import ADMIN, NOW, PROOFS
from tests.e2e.journey_helpers import link_params
from tests.integration.compat.helpers import BOTH, assert_error, seed_slot_row

ANNA = "Иванова Анна"
TICKET = "k3f9a"
START = msk(2026, 3, 5, 14)  # Thursday 14:00 MSK
LADDER = [
    ("confirm_request", msk(2026, 3, 4, 14)),
    ("confirm_repeat", msk(2026, 3, 4, 16)),
    ("alert_unconfirmed", msk(2026, 3, 4, 17)),
    ("auto_cancel", msk(2026, 3, 4, 20)),
    ("reminder", msk(2026, 3, 5, 12)),
    ("feedback", msk(2026, 3, 5, 16)),
    ("offer_after_5_days", msk(2026, 3, 10, 14)),
    ("offer_after_3_weeks", msk(2026, 3, 26, 14)),
]
"""A session on Thursday 14:00 booked on Monday 09:00: its whole ladder."""


async def _anna(database: Database) -> Psychologist:
    return await make_psychologist(database, now=NOW, name=ANNA, telegram_id="777")


async def _client(database: Database) -> Client:
    async with database.unit_of_work() as session:
        client = Client(
            id=uuid.uuid4(),
            telegram_id="555",
            telegram_username="anna_k",
            name="Анна",
            contact_type="Telegram",
            contact="@anna_k",
            time_zone="Europe/Moscow",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(client)
        return client


async def _booked(
    database: Database, psychologist: Psychologist, *, start: datetime = START, client: Client | None = None
) -> Booking:
    slot = await make_slot(database, psychologist, start_at=start, now=NOW)
    async with database.unit_of_work() as session:
        return await bookings.book_slot(
            session,
            request=bookings.BookingRequest(
                slot_id=slot.id, client_id=client.id if client else None, application_ref=TICKET
            ),
            now=NOW,
        )


MEETING_KINDS = ("create_meeting", "delete_meeting")
"""Meeting-link events ride along on the timeline; tests/integration/conferencing covers them."""


def _ladder(events: list[dict[str, Any]]) -> list[tuple[str, datetime]]:
    return [
        (e["kind"], datetime.fromisoformat(e["due_at"])) for e in events if e["kind"] not in MEETING_KINDS
    ]


def _events(body: dict[str, Any]) -> list[tuple[str, datetime]]:
    return _ladder(body["events"])


async def _booking(database: Database, booking_id: object) -> Booking:
    async with database.unit_of_work(write=False) as session:
        booking = await session.get(Booking, uuid.UUID(str(booking_id)))
        assert booking is not None
        return booking


async def _slot_state(database: Database, slot_id: object) -> str:
    async with database.unit_of_work(write=False) as session:
        slot = await session.get(Slot, slot_id)
        assert slot is not None
        return slot.state


async def _timeline(client: httpx.AsyncClient, booking_id: object) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/bookings/{booking_id}/timeline", headers=ADMIN)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def _outbox(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/outbox", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return sorted(rows, key=lambda m: (m["created_at"], m["dedupe_key"]))


# --- planning ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", BOTH)
async def test_plan_events_returns_the_bookings_timeline_by_slot_row_or_slot_id(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    anna = await _anna(database)
    booking = await _booked(database, anna)

    by_row = await client.post(
        f"/webhook/plan-events{suffix}",
        json=seed_slot_row(id=str(booking.slot_id), date="2026-03-05", state="Забронирован"),
        headers=ADMIN,
    )
    by_id = await client.post(
        f"/webhook/plan-client-events{suffix}", json={"slot_id": str(booking.slot_id)}, headers=ADMIN
    )
    by_name = await client.post(
        f"/webhook/plan-events{suffix}",
        json={"psychologist": ANNA, "date": "2026-03-05", "time": "14:00"},
        headers=ADMIN,
    )

    for response in (by_row, by_id, by_name):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["success"] is True
        assert body["booking_id"] == str(booking.id)
        assert _events(body) == LADDER
        assert {e["state"] for e in body["events"]} == {"pending"}
    timeline = await _timeline(client, booking.id)
    assert _ladder(timeline) == LADDER
    assert {(e["state"], e["attempts"]) for e in timeline} == {("pending", 0)}


async def test_plan_events_for_a_free_or_unknown_slot_and_without_the_key(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await _anna(database)
    free = await make_slot(database, anna, start_at=START, now=NOW)

    assert_error(
        await client.post("/webhook/plan-events", json={"slot_id": str(free.id)}, headers=ADMIN), 404
    )
    assert_error(
        await client.post("/webhook/plan-events", json={"slot_id": str(uuid.uuid4())}, headers=ADMIN), 404
    )
    assert_error(await client.post("/webhook/plan-events", json={}, headers=ADMIN), 400)
    assert_error(await client.post("/webhook/plan-events", json={"slot_id": str(free.id)}), 401)


async def test_notify_update_books_and_plans_then_booked_to_free_cancels_and_frees(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await _anna(database)
    slot = await make_slot(database, anna, start_at=START, now=NOW)
    row = seed_slot_row(id=str(slot.id), date="2026-03-05")
    booked = {
        "type": "UPDATE",
        "table": "hraniteli_slots",
        "schema": "public",
        "record": {**row, "state": "Забронирован"},
        "old_record": {**row, "state": "Свободен"},
    }

    first = await client.post("/webhook/notify-update", json=booked, headers=ADMIN)
    retried = await client.post("/webhook/notify-update", json=booked, headers=ADMIN)  # Supabase retries

    assert first.status_code == 200, first.text
    assert first.json()["action"] == "booked"
    assert _events(first.json()) == LADDER
    assert retried.json()["booking_id"] == first.json()["booking_id"]
    booking = await _booking(database, first.json()["booking_id"])
    assert (booking.status, booking.application_ref, booking.slot_id) == ("pending", TICKET, slot.id)
    assert await _slot_state(database, slot.id) == "booked"
    assert _ladder(await _timeline(client, booking.id)) == LADDER

    freed = await client.post(
        "/webhook/notify-update",
        json={**booked, "record": booked["old_record"], "old_record": booked["record"]},
        headers=ADMIN,
    )
    unrelated = await client.post(
        "/webhook/notify-update",
        json={**booked, "record": booked["old_record"], "old_record": booked["old_record"]},
        headers=ADMIN,
    )

    assert freed.json() == {"success": True, "action": "cancelled"}
    assert unrelated.json() == {"success": True, "action": "none"}
    assert (await _booking(database, booking.id)).status == "cancelled"
    assert await _slot_state(database, slot.id) == "free"
    assert {e["state"] for e in await _timeline(client, booking.id)} == {"cancelled"}
    assert_error(await client.post("/webhook/notify-update", json=booked), 401)


# --- the client's answers ----------------------------------------------------------------------


async def test_confirm_session_by_client_stops_the_confirmation_ladder(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    anna = await _anna(database)
    booking = await _booked(database, anna, client=await _client(database))

    clock.at = START - timedelta(hours=24)
    assert (await client.post("/api/v1/worker/tick", headers=ADMIN)).json()["events_done"] == 1
    clock.at = START - timedelta(hours=23)
    confirmed = await client.post(
        "/webhook/confirm-session-by-client",
        json={"ticket_id": TICKET, "slot_time": "05.03 14:00"},
        headers=ADMIN,
    )
    ticks = []
    for hours in (22, 21, 18):
        clock.at = START - timedelta(hours=hours)
        ticks.append((await client.post("/api/v1/worker/tick", headers=ADMIN)).json())

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"success": True, "message": "Сессия подтверждена"}
    assert [tick["events_done"] for tick in ticks] == [0, 0, 0]
    loaded = await _booking(database, booking.id)
    assert (loaded.status, loaded.is_confirmed) == ("confirmed", True)
    messages = [m for m in await _outbox(client) if m["dedupe_key"].startswith("booking:")]
    assert [(m["recipient_kind"], m["chat_id"]) for m in messages] == [("client", "555")]
    assert "подтвердите" in messages[0]["text"]
    states = {e["kind"]: e["state"] for e in await _timeline(client, booking.id)}
    assert states["confirm_request"] == "done"
    assert {states[k] for k in ("confirm_repeat", "alert_unconfirmed", "auto_cancel")} == {"skipped"}
    assert states["reminder"] == "pending"


async def test_confirm_session_by_client_confirms_the_session_at_slot_time_or_the_next_one(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await _anna(database)
    this_week = await _booked(database, anna)
    next_week = await _booked(database, anna, start=START + timedelta(days=7))

    async def confirm(slot_time: str | None) -> httpx.Response:
        body = {"ticket_id": TICKET} if slot_time is None else {"ticket_id": TICKET, "slot_time": slot_time}
        return await client.post("/webhook/confirm-session-by-client", json=body, headers=ADMIN)

    nearest = await confirm(None)
    statuses_after_nearest = [(await _booking(database, b.id)).status for b in (this_week, next_week)]
    not_a_session = await confirm("13.03 14:00")
    unreadable = await confirm("в четверг")
    later = await confirm("12.03 14:00")

    assert nearest.status_code == 200, nearest.text
    assert statuses_after_nearest == ["confirmed", "pending"]
    assert_error(not_a_session, 404)
    assert_error(unreadable, 400)
    assert later.status_code == 200, later.text
    assert (await _booking(database, next_week.id)).status == "confirmed"


async def test_confirm_session_by_client_for_an_unknown_ticket_or_without_the_key(
    client: httpx.AsyncClient, database: Database
) -> None:
    await _booked(database, await _anna(database))

    assert_error(
        await client.post(
            "/webhook/confirm-session-by-client", json={"ticket_id": "nope", "slot_time": ""}, headers=ADMIN
        ),
        404,
    )
    assert_error(
        await client.post("/webhook/confirm-session-by-client", json={"slot_time": ""}, headers=ADMIN), 400
    )
    assert_error(await client.post("/webhook/confirm-session-by-client", json={"ticket_id": TICKET}), 401)


async def test_reschedule_session_moves_the_booking_to_the_same_psychologists_slot(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await _anna(database)
    old = await _booked(database, anna, client=await _client(database))
    new_slot = await make_slot(database, anna, start_at=msk(2026, 3, 6, 15), now=NOW)
    boris = await make_psychologist(database, now=NOW, name="Петров Борис")
    await make_slot(database, boris, start_at=msk(2026, 3, 6, 17), now=NOW)

    elsewhere = await client.post(
        "/webhook/reschedule-session",
        json={"ticket_id": TICKET, "new_slot_time": "06.03 17:00"},
        headers=ADMIN,
    )
    moved = await client.post(
        "/webhook/reschedule-session",
        json={"ticket_id": TICKET, "new_slot_time": "06.03 15:00"},
        headers=ADMIN,
    )

    assert_error(elsewhere, 404)
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"success": True, "message": "Сессия перенесена на 06.03 15:00 МСК"}
    assert (await _booking(database, old.id)).status == "cancelled"
    assert await _slot_state(database, old.slot_id) == "free"
    assert {e["state"] for e in await _timeline(client, old.id)} == {"cancelled"}
    async with database.unit_of_work(write=False) as session:
        new = (await session.execute(select(Booking).where(Booking.slot_id == new_slot.id))).scalar_one()
    assert (new.status, new.application_ref, new.client_id) == ("pending", TICKET, old.client_id)
    assert await _slot_state(database, new_slot.id) == "booked"
    timeline = await _timeline(client, new.id)
    assert _ladder(timeline)[:2] == [
        ("confirm_request", msk(2026, 3, 5, 15)),
        ("confirm_repeat", msk(2026, 3, 5, 17)),
    ]
    assert {e["state"] for e in timeline} == {"pending"}
    assert_error(
        await client.post(
            "/webhook/reschedule-session",
            json={"ticket_id": TICKET, "new_slot_time": "завтра"},
            headers=ADMIN,
        ),
        400,
    )


# --- feedback and history ----------------------------------------------------------------------


async def _feedback(database: Database) -> list[SessionFeedback]:
    async with database.unit_of_work(write=False) as session:
        query = select(SessionFeedback).order_by(SessionFeedback.created_at, SessionFeedback.author)
        return list((await session.execute(query)).scalars())


async def test_rate_session_client_os_and_psy_os_store_feedback(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    anna = await _anna(database)
    booking = await _booked(database, anna, client=await _client(database))

    rated = await client.post(
        "/webhook/rate-session",
        json={"ticket_id": TICKET, "rating": 5, "feedback": "Спасибо!"},
        headers=ADMIN,
    )
    clock.advance(minutes=1)
    form = await client.post(
        "/webhook/client-os",
        json={
            "anketa": {"mark": "4", "feelings": "спокойно", "needs": "больше времени"},
            "utm_client": PROOFS.attach(Purpose.CLIENT, TICKET),
            "psychologist_name": ANNA,
        },
    )
    clock.advance(minutes=1)
    psy = await client.post(
        "/webhook/psy-os",
        json={
            "anketa": {"mark": "5", "comment": "хорошо"},
            "psychologist_name": ANNA,
            "feedback_date": f"05.03-{PROOFS.token(Purpose.PSYCHOLOGIST, str(anna.id))}",
        },
    )

    for response in (rated, form, psy):
        assert response.status_code == 200, response.text
    assert rated.json() == {"success": True, "message": "Спасибо за отзыв"}
    stored = await _feedback(database)
    assert [(f.author, f.rating, f.text, f.booking_id, f.psychologist_id) for f in stored] == [
        ("client", 5, "Спасибо!", booking.id, anna.id),
        ("client", 4, "больше времени", booking.id, anna.id),
        ("psychologist", 5, None, None, anna.id),
    ]
    assert stored[1].answers["feelings"] == "спокойно"
    assert stored[2].answers["feedback_date"] == "05.03"

    for bad in (6, 0, "отлично"):
        assert_error(
            await client.post(
                "/webhook/rate-session", json={"ticket_id": TICKET, "rating": bad}, headers=ADMIN
            ),
            400,
        )
    assert_error(
        await client.post(
            "/webhook/client-os",
            json={"anketa": {"mark": "9"}, "utm_client": PROOFS.attach(Purpose.CLIENT, TICKET)},
        ),
        400,
    )
    assert_error(await client.post("/webhook/psy-os", json={"psychologist_name": ANNA}), 400)
    assert_error(await client.post("/webhook/rate-session", json={"ticket_id": TICKET, "rating": 5}), 401)
    assert len(await _feedback(database)) == 3


async def test_client_sessions_history_lists_the_clients_sessions_with_their_rating(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await _anna(database)
    anna_client = await _client(database)
    await _booked(database, anna, client=anna_client)
    await _booked(database, anna, start=START + timedelta(days=7), client=anna_client)
    await client.post(
        "/webhook/rate-session", json={"ticket_id": TICKET, "rating": 4, "feedback": "ок"}, headers=ADMIN
    )

    by_id = await client.get(
        "/webhook/client-sessions-history", params={"client_telegram": "555"}, headers=ADMIN
    )
    by_name = await client.get(
        "/webhook/client-sessions-history", params={"client_telegram": "@anna_k"}, headers=ADMIN
    )
    nobody = await client.get(
        "/webhook/client-sessions-history", params={"client_telegram": "@nobody"}, headers=ADMIN
    )

    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == by_name.json()
    assert by_id.json() == {
        "sessions": [
            {
                "ticket_id": TICKET,
                "psychologist_name": ANNA,
                "slot_time": "12.03.2026 14:00",
                "status": "pending",
                "rating": 4,
                "feedback": "ок",
            },
            {
                "ticket_id": TICKET,
                "psychologist_name": ANNA,
                "slot_time": "05.03.2026 14:00",
                "status": "pending",
                "rating": None,
                "feedback": None,
            },
        ]
    }
    assert nobody.json() == {"sessions": []}
    assert_error(await client.get("/webhook/client-sessions-history", headers=ADMIN), 400)
    assert_error(await client.get("/webhook/client-sessions-history", params={"client_telegram": "555"}), 401)


# --- messages ----------------------------------------------------------------------------------


async def test_send_ticket_notification_enqueues_the_text_for_the_client(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await _anna(database)
    await _booked(database, anna, client=await _client(database))

    sent = await client.post(
        "/webhook/send-ticket-notification",
        json={
            "ticket_id": TICKET,
            "notification_type": "custom",
            "message": "Психолог задерживается на 5 минут",
        },
        headers=ADMIN,
    )

    assert sent.status_code == 200, sent.text
    assert sent.json() == {"success": True, "message": "Уведомление поставлено в очередь"}
    (message,) = await _outbox(client)
    assert (message["recipient_kind"], message["chat_id"], message["text"], message["state"]) == (
        "client",
        "555",
        "Психолог задерживается на 5 минут",
        "pending",
    )
    assert_error(
        await client.post("/webhook/send-ticket-notification", json={"ticket_id": TICKET}, headers=ADMIN), 400
    )
    assert_error(
        await client.post(
            "/webhook/send-ticket-notification", json={"ticket_id": "nope", "message": "x"}, headers=ADMIN
        ),
        404,
    )
    assert_error(
        await client.post("/webhook/send-ticket-notification", json={"ticket_id": TICKET, "message": "x"}),
        401,
    )
    too_long = {"ticket_id": TICKET, "message": "слово " * 3000}
    assert_error(await client.post("/webhook/send-ticket-notification", json=too_long, headers=ADMIN), 400)
    assert len(await _outbox(client)) == 1


async def test_a_long_ticket_notification_is_queued_whole_in_telegram_sized_parts(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await _anna(database)
    await _booked(database, anna, client=await _client(database))
    paragraph = ("Подробности о переносе сессии. " * 40).strip()
    letter = "\n\n".join(f"{n}. {paragraph}" for n in range(1, 8))

    sent = await client.post(
        "/webhook/send-ticket-notification",
        json={"ticket_id": TICKET, "notification_type": "custom", "message": letter},
        headers=ADMIN,
    )

    assert sent.status_code == 200, sent.text
    parts = sorted(await _outbox(client), key=lambda message: message["dedupe_key"])  # key, key#2, key#3
    assert len(parts) == 3
    assert {(m["chat_id"], m["state"]) for m in parts} == {("555", "pending")}
    assert all(len(m["text"]) <= 4096 for m in parts)
    assert "\n\n".join(m["text"] for m in parts) == letter


@pytest.mark.parametrize("suffix", BOTH)
async def test_editor_done_calls_tell_the_psychologist_and_the_admin_once(
    client: httpx.AsyncClient, database: Database, suffix: str
) -> None:
    anna = await _anna(database)
    paths = [
        "send-onboarding-message-after-slot-setup",
        "send-onboarding-message-after-slot-setup-rp",
        "send-onboarding-message-after-slot-setup-supervisii",
        "send-slot-change-notifications",
    ]

    for _ in range(2):  # the editor's "Готово" pressed twice
        for path in paths:
            response = await client.post(f"/webhook/{path}{suffix}?secret={anna.editor_secret}")
            assert response.status_code == 200, response.text
            assert response.json() == {"success": True}

    messages = await _outbox(client)
    assert sorted(m["dedupe_key"].split(":")[0] + ":" + m["recipient_kind"] for m in messages) == [
        "onboarding:psychologist",
        "onboarding:psychologist",
        "onboarding:psychologist",
        "slots_changed:admin",
    ]
    to_anna = [m for m in messages if m["recipient_kind"] == "psychologist"]
    assert {(m["chat_id"], m["recipient_ref"]) for m in to_anna} == {("777", str(anna.id))}
    assert all("расписание сохранено" in m["text"] for m in to_anna)
    (admin,) = [m for m in messages if m["recipient_kind"] == "admin"]
    assert admin["text"] == f"{ANNA} обновил(а) расписание."
    for path in paths:
        assert_error(await client.post(f"/webhook/{path}{suffix}?secret=wrong"), 403)


# --- the crons, run on demand ------------------------------------------------------------------


async def test_auto_cancel_and_reminder_crons_run_the_due_timeline_now(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    anna = await _anna(database)
    silent = await _booked(database, anna, client=await _client(database))

    clock.at = START - timedelta(hours=24)
    asked = await client.post("/webhook/send-session-reminders", headers=ADMIN)
    clock.at = START - timedelta(hours=18)
    cancelled = await client.post("/webhook/auto-cancel-tickets", headers=ADMIN)
    again = await client.post("/webhook/auto-cancel-tickets", headers=ADMIN)

    assert asked.status_code == 200, asked.text
    assert asked.json() == {"success": True, "sent_reminders": 1, "message": "Напоминания отправлены"}
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {"success": True, "cancelled_tickets": [TICKET], "message": "Отменено: 1"}
    assert again.json() == {"success": True, "cancelled_tickets": [], "message": "Отменено: 0"}
    assert (await _booking(database, silent.id)).is_auto_canceled
    assert await _slot_state(database, silent.slot_id) == "free"
    kinds = [
        (m["dedupe_key"].split(":")[2], m["recipient_kind"])
        for m in await _outbox(client)
        if m["dedupe_key"].startswith("booking:")
    ]
    assert kinds == [
        ("confirm_request", "client"),
        ("alert_unconfirmed", "admin"),
        ("auto_cancel", "admin"),
        ("auto_cancel", "client"),
        ("auto_cancel", "psychologist"),
        ("confirm_repeat", "client"),
    ]


async def test_update_ticket_statuses_closes_past_sessions(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    anna = await _anna(database)
    booking = await _booked(database, anna, start=msk(2026, 3, 2, 14))

    clock.at = msk(2026, 3, 2, 15, 59)
    early = await client.post("/webhook/update-ticket-statuses", headers=ADMIN)
    clock.at = msk(2026, 3, 2, 16)
    closed = await client.post("/webhook/update-ticket-statuses", headers=ADMIN)

    assert early.json() == {"success": True, "updated_tickets": 0, "message": "Статусы обновлены"}
    assert closed.json() == {"success": True, "updated_tickets": 1, "message": "Статусы обновлены"}
    assert (await _booking(database, booking.id)).status == "missed"


@pytest.mark.parametrize(
    ("path", "job", "result_keys"),
    [
        ("update-sessions-count", "recount_sessions_provided", {"psychologists", "changed"}),
        ("remind-slots", "remind_to_update_slots", {"reminded"}),
        ("check-link-transition", "check_bot_link_opened", {"alerted"}),
        ("confirm-help-hand", "helpful_hand_followups", {"asked", "alerted"}),
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_seed_cron_paths_run_their_job_now(
    client: httpx.AsyncClient,
    database: Database,
    path: str,
    job: str,
    result_keys: set[str],
    method: str,
) -> None:
    await _anna(database)

    response = await client.request(method, f"/webhook/{path}", headers=ADMIN)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["success"], body["job"]) == (True, job)
    assert set(body["result"]) == result_keys
    assert_error(await client.request(method, f"/webhook/{path}"), 401)
    assert_error(await client.request(method, f"/webhook/{path}", headers={"X-API-Key": "wrong"}), 401)


async def test_remind_slots_on_demand_messages_each_active_psychologist_with_their_editor_link(
    client: httpx.AsyncClient, database: Database
) -> None:
    anna = await _anna(database)

    first = await client.post("/webhook/remind-slots", headers=ADMIN)

    assert first.json()["result"] == {"reminded": 1}
    (message,) = await _outbox(client, recipient_kind="psychologist")
    assert message["chat_id"] == "777"
    assert f"/slots?secret={anna.editor_secret}" in message["text"]


@pytest.mark.parametrize("path", ["auto-cancel", "session-confirmation"])
async def test_seed_001_cron_paths_tick_the_worker(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(f"/webhook/{path}", headers=ADMIN)

    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    assert response.json()["result"]["jobs_run"] == 5
    assert_error(await client.post(f"/webhook/{path}"), 401)


@pytest.mark.parametrize(
    "path",
    [
        "auto-cancel-tickets",
        "send-session-reminders",
        "update-ticket-statuses",
        "reschedule-session",
        "plan-client-events",
        "schedule_client_action_after_5_days",
        "schedule_client_action_after_3_weeks",
    ],
)
async def test_internal_lifecycle_webhooks_need_the_admin_key(client: httpx.AsyncClient, path: str) -> None:
    assert_error(await client.post(f"/webhook/{path}", json={"ticket_id": TICKET}), 401)


# --- the admin API ------------------------------------------------------------------------------


async def test_admin_timeline_and_outbox_need_the_key_and_know_unknown_bookings(
    client: httpx.AsyncClient, database: Database
) -> None:
    booking = await _booked(database, await _anna(database))

    assert (await client.get(f"/api/v1/bookings/{booking.id}/timeline")).status_code == 401
    assert (await client.get("/api/v1/outbox")).status_code == 401
    assert (await client.post("/api/v1/worker/tick")).status_code == 401
    assert (await client.get(f"/api/v1/bookings/{uuid.uuid4()}/timeline", headers=ADMIN)).status_code == 404
    assert (
        await client.get("/api/v1/outbox", params={"recipient_kind": "robot"}, headers=ADMIN)
    ).status_code == 422
    assert _ladder(await _timeline(client, booking.id)) == LADDER


async def test_the_ladder_follows_the_settings(
    settings: Settings, clock: FrozenClock, database: Database
) -> None:
    """HRANITELI_LADDER_*: a practice that cancels 12 h ahead and reminds 1 h ahead gets that."""
    from hraniteli.app import create_app

    configured = settings.model_copy(update={"ladder_cancel_hours": 12, "ladder_reminder_hours": 1})
    app = create_app(configured, clock=clock, database=database)
    psychologist = await make_psychologist(database, now=clock())
    slot = await make_slot(database, psychologist, start_at=msk(2026, 3, 5, 14), now=clock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        booking = (await http.post("/api/v1/bookings", json={"slot_id": str(slot.id)}, headers=ADMIN)).json()
        timeline = (await http.get(f"/api/v1/bookings/{booking['id']}/timeline", headers=ADMIN)).json()

    due = {event["kind"]: event["due_at"] for event in timeline}
    assert due["auto_cancel"] == "2026-03-04T23:00:00Z"  # 14:00 MSK (11:00 UTC) − 12 h
    assert due["reminder"] == "2026-03-05T10:00:00Z"  # 14:00 MSK − 1 h
    assert due["confirm_request"] == "2026-03-04T11:00:00Z"  # the default 24 h


def test_a_ladder_out_of_order_is_refused() -> None:
    with pytest.raises(ValueError, match="ladder"):
        Settings(_env_file=None, ladder_cancel_hours=23)  # type: ignore[call-arg]


async def test_only_the_person_a_feedback_link_was_sent_to_can_answer_it(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    """Who may call `client-os`: the client, whose link's `utm_client` carries their proof;
    `psy-os`: the psychologist, whose link's `feedback_date` carries theirs. Anyone else (the bare
    number, another application's proof, a forged token) stores nothing and learns nothing."""
    anna = await _anna(database)
    await _booked(database, anna, client=await _client(database))
    someone = PROOFS.attach(Purpose.CLIENT, "other1")
    for utm_client in (TICKET, f"{TICKET}-{'A' * 22}", someone, None):
        response = await client.post(
            "/webhook/client-os",
            json={
                "anketa": {"mark": "1", "needs": "плохо"},
                "utm_client": utm_client,
                "psychologist_name": ANNA,
            },
        )
        assert 400 <= response.status_code < 500, utm_client
        assert "Анна" not in response.text
    someone_else = PROOFS.token(Purpose.PSYCHOLOGIST, str(uuid.uuid4()))
    for feedback_date in (
        "05.03",
        f"05.03-{someone_else}",
        f"05.03-{PROOFS.token(Purpose.CLIENT, str(anna.id))}",
    ):
        response = await client.post(
            "/webhook/psy-os",
            json={"anketa": {"mark": "1"}, "psychologist_name": ANNA, "feedback_date": feedback_date},
        )
        assert response.status_code == 403, feedback_date
    assert await _feedback(database) == []


async def test_the_feedback_links_the_service_sends_work_unchanged_on_the_forms(
    client: httpx.AsyncClient, database: Database, clock: FrozenClock
) -> None:
    """The feedback requests' links carry the proofs; the forms post their parameters back as
    they are ([OLD] PopupClientFeedback / PopupPsyFeedback), and the answers are stored."""
    anna = await _anna(database)
    booking = await _booked(database, anna, client=await _client(database))
    async with database.unit_of_work() as session:
        stored = await session.get(Booking, booking.id)
        assert stored is not None
        stored.status, stored.is_confirmed = BookingStatus.CONFIRMED, True

    clock.at = START + timedelta(hours=3)
    assert (await client.post("/webhook/send-session-reminders", headers=ADMIN)).status_code == 200
    texts = {m["recipient_kind"]: m["text"] for m in await _outbox(client) if ":feedback:" in m["dedupe_key"]}
    to_client = link_params(texts["client"], "https://psy.hrani.live/client-feedback-anketa")
    to_psychologist = link_params(
        texts["psychologist"], "https://psy.hrani.live/psychologist-feedback-anketa"
    )
    assert set(to_client) == {"utm_client", "psychologist_name", "session_date"}, "no Telegram ids in links"
    assert to_client["utm_client"].startswith(f"{TICKET}-")
    assert to_psychologist["feedback_date"].startswith("05.03.2026-")

    page = {k: to_client[k] for k in ("utm_client", "psychologist_name")}
    answered = await client.post("/webhook/client-os", json={"anketa": {"mark": "5", "needs": "всё"}, **page})
    psy = await client.post("/webhook/psy-os", json={"anketa": {"mark": "4"}, **to_psychologist})

    assert answered.status_code == 200, answered.text
    assert psy.status_code == 200, psy.text
    feedback = await _feedback(database)
    assert [(f.author, f.rating, f.booking_id, f.psychologist_id) for f in feedback] == [
        ("client", 5, booking.id, anna.id),
        ("psychologist", 4, None, anna.id),
    ]
    assert feedback[1].answers["feedback_date"] == "05.03.2026", "the proof is not kept as an answer"
