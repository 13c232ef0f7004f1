"""Status and vocabulary enums shared by models and services."""

from __future__ import annotations

from enum import StrEnum


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class ClientSexAccepted(StrEnum):
    ANY = "any"
    MALE = "male"
    FEMALE = "female"


class PsychologistGroup(StrEnum):
    COMMUNITY = "community"  # "Сообщество": the main catalogue
    SUPERVISION = "supervision"  # "Супервизии"
    HELPFUL_HAND = "helpful_hand"  # "Рука помощи" project members


class SlotState(StrEnum):
    FREE = "free"
    BOOKED = "booked"


class RepeatRule(StrEnum):
    NONE = "none"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    MISSED = "missed"


ACTIVE_BOOKING_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class ApplicationKind(StrEnum):
    MATCHING = "matching"
    CARD = "card"
    DIAGNOSTIC = "diagnostic"
    HELPFUL_HAND = "helpful_hand"
    RESEARCH = "research"


class ApplicationStatus(StrEnum):
    NEW = "new"  # received; the client has not chosen a time that could be booked yet
    AWAITING_PSYCHOLOGIST = "awaiting_psychologist"  # Helpful Hand: no psychologist took it yet
    CLAIMED = "claimed"  # Helpful Hand: a psychologist took it; the client picks a slot
    BOOKED = "booked"  # a session is booked
    HANDED_TO_ADMIN = "handed_to_admin"  # automatch found nothing: a person takes over
    CANCELLED = "cancelled"
    CLOSED = "closed"


class WorkState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"  # nothing left to do when it came due (e.g. already confirmed)
    CANCELLED = "cancelled"  # the booking was cancelled or moved
    FAILED = "failed"  # gave up after the last retry


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    NO_CHAT = "no_chat"  # the person has no Telegram chat with the bot yet: kept for the admin pages
    BLOCKED = "blocked"  # the person blocked the bot (403)
    FAILED = "failed"  # gave up after the last retry
    HELD = "held"  # no bot token configured: readable in the outbox API
    EXPIRED = "expired"  # its moment passed before it could go (a reminder of a session begun)
