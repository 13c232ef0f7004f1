"""ORM models, one module per aggregate, re-exported here for Alembic and services."""

from hraniteli.models.base import Base, UTCDateTime
from hraniteli.models.booking import Booking
from hraniteli.models.client import Client
from hraniteli.models.enums import (
    ACTIVE_BOOKING_STATUSES,
    BookingStatus,
    ClientSexAccepted,
    PsychologistGroup,
    RepeatRule,
    Sex,
    SlotState,
)
from hraniteli.models.psychologist import Education, Psychologist
from hraniteli.models.slot import Slot

__all__ = [
    "ACTIVE_BOOKING_STATUSES",
    "Base",
    "Booking",
    "BookingStatus",
    "Client",
    "ClientSexAccepted",
    "Education",
    "Psychologist",
    "PsychologistGroup",
    "RepeatRule",
    "Sex",
    "Slot",
    "SlotState",
    "UTCDateTime",
]
