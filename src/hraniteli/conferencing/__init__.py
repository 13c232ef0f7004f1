"""Meeting links for sessions: Zoom accounts, then Google Meet, then Jitsi."""

from hraniteli.conferencing.errors import ProviderError
from hraniteli.conferencing.providers import (
    CreatedMeeting,
    GoogleMeetClient,
    JitsiProvider,
    MeetingRequest,
    Platform,
    ZoomAccount,
    ZoomClient,
    parse_zoom_accounts,
)
from hraniteli.conferencing.repository import busy_zoom_accounts
from hraniteli.conferencing.service import (
    DeletionResult,
    MeetingProviders,
    MeetingResult,
    ProviderFailure,
    create_meeting,
    create_meeting_for_booking,
    delete_meeting,
    delete_meeting_for_booking,
)

__all__ = [
    "CreatedMeeting",
    "DeletionResult",
    "GoogleMeetClient",
    "JitsiProvider",
    "MeetingProviders",
    "MeetingRequest",
    "MeetingResult",
    "Platform",
    "ProviderError",
    "ProviderFailure",
    "ZoomAccount",
    "ZoomClient",
    "busy_zoom_accounts",
    "create_meeting",
    "create_meeting_for_booking",
    "delete_meeting",
    "delete_meeting_for_booking",
    "parse_zoom_accounts",
]
