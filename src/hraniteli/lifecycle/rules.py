"""The session lifecycle ladder as pure rules: which events a booking gets, and when.

Times are relative to the session start T (defaults, configurable):

  booked create the meeting link (Zoom → Google Meet → Jitsi)
  T−24h  ask the client to confirm ("Спасибо, я приду" / "Перенести" / "Отменить")
  T−22h  ask again if still unconfirmed
  T−21h  alert the admin chat if still unconfirmed
  T−18h  cancel if still unconfirmed (slot freed; client, psychologist and admin told)
  T−2h   reminder with the meeting link to client and psychologist
  end+1h feedback request to both
  T+5d, T+3w  offer the client the psychologist's free slots again

A booking made inside the ladder (docs/lifecycle.md): nothing is planned in the past; the
confirmation request goes out at once; the client always gets at least `min_answer_window`
to answer before an auto-cancel, otherwise there is no auto-cancel at all (the admin is
alerted instead) — a client booking 10 hours ahead is never cancelled for silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class EventKind(StrEnum):
    CREATE_MEETING = "create_meeting"
    DELETE_MEETING = "delete_meeting"
    CONFIRM_REQUEST = "confirm_request"
    CONFIRM_REPEAT = "confirm_repeat"
    ALERT_UNCONFIRMED = "alert_unconfirmed"
    AUTO_CANCEL = "auto_cancel"
    REMINDER = "reminder"
    FEEDBACK = "feedback"
    OFFER_AFTER_5_DAYS = "offer_after_5_days"
    OFFER_AFTER_3_WEEKS = "offer_after_3_weeks"


CONFIRMATION_KINDS = frozenset(
    {EventKind.CONFIRM_REQUEST, EventKind.CONFIRM_REPEAT, EventKind.ALERT_UNCONFIRMED, EventKind.AUTO_CANCEL}
)
"""Events that only matter while the client has not confirmed."""

MEETING_KINDS = frozenset({EventKind.CREATE_MEETING, EventKind.DELETE_MEETING})
"""Events that call a video provider: run outside database transactions (lifecycle.meetings)."""


@dataclass(frozen=True)
class LadderPolicy:
    confirm_before: timedelta = timedelta(hours=24)
    repeat_before: timedelta = timedelta(hours=22)
    alert_before: timedelta = timedelta(hours=21)
    cancel_before: timedelta = timedelta(hours=18)
    reminder_before: timedelta = timedelta(hours=2)
    feedback_after_end: timedelta = timedelta(hours=1)
    offer_after: tuple[timedelta, timedelta] = (timedelta(days=5), timedelta(weeks=3))
    min_answer_window: timedelta = timedelta(hours=3)
    """The least time a client gets between the first request and an auto-cancel."""

    @classmethod
    def from_hours(
        cls,
        *,
        confirm: float,
        repeat: float,
        alert: float,
        cancel: float,
        reminder: float,
        feedback_after: float,
        offer_days: tuple[float, float],
        min_answer: float,
    ) -> LadderPolicy:
        return cls(
            confirm_before=timedelta(hours=confirm),
            repeat_before=timedelta(hours=repeat),
            alert_before=timedelta(hours=alert),
            cancel_before=timedelta(hours=cancel),
            reminder_before=timedelta(hours=reminder),
            feedback_after_end=timedelta(hours=feedback_after),
            offer_after=(timedelta(days=offer_days[0]), timedelta(days=offer_days[1])),
            min_answer_window=timedelta(hours=min_answer),
        )


@dataclass(frozen=True)
class PlannedEvent:
    kind: EventKind
    due_at: datetime


def plan(
    *, start_at: datetime, end_at: datetime, booked_at: datetime, policy: LadderPolicy = LadderPolicy()
) -> list[PlannedEvent]:
    """The events of a booking made at `booked_at`, in due order; none is due before it."""
    if end_at <= start_at:
        raise ValueError("a session ends after it starts")
    if start_at <= booked_at:
        return [PlannedEvent(EventKind.FEEDBACK, end_at + policy.feedback_after_end)]
    events: list[PlannedEvent] = [PlannedEvent(EventKind.CREATE_MEETING, booked_at)]
    confirm_at = max(start_at - policy.confirm_before, booked_at)
    cancel_at = start_at - policy.cancel_before
    events.append(PlannedEvent(EventKind.CONFIRM_REQUEST, confirm_at))
    can_cancel = cancel_at - confirm_at >= policy.min_answer_window
    if can_cancel:
        repeat_at = start_at - policy.repeat_before
        alert_at = start_at - policy.alert_before
        if repeat_at > confirm_at:
            events.append(PlannedEvent(EventKind.CONFIRM_REPEAT, repeat_at))
        events.append(PlannedEvent(EventKind.ALERT_UNCONFIRMED, max(alert_at, confirm_at)))
        events.append(PlannedEvent(EventKind.AUTO_CANCEL, cancel_at))
    else:
        # Too late to cancel fairly: keep the booking, and let a person call the client
        # halfway to the session if they stay silent.
        events.append(PlannedEvent(EventKind.ALERT_UNCONFIRMED, confirm_at + (start_at - confirm_at) / 2))
    events.append(PlannedEvent(EventKind.REMINDER, max(start_at - policy.reminder_before, booked_at)))
    events.append(PlannedEvent(EventKind.FEEDBACK, end_at + policy.feedback_after_end))
    for kind, delay in zip(
        (EventKind.OFFER_AFTER_5_DAYS, EventKind.OFFER_AFTER_3_WEEKS), policy.offer_after, strict=True
    ):
        events.append(PlannedEvent(kind, start_at + delay))
    return sorted(events, key=lambda event: (event.due_at, list(EventKind).index(event.kind)))


def is_needed(kind: EventKind, *, is_confirmed: bool, is_active: bool, is_past: bool) -> bool:
    """Whether a due event still has something to do when its time comes."""
    if kind in CONFIRMATION_KINDS:
        return is_active and not is_confirmed
    if kind in (EventKind.REMINDER, EventKind.CREATE_MEETING):
        return is_active
    if kind == EventKind.FEEDBACK:
        return is_past
    return True
