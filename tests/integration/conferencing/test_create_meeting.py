"""Meeting links: a free Zoom account first, then Google Meet, then Jitsi, over real HTTP to fakes."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hraniteli.conferencing import MeetingProviders, MeetingRequest, MeetingResult, Platform, create_meeting
from hraniteli.config import Settings
from tests.fakes.google_api import FakeGoogle, ServiceAccount
from tests.fakes.zoom_api import FakeZoom

START = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
"""Wednesday 4 March 2026, 14:00 in Moscow."""
JITSI_LINK = re.compile(r"^https://meet\.jit\.si/hraniteli-[a-z0-9]{20}$")


def meeting(start_at: datetime = START, minutes: int = 60) -> MeetingRequest:
    return MeetingRequest(
        booking_id=str(uuid.uuid4()),
        start_at=start_at,
        end_at=start_at + timedelta(minutes=minutes),
        topic="Сессия: Иванова Анна",
    )


def providers_for(settings: Settings, http: httpx.AsyncClient, **overrides: object) -> MeetingProviders:
    return MeetingProviders.from_settings(settings.model_copy(update=overrides), http, timeout=2.0)


async def test_the_first_zoom_account_hosts_when_it_is_free(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom, fake_google: FakeGoogle
) -> None:
    request = meeting(minutes=50)

    result = await create_meeting(providers_for(provider_settings, http), request=request)

    assert (result.platform, result.account) == (Platform.ZOOM, "acc-one")
    [created] = fake_zoom.meetings.values()
    assert result.link == created["join_url"]
    assert result.link.startswith(f"https://zoom.us/j/{created['id']}?pwd=")
    assert result.meeting_id == str(created["id"])
    assert created["account_id"] == "acc-one"
    [token_call] = fake_zoom.calls_to("token")
    assert token_call.query == {"grant_type": "account_credentials", "account_id": "acc-one"}
    assert token_call.headers["authorization"].startswith("Basic ")
    [create_call] = fake_zoom.calls_to("create")
    assert create_call.json["type"] == 2
    assert create_call.json["start_time"] == "2026-03-04T11:00:00Z"
    assert create_call.json["duration"] == 50
    assert create_call.json["topic"] == "Сессия: Иванова Анна"
    assert create_call.json["settings"]["join_before_host"] is True
    assert result.failures == ()
    assert fake_google.calls == []


async def test_a_busy_first_account_passes_the_meeting_to_the_second(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    result = await create_meeting(
        providers_for(provider_settings, http), request=meeting(), busy_accounts={"acc-one"}
    )

    assert (result.platform, result.account) == (Platform.ZOOM, "acc-two")
    assert result.busy_accounts == ("acc-one",)
    assert {call.account_id for call in fake_zoom.calls} == {"acc-two"}
    assert [m["account_id"] for m in fake_zoom.meetings.values()] == ["acc-two"]


async def test_all_zoom_accounts_busy_makes_a_meet_link(
    provider_settings: Settings,
    http: httpx.AsyncClient,
    fake_zoom: FakeZoom,
    fake_google: FakeGoogle,
    service_account: ServiceAccount,
) -> None:
    request = meeting()

    result = await create_meeting(
        providers_for(provider_settings, http), request=request, busy_accounts={"acc-one", "acc-two"}
    )

    assert result.platform == Platform.MEET
    assert fake_zoom.calls == []
    [event] = fake_google.events.values()
    assert result.link == event["hangoutLink"]
    assert re.fullmatch(r"https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}", result.link)
    assert result.calendar_event_id == event["id"]
    assert result.meeting_id == event["conferenceData"]["conferenceId"]
    [token_call] = fake_google.calls_to("token")
    assert token_call.claims is not None
    assert token_call.claims["iss"] == service_account.client_email
    assert token_call.claims["sub"] == "admin@hrani.live"
    assert token_call.claims["scope"] == "https://www.googleapis.com/auth/calendar"
    [create_call] = fake_google.calls_to("create")
    assert create_call.path == "/calendar/v3/calendars/sessions@hrani.live/events"
    assert create_call.query == {"conferenceDataVersion": "1"}
    assert create_call.json["conferenceData"]["createRequest"] == {
        "requestId": request.booking_id,
        "conferenceSolutionKey": {"type": "hangoutsMeet"},
    }
    assert create_call.json["start"] == {"dateTime": "2026-03-04T11:00:00Z", "timeZone": "UTC"}
    assert create_call.json["end"] == {"dateTime": "2026-03-04T12:00:00Z", "timeZone": "UTC"}


async def test_a_zoom_error_on_one_account_tries_the_next(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    fake_zoom.fail("create", 500, account_id="acc-one")

    result = await create_meeting(providers_for(provider_settings, http), request=meeting())

    assert (result.platform, result.account) == (Platform.ZOOM, "acc-two")
    [failure] = result.failures
    assert (failure.platform, failure.account) == (Platform.ZOOM, "acc-one")
    assert "HTTP 500" in failure.reason


async def test_zoom_failing_everywhere_falls_back_to_meet(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom, fake_google: FakeGoogle
) -> None:
    fake_zoom.fail("create", 500, times=2)

    result = await create_meeting(providers_for(provider_settings, http), request=meeting())

    assert result.platform == Platform.MEET
    assert result.link == next(iter(fake_google.events.values()))["hangoutLink"]
    assert [(f.account, f.reason) for f in result.failures] == [
        ("acc-one", "create meeting: HTTP 500"),
        ("acc-two", "create meeting: HTTP 500"),
    ]
    assert fake_zoom.meetings == {}


async def test_rejected_zoom_credentials_fall_back_without_leaking_the_secret(
    provider_settings: Settings,
    http: httpx.AsyncClient,
    fake_zoom: FakeZoom,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = provider_settings.model_copy(update={"zoom_accounts": "acc-one:client-one:wrong-secret-value"})

    result = await create_meeting(providers_for(settings, http), request=meeting())

    assert result.platform == Platform.MEET
    [failure] = result.failures
    assert failure.reason == "token request: HTTP 401 (invalid_client)"
    assert fake_zoom.calls_to("create") == []
    assert "wrong-secret-value" not in repr(result)
    assert "wrong-secret-value" not in caplog.text
    assert "client-one" not in caplog.text


async def test_a_zoom_timeout_falls_back_to_meet(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    fake_zoom.stall("create", 1.0, times=2)
    providers = MeetingProviders.from_settings(provider_settings, http, timeout=0.2)

    result = await create_meeting(providers, request=meeting())

    assert result.platform == Platform.MEET
    assert [f.reason for f in result.failures] == ["create meeting: timed out after 0.2s"] * 2


async def test_without_zoom_accounts_meet_makes_the_link(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom, fake_google: FakeGoogle
) -> None:
    result = await create_meeting(providers_for(provider_settings, http, zoom_accounts=""), request=meeting())

    assert result.platform == Platform.MEET
    [event] = fake_google.events.values()
    assert result.link == event["hangoutLink"]
    assert result.failures == ()
    assert fake_zoom.calls == []


async def test_meet_link_comes_from_the_video_entry_point_when_there_is_no_hangout_link(
    provider_settings: Settings, http: httpx.AsyncClient, fake_google: FakeGoogle
) -> None:
    fake_google.has_hangout_link = False

    result = await create_meeting(providers_for(provider_settings, http, zoom_accounts=""), request=meeting())

    [event] = fake_google.events.values()
    assert "hangoutLink" not in event
    assert result.link == f"https://meet.google.com/{event['conferenceData']['conferenceId']}"


def assert_jitsi(result: MeetingResult) -> None:
    assert result.platform == Platform.JITSI
    assert JITSI_LINK.match(result.link), result.link
    assert result.link.endswith(result.meeting_id)
    assert result.calendar_event_id is None
    assert result.account is None


async def test_a_meet_error_falls_back_to_jitsi(
    provider_settings: Settings, http: httpx.AsyncClient, fake_google: FakeGoogle
) -> None:
    fake_google.fail("create", 500)

    result = await create_meeting(providers_for(provider_settings, http, zoom_accounts=""), request=meeting())

    assert_jitsi(result)
    [failure] = result.failures
    assert (failure.platform, failure.reason) == (Platform.MEET, "create event: HTTP 500")
    assert fake_google.events == {}


async def test_nothing_configured_gives_unguessable_jitsi_rooms(
    settings: Settings, http: httpx.AsyncClient
) -> None:
    providers = MeetingProviders.from_settings(settings, http)

    first = await create_meeting(providers, request=meeting())
    second = await create_meeting(providers, request=meeting())

    assert_jitsi(first)
    assert_jitsi(second)
    assert first.link != second.link
    assert first.failures == ()


async def test_zoom_and_meet_both_failing_still_give_a_jitsi_link(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom, fake_google: FakeGoogle
) -> None:
    fake_zoom.fail("token", 503, times=2)
    fake_google.fail("token", 500)

    result = await create_meeting(providers_for(provider_settings, http), request=meeting())

    assert_jitsi(result)
    assert [(f.platform, f.account) for f in result.failures] == [
        (Platform.ZOOM, "acc-one"),
        (Platform.ZOOM, "acc-two"),
        (Platform.MEET, None),
    ]


async def test_an_untrusted_service_account_key_falls_back_to_jitsi(
    provider_settings: Settings, http: httpx.AsyncClient, fake_google: FakeGoogle, tmp_path: Path
) -> None:
    stranger = ServiceAccount.generate("intruder@elsewhere.iam.gserviceaccount.com")
    key_file = stranger.write_key_file(tmp_path / "other.json")

    result = await create_meeting(
        providers_for(provider_settings, http, zoom_accounts="", google_service_account_file=str(key_file)),
        request=meeting(),
    )

    assert_jitsi(result)
    assert [f.reason for f in result.failures] == ["token request: HTTP 400 (invalid_grant)"]
    assert fake_google.calls_to("create") == []


async def test_a_missing_key_file_falls_back_to_jitsi(
    provider_settings: Settings, http: httpx.AsyncClient, fake_google: FakeGoogle, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.json"

    result = await create_meeting(
        providers_for(provider_settings, http, zoom_accounts="", google_service_account_file=str(missing)),
        request=meeting(),
    )

    assert_jitsi(result)
    assert [f.reason for f in result.failures] == [
        "cannot read the service-account key file (FileNotFoundError)"
    ]
    assert fake_google.calls == []


async def test_a_pending_conference_is_removed_and_jitsi_used(
    provider_settings: Settings, http: httpx.AsyncClient, fake_google: FakeGoogle
) -> None:
    fake_google.is_conference_pending = True

    result = await create_meeting(providers_for(provider_settings, http, zoom_accounts=""), request=meeting())

    assert_jitsi(result)
    assert [f.reason for f in result.failures] == ["create event: the event has no Meet link"]
    [event_id] = fake_google.deleted_events
    [delete_call] = fake_google.calls_to("delete")
    assert delete_call.path.endswith(f"/events/{event_id}")
    assert fake_google.events == {}


async def test_zoom_token_is_fetched_once_for_two_meetings(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    providers = providers_for(provider_settings, http)

    first = await create_meeting(providers, request=meeting())
    second = await create_meeting(providers, request=meeting(START + timedelta(hours=2)))

    assert first.account == second.account == "acc-one"
    assert len(fake_zoom.calls_to("token")) == 1
    assert len(fake_zoom.calls_to("create")) == 2
    tokens = {call.headers["authorization"] for call in fake_zoom.calls_to("create")}
    assert len(tokens) == 1


async def test_google_token_is_fetched_once_for_two_meetings(
    provider_settings: Settings, http: httpx.AsyncClient, fake_google: FakeGoogle
) -> None:
    providers = providers_for(provider_settings, http, zoom_accounts="")

    await create_meeting(providers, request=meeting())
    await create_meeting(providers, request=meeting(START + timedelta(hours=2)))

    assert len(fake_google.calls_to("token")) == 1
    assert len(fake_google.events) == 2


async def test_an_expiring_token_is_renewed(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    fake_zoom.token_lifetime = 3599
    now = [1000.0]
    providers = MeetingProviders.from_settings(provider_settings, http, clock=lambda: now[0])

    await create_meeting(providers, request=meeting())
    now[0] += 3500  # a token for 3599 s is still good for this one
    await create_meeting(providers, request=meeting(START + timedelta(hours=2)))
    tokens_before_expiry = len(fake_zoom.calls_to("token"))
    now[0] += 50  # under a minute left: renewed before it can expire mid-request
    await create_meeting(providers, request=meeting(START + timedelta(hours=4)))

    assert tokens_before_expiry == 1
    assert len(fake_zoom.calls_to("token")) == 2
    assert len(fake_zoom.meetings) == 3


async def test_a_revoked_token_is_replaced_and_the_meeting_still_made_in_zoom(
    provider_settings: Settings, http: httpx.AsyncClient, fake_zoom: FakeZoom
) -> None:
    providers = providers_for(provider_settings, http)
    await create_meeting(providers, request=meeting())
    fake_zoom.revoke_tokens()

    result = await create_meeting(providers, request=meeting(START + timedelta(hours=2)))

    assert (result.platform, result.account) == (Platform.ZOOM, "acc-one")
    assert len(fake_zoom.calls_to("token")) == 2
    assert len(fake_zoom.meetings) == 2
