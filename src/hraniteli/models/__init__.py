"""ORM models, one module per aggregate, re-exported here for Alembic and services."""

from hraniteli.models.analytics import FormAnswer, FormSession, FormStep, ResearchResponse
from hraniteli.models.application import Application, ApplicationCandidate, ApplicationEvent
from hraniteli.models.base import Base, UTCDateTime
from hraniteli.models.booking import Booking
from hraniteli.models.client import Client
from hraniteli.models.enums import (
    ACTIVE_BOOKING_STATUSES,
    ApplicationKind,
    ApplicationStatus,
    BookingStatus,
    ClientSexAccepted,
    OutboxState,
    PsychologistGroup,
    RepeatRule,
    Sex,
    SlotState,
    WorkState,
)
from hraniteli.models.feedback import SessionFeedback
from hraniteli.models.keys import ServiceSecret
from hraniteli.models.notification import OutboxMessage
from hraniteli.models.psychologist import Education, Psychologist
from hraniteli.models.slot import Slot
from hraniteli.models.timeline import JobRun, TimelineEvent

__all__ = [
    "ACTIVE_BOOKING_STATUSES",
    "Application",
    "ApplicationCandidate",
    "ApplicationEvent",
    "ApplicationKind",
    "ApplicationStatus",
    "Base",
    "Booking",
    "BookingStatus",
    "Client",
    "ClientSexAccepted",
    "Education",
    "FormAnswer",
    "FormSession",
    "FormStep",
    "JobRun",
    "OutboxMessage",
    "OutboxState",
    "Psychologist",
    "PsychologistGroup",
    "RepeatRule",
    "ResearchResponse",
    "ServiceSecret",
    "SessionFeedback",
    "Sex",
    "Slot",
    "SlotState",
    "TimelineEvent",
    "UTCDateTime",
    "WorkState",
]
