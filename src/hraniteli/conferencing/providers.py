"""HTTP clients of the meeting providers: Zoom (Server-to-Server OAuth), Google Meet, Jitsi."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from hraniteli.conferencing._http import MonotonicClock, ProviderHttp, TokenCache, authorized, token_from
from hraniteli.conferencing.errors import ProviderError

DEFAULT_TIMEOUT_SECONDS = 10.0
GOOGLE_CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_ASSERTION_LIFETIME_SECONDS = 3600
ZOOM_TOPIC_MAX_LENGTH = 200
JITSI_ROOM_PREFIX = "hraniteli-"
JITSI_ROOM_ALPHABET = string.ascii_lowercase + string.digits
JITSI_ROOM_RANDOM_LENGTH = 20
"""20 characters of 36 ≈ 103 bits: a room nobody can guess; lowercase because Jitsi ignores case."""

WallClock = Callable[[], float]


class Platform(StrEnum):
    ZOOM = "zoom"
    MEET = "meet"
    JITSI = "jitsi"


@dataclass(frozen=True)
class MeetingRequest:
    """What a provider needs to schedule one therapy session."""

    booking_id: str
    """Also Google's conference requestId: a retry for the same booking asks for the same conference."""
    start_at: datetime
    end_at: datetime
    topic: str

    def __post_init__(self) -> None:
        if self.start_at.tzinfo is None or self.end_at.tzinfo is None:
            raise ValueError("meeting times must be aware datetimes")
        if self.end_at <= self.start_at:
            raise ValueError("a meeting must end after it starts")

    @property
    def duration_minutes(self) -> int:
        return max(1, math.ceil((self.end_at - self.start_at).total_seconds() / 60))


@dataclass(frozen=True)
class CreatedMeeting:
    link: str
    meeting_id: str
    calendar_event_id: str | None = None


def _utc_iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Zoom -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoomAccount:
    """One Zoom Server-to-Server OAuth app; one account hosts one meeting at a time."""

    account_id: str
    client_id: str
    client_secret: str = field(repr=False)


def parse_zoom_accounts(value: str) -> list[ZoomAccount]:
    """`account_id:client_id:client_secret;…` → accounts in order (the order is the preference)."""
    accounts = []
    for number, entry in enumerate((part.strip() for part in value.split(";")), start=1):
        if not entry:
            continue
        parts = [part.strip() for part in entry.split(":", 2)]
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"Zoom account #{number} is not account_id:client_id:client_secret")
        accounts.append(ZoomAccount(*parts))
    return accounts


