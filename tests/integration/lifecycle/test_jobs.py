"""The periodic jobs driven by an injected `now`: one run per job and tick, late but once after
downtime, and what each job tells people or changes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update

from hraniteli.bookings import service as bookings
from hraniteli.db import Database
from hraniteli.lifecycle.actions import LifecycleSettings
from hraniteli.lifecycle.jobs import JOBS_BY_NAME
from hraniteli.lifecycle.worker import Worker
from hraniteli.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Booking,
    BookingStatus,
    Client,
    JobRun,
    OutboxMessage,
    Psychologist,
    WorkState,
)
from tests.builders import days, make_psychologist, make_slot, msk
from tests.conftest import NOW

SETTINGS = LifecycleSettings(admin_chat_id="-100500")


async def _runs(database: Database) -> list[JobRun]:
    async with database.unit_of_work(write=False) as session:
        return list((await session.execute(select(JobRun).order_by(JobRun.job, JobRun.tick_at))).scalars())


async def _messages(database: Database, prefix: str = "") -> list[OutboxMessage]:
    async with database.unit_of_work(write=False) as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like(f"{prefix}%"))
            .order_by(OutboxMessage.created_at, OutboxMessage.dedupe_key)
        )
        return list((await session.execute(query)).scalars())


def _worker(database: Database, *names: str) -> Worker:
    jobs = tuple(JOBS_BY_NAME[name] for name in names) if names else tuple(JOBS_BY_NAME.values())
    return Worker(database, SETTINGS, jobs=jobs)


async def _client(database: Database, telegram_id: str | None, *, name: str = "Анна") -> Client:
    async with database.unit_of_work() as session:
        client = Client(
            id=uuid.uuid4(),
            telegram_id=telegram_id,
            name=name,
            contact_type="Telegram",
            contact="@anna",
            time_zone="Europe/Moscow",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(client)
        return client


async def _application(
    database: Database,
    number: str,
    *,
    created_at: datetime = NOW,
    client: Client | None = None,
    kind: ApplicationKind = ApplicationKind.HELPFUL_HAND,
    status: ApplicationStatus = ApplicationStatus.AWAITING_PSYCHOLOGIST,
) -> Application:
    async with database.unit_of_work() as session:
        application = Application(
            id=uuid.uuid4(),
            number=number,
            kind=kind,
            status=status,
            client_id=client.id if client else None,
            raw={},
            client_name="Анна",
            contact_type="Telegram",
            contact="@anna_k",
            created_at=created_at,
            updated_at=created_at,
        )
        session.add(application)
        return application


# --- ticks -------------------------------------------------------------------------------------

EXPECTED_TICKS_AT_NOW = {
    "recount_sessions_provided": msk(2026, 3, 1, 21),  # daily 21:00: yesterday's
    "remind_to_update_slots": msk(2026, 2, 28, 19),  # Wednesday and Saturday 19:00: Saturday's
    "close_past_bookings": NOW,  # hourly
    "helpful_hand_followups": msk(2026, 3, 1, 12),  # daily 12:00
    "check_bot_link_opened": NOW,  # every minute
}


async def test_ticks_are_materialised_once_per_job_and_tick(database: Database) -> None:
    await make_psychologist(database, now=NOW, telegram_id="777")

    first = await _worker(database).tick(NOW)
    again = await _worker(database).tick(NOW)
    # Two workers racing over the next hour's new ticks (close_past_bookings, check_bot_link_opened).
    later = NOW + timedelta(hours=1)
    racing = await asyncio.gather(_worker(database).tick(later), _worker(database).tick(later))

    runs = await _runs(database)
    assert first.jobs_run == 5
    assert again.jobs_run == 0
    assert sum(report.jobs_run for report in racing) == 2
    assert sum(report.jobs_failed for report in (first, again, *racing)) == 0
    at_now = {r.job: r.tick_at for r in runs if r.created_at == NOW}
    assert at_now == EXPECTED_TICKS_AT_NOW
    assert sorted((r.job, r.tick_at) for r in runs if r.created_at == later) == [
        ("check_bot_link_opened", later),
        ("close_past_bookings", later),
    ]
    assert {(r.state, r.attempts) for r in runs} == {(WorkState.DONE, 1)}
    reminders = await _messages(database, "job:remind_slots:")
    assert [(m.recipient_kind, m.chat_id) for m in reminders] == [("psychologist", "777")]


async def test_a_worker_down_for_three_days_runs_each_missed_job_once_late(database: Database) -> None:
    await make_psychologist(database, now=NOW, telegram_id="777")
    await _worker(database).tick(NOW)

    back = NOW + days(3)  # Thursday 09:00: three daily recounts, 72 hourly closes … were missed
    report = await _worker(database).tick(back)
    again = await _worker(database).tick(back + timedelta(seconds=30))

    assert report.jobs_run == 5
    assert again.jobs_run == 0
    late = {r.job: r for r in await _runs(database) if r.created_at == back}
    assert {job: run.tick_at for job, run in late.items()} == {
        "recount_sessions_provided": msk(2026, 3, 4, 21),
        "remind_to_update_slots": msk(2026, 3, 4, 19),
        "close_past_bookings": back,
        "helpful_hand_followups": msk(2026, 3, 4, 12),
        "check_bot_link_opened": back,
    }
    assert {(run.state, run.attempts, run.updated_at) for run in late.values()} == {(WorkState.DONE, 1, back)}
    reminders = await _messages(database, "job:remind_slots:")
    assert [m.created_at for m in reminders] == [NOW, back]  # Saturday's tick, then Wednesday's, late


# --- recount_sessions_provided ------------------------------------------------------------------


async def _booked(
    database: Database, psychologist: Psychologist, start: datetime, status: BookingStatus
) -> Booking:
    booked_at = msk(2026, 2, 20, 9)
    slot = await make_slot(database, psychologist, start_at=start, now=booked_at)
    async with database.unit_of_work() as session:
        booking = await bookings.book_slot(
            session, request=bookings.BookingRequest(slot_id=slot.id, is_confirmed=True), now=booked_at
        )
        if status == BookingStatus.CANCELLED:
            await bookings.cancel_booking(session, booking=booking, now=booked_at, reason="болею")
        else:
            await session.execute(update(Booking).where(Booking.id == booking.id).values(status=status))
        return booking


async def _sessions_provided(database: Database) -> dict[str, int]:
    async with database.unit_of_work(write=False) as session:
        return {p.name: p.sessions_provided for p in (await session.execute(select(Psychologist))).scalars()}


async def test_recount_sessions_provided_counts_this_months_held_sessions_at_21_msk(
    database: Database,
) -> None:
    anna = await make_psychologist(database, now=NOW, name="Иванова Анна")
    await make_psychologist(database, now=NOW, name="Петров Борис", sessions_provided=7)
    await _booked(database, anna, msk(2026, 2, 27, 14), BookingStatus.COMPLETED)  # last month
    await _booked(database, anna, msk(2026, 3, 2, 14), BookingStatus.COMPLETED)
    await _booked(database, anna, msk(2026, 3, 3, 10), BookingStatus.CONFIRMED)
    await _booked(database, anna, msk(2026, 3, 3, 16), BookingStatus.CANCELLED)
    await _booked(database, anna, msk(2026, 3, 4, 10), BookingStatus.MISSED)
    await _booked(database, anna, msk(2026, 3, 4, 15), BookingStatus.CONFIRMED)
    await _booked(database, anna, msk(2026, 3, 5, 10), BookingStatus.CONFIRMED)  # still ahead
    worker = _worker(database, "recount_sessions_provided")

    await worker.tick(msk(2026, 3, 4, 20, 59))  # Tuesday's 21:00 tick, late
    at_2059 = await _sessions_provided(database)
    await worker.tick(msk(2026, 3, 4, 21))
    await worker.tick(msk(2026, 3, 4, 23))
    runs = await _runs(database)
    await worker.tick(msk(2026, 4, 1, 21))  # a new month starts from zero

    assert at_2059 == {"Иванова Анна": 3, "Петров Борис": 0}
    assert [r.tick_at for r in runs] == [msk(2026, 3, 3, 21), msk(2026, 3, 4, 21)]
    assert await _sessions_provided(database) == {"Иванова Анна": 0, "Петров Борис": 0}
    result = await worker.run_job_now("recount_sessions_provided", msk(2026, 3, 5, 12))
    assert result == {"psychologists": 2, "changed": 1}
    assert (await _sessions_provided(database))["Иванова Анна"] == 4


# --- remind_to_update_slots ---------------------------------------------------------------------


async def test_psychologists_are_reminded_to_update_slots_on_wednesday_and_saturday_at_19_msk(
    database: Database,
) -> None:
    anna = await make_psychologist(database, now=NOW, name="Иванова Анна", telegram_id="701")
    boris = await make_psychologist(database, now=NOW, name="Петров Борис")
    await make_psychologist(database, now=NOW, name="Сидорова Вера", telegram_id="703", is_active=False)
    worker = _worker(database, "remind_to_update_slots")

    sent_by_tick = []
    for at in (
        NOW,  # Saturday 28 February's tick, late
        msk(2026, 3, 4, 18, 59),
        msk(2026, 3, 4, 19),  # Wednesday
        msk(2026, 3, 5, 19),
        msk(2026, 3, 6, 19),
        msk(2026, 3, 7, 19),  # Saturday
        msk(2026, 3, 8, 19),
        msk(2026, 3, 8, 23, 59),
    ):
        await worker.tick(at)
        sent_by_tick.append(len(await _messages(database, "job:remind_slots:")))

    assert sent_by_tick == [2, 2, 4, 4, 4, 6, 6, 6]
    messages = await _messages(database, "job:remind_slots:")
    assert {m.recipient_ref for m in messages} == {str(anna.id), str(boris.id)}
    to_anna = [m for m in messages if m.recipient_ref == str(anna.id)]
    assert [m.created_at for m in to_anna] == [NOW, msk(2026, 3, 4, 19), msk(2026, 3, 7, 19)]
    assert {(m.recipient_kind, m.chat_id, m.state) for m in to_anna} == {("psychologist", "701", "pending")}
    assert all(f"http://127.0.0.1:8000/slots?secret={anna.editor_secret}" in m.text for m in to_anna)
    assert all("свободные окна" in m.text for m in to_anna)
    to_boris = [m for m in messages if m.recipient_ref == str(boris.id)]
    assert {(m.chat_id, m.state) for m in to_boris} == {(None, "no_chat")}
    assert all(boris.editor_secret in m.text for m in to_boris)


# --- close_past_bookings ------------------------------------------------------------------------


async def test_past_bookings_are_closed_an_hour_after_the_end(database: Database) -> None:
    start = msk(2026, 3, 2, 14)  # ends 15:00
    made = {}
    for name, confirm in (("Иванова Анна", True), ("Петров Борис", False), ("Сидорова Вера", None)):
        psychologist = await make_psychologist(database, now=NOW, name=name)
        slot = await make_slot(database, psychologist, start_at=start, now=NOW)
        async with database.unit_of_work() as session:
            booking = await bookings.book_slot(
                session, request=bookings.BookingRequest(slot_id=slot.id), now=NOW
            )
            if confirm:
                await bookings.confirm_booking(session, booking=booking, now=NOW)
            elif confirm is None:
                await bookings.cancel_booking(session, booking=booking, now=NOW, reason="болею")
        made[name] = booking.id
    anna = await make_psychologist(database, now=NOW, name="Орлова Дарья")
    ahead = await make_slot(database, anna, start_at=msk(2026, 3, 3, 14), now=NOW)
    async with database.unit_of_work() as session:
        made["ahead"] = (
            await bookings.book_slot(
                session, request=bookings.BookingRequest(slot_id=ahead.id, is_confirmed=True), now=NOW
            )
        ).id
    worker = _worker(database, "close_past_bookings")

    async def statuses() -> dict[str, str]:
        async with database.unit_of_work(write=False) as session:
            found = {b.id: b.status for b in (await session.execute(select(Booking))).scalars()}
        return {name: found[booking_id] for name, booking_id in made.items()}

    await worker.tick(msk(2026, 3, 2, 15, 59))
    before = await statuses()
    report = await worker.tick(msk(2026, 3, 2, 16))
    after = await statuses()

    assert before == {
        "Иванова Анна": "confirmed",
        "Петров Борис": "pending",
        "Сидорова Вера": "cancelled",
        "ahead": "confirmed",
    }
    assert after == {
        "Иванова Анна": "completed",
        "Петров Борис": "missed",
        "Сидорова Вера": "cancelled",
        "ahead": "confirmed",
    }
    assert report.job_results["close_past_bookings"] == {"completed": 1, "missed": 1}


# --- helpful_hand_followups ---------------------------------------------------------------------


async def test_unclaimed_helpful_hand_client_is_asked_at_7_and_14_days_and_the_admin_told_at_21(
    database: Database,
) -> None:
    client = await _client(database, "555")
    await _application(database, "hh-1", client=client)
    await _application(database, "hh-claimed", status=ApplicationStatus.CLAIMED)
    await _application(
        database, "m-1", kind=ApplicationKind.MATCHING, status=ApplicationStatus.AWAITING_PSYCHOLOGIST
    )
    worker = _worker(database, "helpful_hand_followups")

    for day in range(0, 26):
        await worker.tick(msk(2026, 3, 2, 12) + days(day))

    messages = await _messages(database, "helpful_hand:")
    assert [(m.recipient_kind, m.chat_id, m.created_at) for m in messages] == [
        ("client", "555", msk(2026, 3, 9, 12)),
        ("client", "555", msk(2026, 3, 16, 12)),
        ("admin", "-100500", msk(2026, 3, 23, 12)),
    ]
    assert "Заявка для вас актуальна?" in messages[0].text
    assert messages[0].recipient_ref == str(client.id)
    assert "hh-1" in messages[2].text
    assert "три недели" in messages[2].text


async def test_a_late_helpful_hand_followup_asks_the_client_once_not_twice(database: Database) -> None:
    client = await _client(database, "555")
    await _application(database, "hh-1", client=client)
    worker = _worker(database, "helpful_hand_followups")

    await worker.tick(NOW + days(15))  # no worker ran for two weeks: both questions are overdue
    await worker.tick(NOW + days(16))
    await worker.tick(NOW + days(22))

    messages = await _messages(database, "helpful_hand:")
    assert [(m.recipient_kind, m.created_at) for m in messages] == [
        ("client", NOW + days(15)),
        ("admin", NOW + days(22)),
    ]


# --- check_bot_link_opened ----------------------------------------------------------------------


async def test_an_application_whose_client_never_opened_the_bot_alerts_the_admin_once_after_2_minutes(
    database: Database,
) -> None:
    in_bot = await _client(database, "555", name="Борис")
    await _application(database, "a-silent", kind=ApplicationKind.MATCHING, status=ApplicationStatus.NEW)
    await _application(
        database, "a-in-bot", client=in_bot, kind=ApplicationKind.MATCHING, status=ApplicationStatus.NEW
    )
    await _application(
        database,
        "a-old",
        created_at=NOW - timedelta(hours=2),
        kind=ApplicationKind.MATCHING,
        status=ApplicationStatus.NEW,
    )
    worker = _worker(database, "check_bot_link_opened")

    counts = []
    for minutes in (1, 2, 3, 10):
        await worker.tick(NOW + timedelta(minutes=minutes))
        counts.append(len(await _messages(database, "bot_link:")))

    assert counts == [0, 1, 1, 1]
    (alert,) = await _messages(database, "bot_link:")
    assert (alert.recipient_kind, alert.chat_id, alert.created_at) == (
        "admin",
        "-100500",
        NOW + timedelta(minutes=2),
    )
    assert "a-silent" in alert.text
    assert "не перешёл в бота" in alert.text
    assert "@anna_k" in alert.text
