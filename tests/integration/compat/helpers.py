"""Shared bits of the compat tests: the client's request bodies, slot-row keys, DB snapshots."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from hraniteli.db import Database
from hraniteli.models import Booking, Psychologist, Slot
from tests import payloads

BOTH = ("", "-test-contur")
"""Every legacy webhook is served at `<name>` and `<name>-test-contur`."""

SLOT_ROW_KEYS = {
    "id",
    "psychologist",
    "date",
    "time",
    "state",
    "ticket",
    "client_id",
    "meeting_link",
    "meeting_id",
    "calendar_meeting_id",
    "confirmed",
    "auto_assigned",
    "auto_canceled",
    "is_helpful_hand",
    "Дата Локальная",
    "Время Локальное",
}
EDITOR_SLOT_KEYS = {"id", "status", "event", "event_modal_type", "slot_over_event", "time"}
HOUR_KEYS = [f"{hour:02d}:00" for hour in range(24)]


def schedule_request(**overrides: Any) -> dict[str, Any]:
    """The `ScheduleRequest` body of contract §3.1 for a week from 2026-03-02 and a male client,
    with top-level overrides."""
    return payloads.schedule_request(
        **{
            "startDate": "2026-03-02",
            "endDate": "2026-03-09",
            "formPsyClientInfo": payloads.client_info(sex="Мужской"),
            **overrides,
        }
    )


def seed_slot_row(**overrides: Any) -> dict[str, Any]:
    """The `hraniteli_slots` row seed 001 posts to assign-session / cancel-session."""
    row: dict[str, Any] = {
        "id": None,
        "psychologist": "Иванова Анна",
        "date": "2026-03-04",
        "time": "14:00",
        "state": "Свободен",
        "ticket": "k3f9a",
        "client_id": None,
        "meeting_link": None,
        "meeting_id": None,
        "calendar_meeting_id": None,
        "confirmed": False,
        "auto_assigned": True,
        "auto_canceled": False,
        "is_helpful_hand": False,
    }
    row.update(overrides)
    return row


async def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a compat call could change: slots, bookings, psychologists' schedule revisions."""
    async with database.unit_of_work(write=False) as session:
        slots = await session.execute(
            select(
                Slot.id,
                Slot.psychologist_id,
                Slot.start_at,
                Slot.state,
                Slot.repeat_rule,
                Slot.repeat_root_id,
                Slot.is_over_event,
            ).order_by(Slot.id)
        )
        bookings = await session.execute(
            select(Booking.id, Booking.slot_id, Booking.status, Booking.application_ref).order_by(Booking.id)
        )
        psychologists = await session.execute(
            select(Psychologist.id, Psychologist.name, Psychologist.schedule_revision).order_by(
                Psychologist.id
            )
        )
        return {
            "slots": [tuple(row) for row in slots.all()],
            "bookings": [tuple(row) for row in bookings.all()],
            "psychologists": [tuple(row) for row in psychologists.all()],
        }


async def editor_day(
    client: httpx.AsyncClient, secret: str, day: str, *, suffix: str = ""
) -> dict[str, list[dict[str, Any]]]:
    """The editor grid (`get-slot`) of one day, `YYYY-MM-DD`."""
    response = await client.get(
        f"/webhook/get-slot{suffix}", params={"secret": secret, "startDate": day, "endDate": day}
    )
    assert response.status_code == 200
    (item,) = response.json()[0]["items"]
    assert item["date"] == day
    slots: dict[str, list[dict[str, Any]]] = item["slots"]
    return slots


async def free_hours(client: httpx.AsyncClient, name: str, day: str) -> dict[str, list[str]]:
    """`get-aggregated-all` for one MSK day and one psychologist: hour → free slot ids."""
    response = await client.post(
        "/webhook/get-aggregated-all", json={"startDate": day, "endDate": day, "show_only_psy": name}
    )
    assert response.status_code == 200
    items = response.json()[0]["items"]
    if not items:
        return {}
    return {hour: [row["id"] for row in rows] for hour, rows in items[0]["slots"].items() if rows}


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A 4xx with the error envelope `{"error": {"code", "message", "details"}}`."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    result: dict[str, Any] = error
    return result
