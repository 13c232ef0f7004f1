"""Deleting a meeting at its provider; a provider's trouble is reported, never raised."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from hraniteli.conferencing import (
    MeetingProviders,
    MeetingRequest,
    MeetingResult,
    Platform,
    create_meeting,
    delete_meeting,
)
from hraniteli.config import Settings
from tests.fakes.google_api import FakeGoogle
from tests.fakes.zoom_api import FakeZoom

START = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


def meeting() -> MeetingRequest:
    return MeetingRequest(
        booking_id=str(uuid.uuid4()), start_at=START, end_at=START + timedelta(hours=1), topic="Сессия"
    )


async def delete(providers: MeetingProviders, made: MeetingResult) -> tuple[bool, str | None]:
    outcome = await delete_meeting(
        providers,
        platform=made.platform,
        meeting_id=made.meeting_id,
        calendar_event_id=made.calendar_event_id,
        account=made.account,
    )
    return outcome.is_deleted, outcome.reason


async def test_a_zoom_meeting_is_deleted_by_the_account_that_hosts_it(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    providers = MeetingProviders.from_settings(provider_settings, http)
    made = await create_meeting(providers, request=meeting(), busy_accounts={"acc-one"})

    assert await delete(providers, made) == (True, None)

    [call] = fake_zoom.calls_to("delete")
    assert call.path == f"/v2/meetings/{made.meeting_id}"
    assert call.account_id == "acc-two"
    assert fake_zoom.meetings == {}


async def test_a_zoom_error_on_delete_is_reported_not_raised(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    providers = MeetingProviders.from_settings(provider_settings, http)
    made = await create_meeting(providers, request=meeting())
    fake_zoom.fail("delete", 500)

    assert await delete(providers, made) == (False, "zoom (acc-one): delete meeting: HTTP 500")
    assert len(fake_zoom.meetings) == 1


async def test_a_zoom_timeout_on_delete_is_reported_not_raised(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    providers = MeetingProviders.from_settings(provider_settings, http, timeout=0.2)
    made = await create_meeting(providers, request=meeting())
    fake_zoom.stall("delete", 1.0)

    is_deleted, reason = await delete(providers, made)

    assert not is_deleted
    assert reason == "zoom (acc-one): delete meeting: timed out after 0.2s"


async def test_a_zoom_meeting_already_gone_counts_as_deleted(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    providers = MeetingProviders.from_settings(provider_settings, http)

    outcome = await delete_meeting(providers, platform="zoom", meeting_id="81299999999", account="acc-one")

    assert outcome.is_deleted
    [call] = fake_zoom.calls_to("delete")
    assert call.path == "/v2/meetings/81299999999"


async def test_a_zoom_account_no_longer_configured_is_reported(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    providers = MeetingProviders.from_settings(provider_settings, http)

    outcome = await delete_meeting(providers, platform="zoom", meeting_id="81299999999", account="acc-old")

    assert (outcome.is_deleted, outcome.reason) == (False, "zoom: account acc-old is not configured")
    assert fake_zoom.calls == []


async def test_a_meet_event_is_deleted_from_the_calendar(
    provider_settings: Settings, http: httpx.AsyncClient, fake_google: FakeGoogle
) -> None:
    providers = MeetingProviders.from_settings(
        provider_settings.model_copy(update={"zoom_accounts": ""}), http
    )
    made = await create_meeting(providers, request=meeting())
    assert made.platform == Platform.MEET

    assert await delete(providers, made) == (True, None)
    assert await delete(providers, made) == (True, None)  # a second time: 410 Gone, still fine

    paths = [call.path for call in fake_google.calls_to("delete")]
    assert paths == [f"/calendar/v3/calendars/sessions@hrani.live/events/{made.calendar_event_id}"] * 2
    assert fake_google.events == {}


async def test_a_meet_error_on_delete_is_reported_not_raised(
    provider_settings: Settings, http: httpx.AsyncClient, fake_google: FakeGoogle
) -> None:
    providers = MeetingProviders.from_settings(
        provider_settings.model_copy(update={"zoom_accounts": ""}), http
    )
    made = await create_meeting(providers, request=meeting())
    fake_google.fail("delete", 503)

    assert await delete(providers, made) == (False, "meet: delete event: HTTP 503")
    assert len(fake_google.events) == 1


async def test_deleting_a_jitsi_room_asks_no_one(
    settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom, fake_google: FakeGoogle
) -> None:
    providers = MeetingProviders.from_settings(settings, http)
    made = await create_meeting(providers, request=meeting())

    assert await delete(providers, made) == (True, None)
    assert fake_zoom.calls == []
    assert fake_google.calls == []