class ZoomClient:
    """Scheduled meetings on one Zoom account through the REST API v2."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        account: ZoomAccount,
        *,
        api_url: str,
        oauth_url: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        clock: MonotonicClock = time.monotonic,
    ) -> None:
        self.account = account
        self._http = ProviderHttp(client, platform=Platform.ZOOM, account=account.account_id, timeout=timeout)
        self._api_url = api_url.rstrip("/")
        self._oauth_url = oauth_url
        self._tokens = TokenCache(self._fetch_token, clock=clock)

    @property
    def account_id(self) -> str:
        return self.account.account_id

    async def _fetch_token(self) -> tuple[str, float]:
        what = "token request"
        response = await self._http.send(
            what,
            "POST",
            self._oauth_url,
            params={"grant_type": "account_credentials", "account_id": self.account.account_id},
            auth=httpx.BasicAuth(self.account.client_id, self.account.client_secret),
        )
        return token_from(self._http, what, response)

    async def create(self, request: MeetingRequest) -> CreatedMeeting:
        what = "create meeting"
        body = {
            "topic": request.topic[:ZOOM_TOPIC_MAX_LENGTH],
            "type": 2,  # a scheduled meeting
            "start_time": _utc_iso(request.start_at),
            "timezone": "UTC",
            "duration": request.duration_minutes,
            "settings": {
                # Client and psychologist may join in any order, and nobody waits to be admitted.
                "join_before_host": True,
                "jbh_time": 0,
                "waiting_room": False,
                "approval_type": 2,  # no registration
                "host_video": True,
                "participant_video": True,
                "mute_upon_entry": False,
                "auto_recording": "none",  # therapy sessions are never recorded
            },
        }
        url = f"{self._api_url}/users/me/meetings"
        response = await authorized(self._http, self._tokens, what, "POST", url, json=body)
        meeting = self._http.json_object(what, response)
        meeting_id, link = meeting.get("id"), meeting.get("join_url")
        if not isinstance(meeting_id, int | str) or not isinstance(link, str) or not link:
            raise self._http.error(f"{what}: no id or join_url in the reply")
        return CreatedMeeting(link=link, meeting_id=str(meeting_id))

    async def delete(self, meeting_id: str) -> None:
        what = "delete meeting"
        url = f"{self._api_url}/meetings/{quote(meeting_id, safe='')}"
        response = await authorized(self._http, self._tokens, what, "DELETE", url)
        if response.status_code == httpx.codes.NOT_FOUND:
            return  # already gone: deleted by hand, or expired
        if not response.is_success:
            raise self._http.error(f"{what}: HTTP {response.status_code}")


# --- Google Meet (a Calendar event with conference data) ---------------------------------------


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    private_key: str = field(repr=False)
    private_key_id: str | None = None

    @classmethod
    def from_json(cls, text: str) -> ServiceAccountKey:
        """Raises ValueError naming the problem, never quoting the file."""
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("the service-account key file is not JSON") from None
        if not isinstance(data, dict):
            raise ValueError("the service-account key file is not a JSON object")
        email, key, key_id = data.get("client_email"), data.get("private_key"), data.get("private_key_id")
        if not isinstance(email, str) or not email or not isinstance(key, str) or not key:
            raise ValueError("the service-account key file lacks client_email or private_key")
        return cls(
            client_email=email, private_key=key, private_key_id=key_id if isinstance(key_id, str) else None
        )


class GoogleMeetClient:
    """Calendar events with a Meet conference, as a service account (with domain-wide delegation)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        key_file: Path,
        calendar_id: str,
        subject: str | None,
        api_url: str,
        token_url: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        clock: MonotonicClock = time.monotonic,
        wall_clock: WallClock = time.time,
    ) -> None:
        self._http = ProviderHttp(client, platform=Platform.MEET, account=None, timeout=timeout)
        self._key_file = key_file
        self._key: ServiceAccountKey | None = None
        self._calendar_id = calendar_id
        self._subject = subject
        self._events_url = f"{api_url.rstrip('/')}/calendars/{quote(calendar_id, safe='')}/events"
        self._token_url = token_url
        self._wall_clock = wall_clock
        self._tokens = TokenCache(self._fetch_token, clock=clock)

    async def _load_key(self) -> ServiceAccountKey:
        if self._key is None:
            try:
                text = await asyncio.to_thread(self._key_file.read_text, encoding="utf-8")
            except OSError as exc:
                raise self._http.error(
                    f"cannot read the service-account key file ({type(exc).__name__})"
                ) from exc
            try:
                self._key = ServiceAccountKey.from_json(text)
            except ValueError as exc:
                raise self._http.error(str(exc)) from exc
        return self._key

    def _assertion(self, key: ServiceAccountKey) -> str:
        issued_at = int(self._wall_clock())
        claims: dict[str, Any] = {
            "iss": key.client_email,
            "scope": GOOGLE_CALENDAR_SCOPE,
            "aud": self._token_url,
            "iat": issued_at,
            "exp": issued_at + GOOGLE_ASSERTION_LIFETIME_SECONDS,
        }
        if self._subject:
            claims["sub"] = self._subject  # act as this Workspace user: the Meet organiser
        headers = {"kid": key.private_key_id} if key.private_key_id else None
        try:
            return jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)
        except Exception as exc:  # any failure here means the key is unusable; its text stays out
            raise self._http.error(
                f"the service-account private key cannot sign ({type(exc).__name__})"
            ) from exc

    async def _fetch_token(self) -> tuple[str, float]:
        what = "token request"
        assertion = self._assertion(await self._load_key())
        response = await self._http.send(
            what, "POST", self._token_url, data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion}
        )
        return token_from(self._http, what, response)

    async def create(self, request: MeetingRequest) -> CreatedMeeting:
        what = "create event"
        body = {
            "summary": request.topic,
            "start": {"dateTime": _utc_iso(request.start_at), "timeZone": "UTC"},
            "end": {"dateTime": _utc_iso(request.end_at), "timeZone": "UTC"},
            "conferenceData": {
                "createRequest": {
                    "requestId": request.booking_id,
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            },
        }
        response = await authorized(
            self._http,
            self._tokens,
            what,
            "POST",
            self._events_url,
            params={"conferenceDataVersion": "1"},
            json=body,
        )
        event = self._http.json_object(what, response)
        event_id = event.get("id")
        if not isinstance(event_id, str) or not event_id:
            raise self._http.error(f"{what}: no event id in the reply")
        conference = event.get("conferenceData")
        conference = conference if isinstance(conference, dict) else {}
        link = event.get("hangoutLink") or _video_entry_point(conference)
        if not isinstance(link, str) or not link:
            # The conference is still pending (or was refused): an event without a link is no
            # use to anyone, so remove it rather than leave it in the calendar.
            with contextlib.suppress(ProviderError):
                await self.delete(event_id)
            raise self._http.error(f"{what}: the event has no Meet link")
        conference_id = conference.get("conferenceId")
        meeting_id = conference_id if isinstance(conference_id, str) and conference_id else event_id
        return CreatedMeeting(link=link, meeting_id=meeting_id, calendar_event_id=event_id)

    async def delete(self, event_id: str) -> None:
        what = "delete event"
        url = f"{self._events_url}/{quote(event_id, safe='')}"
        response = await authorized(self._http, self._tokens, what, "DELETE", url)
        if response.status_code in (httpx.codes.NOT_FOUND, httpx.codes.GONE):
            return  # already deleted
        if not response.is_success:
            raise self._http.error(f"{what}: HTTP {response.status_code}")


def _video_entry_point(conference: dict[str, Any]) -> str | None:
    entry_points = conference.get("entryPoints")
    for entry in entry_points if isinstance(entry_points, list) else []:
        if isinstance(entry, dict) and entry.get("entryPointType") == "video":
            uri = entry.get("uri")
            if isinstance(uri, str) and uri:
                return uri
    return None


# --- Jitsi ------------------------------------------------------------------------------------


class JitsiProvider:
    """Always available: a room on a public Jitsi server exists as soon as someone opens its URL."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")

    def create(self, request: MeetingRequest) -> CreatedMeeting:
        # The room name is the only thing keeping strangers out, so it is random, not the booking id.
        room = JITSI_ROOM_PREFIX + "".join(
            secrets.choice(JITSI_ROOM_ALPHABET) for _ in range(JITSI_ROOM_RANDOM_LENGTH)
        )
        return CreatedMeeting(link=f"{self._base_url}/{room}", meeting_id=room)
