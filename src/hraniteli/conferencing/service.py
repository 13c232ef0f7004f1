"""The meeting-link rule: a free Zoom account first, then Google Meet, and Jitsi when all else fails."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hraniteli.conferencing._http import MonotonicClock
from hraniteli.conferencing.errors import ProviderError
from hraniteli.conferencing.providers import (
    DEFAULT_TIMEOUT_SECONDS,
    GoogleMeetClient,
    JitsiProvider,
    MeetingRequest,
    Platform,
    WallClock,
    ZoomClient,
    parse_zoom_accounts,
)
from hraniteli.conferencing.repository import busy_zoom_accounts
from hraniteli.config import Settings

log = logging.getLogger(__name__)


class MeetingProviders:
    """The configured providers, with their cached access tokens.

    Build it once per process (e.g. in the app's lifespan, next to the shared httpx client) so
    the tokens are reused; building one per call works too, at the price of a token request each.
    """

    def __init__(
        self, *, zoom: list[ZoomClient], meet: GoogleMeetClient | None, jitsi: JitsiProvider
    ) -> None:
        self.zoom = zoom
        self.meet = meet
        self.jitsi = jitsi

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        clock: MonotonicClock = time.monotonic,
        wall_clock: WallClock = time.time,
    ) -> MeetingProviders:
        """Raises ValueError when `zoom_accounts` is malformed (a configuration error)."""
        zoom = [
            ZoomClient(
                http,
                account,
                api_url=settings.zoom_api_url,
                oauth_url=settings.zoom_oauth_url,
                timeout=timeout,
                clock=clock,
            )
            for account in parse_zoom_accounts(settings.zoom_accounts)
        ]
        meet = None
        if settings.google_service_account_file:
            meet = GoogleMeetClient(
                http,
                key_file=Path(settings.google_service_account_file),
                calendar_id=settings.google_calendar_id,
                subject=settings.google_calendar_subject,
                api_url=settings.google_api_url,
                token_url=settings.google_token_url,
                timeout=timeout,
                clock=clock,
                wall_clock=wall_clock,
            )
        return cls(zoom=zoom, meet=meet, jitsi=JitsiProvider(settings.jitsi_base_url))

    def zoom_account(self, account_id: str) -> ZoomClient | None:
        return next((zoom for zoom in self.zoom if zoom.account_id == account_id), None)


@dataclass(frozen=True)
class ProviderFailure:
    platform: Platform
    reason: str
    account: str | None = None

    def __str__(self) -> str:
        return f"{self.platform}{f' ({self.account})' if self.account else ''}: {self.reason}"


@dataclass(frozen=True)
class MeetingResult:
    platform: Platform
    link: str
    meeting_id: str
    calendar_event_id: str | None = None
    account: str | None = None
    """The Zoom account hosting the meeting (stored on the booking as `meeting_account`)."""
    failures: tuple[ProviderFailure, ...] = ()
    """Providers tried before this one and why each failed: for the administrators' log."""
    busy_accounts: tuple[str, ...] = ()
    """Zoom accounts skipped because they host another meeting at that time."""

    def booking_fields(self) -> dict[str, str | None]:
        """The Booking columns that record this meeting."""
        return {
            "meeting_platform": self.platform.value,
            "meeting_account": self.account,
            "meeting_link": self.link,
            "meeting_id": self.meeting_id,
            "calendar_meeting_id": self.calendar_event_id,
        }


def _failure(error: ProviderError) -> ProviderFailure:
    log.warning("meeting provider failed: %s", error)
    return ProviderFailure(Platform(error.platform), error.reason, error.account)


async def create_meeting(
    providers: MeetingProviders, *, request: MeetingRequest, busy_accounts: Collection[str] = ()
) -> MeetingResult:
    """Zoom accounts in order, skipping those in `busy_accounts`; then Meet; then Jitsi.

    Never raises for a provider's trouble: Jitsi needs no one's permission, so a link always comes back.
    """
    failures: list[ProviderFailure] = []
    skipped = tuple(zoom.account_id for zoom in providers.zoom if zoom.account_id in busy_accounts)
    for zoom in providers.zoom:
        if zoom.account_id in busy_accounts:
            continue
        try:
            meeting = await zoom.create(request)
        except ProviderError as error:
            failures.append(_failure(error))
            continue
        return MeetingResult(
            Platform.ZOOM,
            meeting.link,
            meeting.meeting_id,
            account=zoom.account_id,
            failures=tuple(failures),
            busy_accounts=skipped,
        )
    if providers.meet is not None:
        try:
            meeting = await providers.meet.create(request)
        except ProviderError as error:
            failures.append(_failure(error))
        else:
            return MeetingResult(
                Platform.MEET,
                meeting.link,
                meeting.meeting_id,
                calendar_event_id=meeting.calendar_event_id,
                failures=tuple(failures),
                busy_accounts=skipped,
            )
    meeting = providers.jitsi.create(request)
    return MeetingResult(
        Platform.JITSI, meeting.link, meeting.meeting_id, failures=tuple(failures), busy_accounts=skipped
    )


class BookingTimes(Protocol):
    """What `create_meeting_for_booking` reads from a booking (a `Booking` row fits)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def start_at(self) -> datetime: ...
    @property
    def end_at(self) -> datetime: ...


async def create_meeting_for_booking(
    session: AsyncSession, *, providers: MeetingProviders, booking: BookingTimes, topic: str
) -> MeetingResult:
    """Look up which Zoom accounts are taken at the booking's time, then apply `create_meeting`.

    The caller stores `result.booking_fields()` on the booking. Two links made at the same moment
    for overlapping times can both pick the same free account; serialise the calls (or recheck
    after storing) if that matters.
    """
    busy = await busy_zoom_accounts(
        session, start_at=booking.start_at, end_at=booking.end_at, exclude_booking_id=booking.id
    )
    request = MeetingRequest(
        booking_id=str(booking.id), start_at=booking.start_at, end_at=booking.end_at, topic=topic
    )
    return await create_meeting(providers, request=request, busy_accounts=busy)


@dataclass(frozen=True)
class DeletionResult:
    is_deleted: bool
    """True also when there was nothing to delete at the provider (Jitsi, no meeting, already gone)."""
    reason: str | None = None


async def delete_meeting(
    providers: MeetingProviders,
    *,
    platform: str | None,
    meeting_id: str | None,
    calendar_event_id: str | None = None,
    account: str | None = None,
) -> DeletionResult:
    """Remove the meeting at its provider. Reports failure instead of raising: a cancellation
    must go through even when Zoom or Google is down (the meeting then just goes unused)."""
    try:
        if platform == Platform.ZOOM:
            zoom = providers.zoom_account(account) if account else None
            if zoom is None:
                return _not_deleted(f"zoom: account {account or '(none)'} is not configured")
            if not meeting_id:
                return _not_deleted("zoom: no meeting id")
            await zoom.delete(meeting_id)
        elif platform == Platform.MEET:
            if providers.meet is None:
                return _not_deleted("meet: Google is not configured")
            if not calendar_event_id:
                return _not_deleted("meet: no calendar event id")
            await providers.meet.delete(calendar_event_id)
    except ProviderError as error:
        return _not_deleted(str(error))
    return DeletionResult(is_deleted=True)


def _not_deleted(reason: str) -> DeletionResult:
    log.warning("meeting not deleted at the provider: %s", reason)
    return DeletionResult(is_deleted=False, reason=reason)


class BookingMeeting(Protocol):
    """The meeting columns of a booking (a `Booking` row fits)."""

    @property
    def meeting_platform(self) -> str | None: ...
    @property
    def meeting_id(self) -> str | None: ...
    @property
    def calendar_meeting_id(self) -> str | None: ...
    @property
    def meeting_account(self) -> str | None: ...


async def delete_meeting_for_booking(
    providers: MeetingProviders, *, booking: BookingMeeting
) -> DeletionResult:
    return await delete_meeting(
        providers,
        platform=booking.meeting_platform,
        meeting_id=booking.meeting_id,
        calendar_event_id=booking.calendar_meeting_id,
        account=booking.meeting_account,
    )
