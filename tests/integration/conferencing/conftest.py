"""The fake Zoom and Google servers on loopback ports, and settings and clients pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from hraniteli.config import Settings
from tests.fakes._server import ThreadedServer
from tests.fakes.google_api import FakeGoogle, ServiceAccount
from tests.fakes.zoom_api import FakeZoom


@pytest.fixture(scope="session")
def _zoom_server() -> Iterator[FakeZoom]:
    fake = FakeZoom()
    with ThreadedServer(fake.app(), name="fake Zoom API") as server:
        fake.url = server.url
        yield fake


@pytest.fixture(scope="session")
def _google_server() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    with ThreadedServer(fake.app(), name="fake Google API") as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fake_zoom(_zoom_server: FakeZoom) -> FakeZoom:
    _zoom_server.reset()
    return _zoom_server


@pytest.fixture
def fake_google(_google_server: FakeGoogle) -> FakeGoogle:
    _google_server.reset()
    return _google_server


@pytest.fixture(scope="session")
def service_account() -> ServiceAccount:
    return ServiceAccount.generate()


@pytest.fixture
def key_file(service_account: ServiceAccount, fake_google: FakeGoogle, tmp_path: Path) -> Path:
    """A service-account key file the fake Google trusts."""
    fake_google.trust(service_account)
    return service_account.write_key_file(tmp_path / "service-account.json", token_uri=fake_google.token_url)


@pytest.fixture
def zoom_accounts(fake_zoom: FakeZoom) -> str:
    """Two Zoom accounts, in order of preference."""
    return ";".join(
        [
            fake_zoom.add_account("acc-one", "client-one", "secret-one"),
            fake_zoom.add_account("acc-two", "client-two", "secret-two"),
        ]
    )


@pytest.fixture
def provider_settings(
    settings: Settings, fake_zoom: FakeZoom, fake_google: FakeGoogle, zoom_accounts: str, key_file: Path
) -> Settings:
    """Zoom and Google both configured and pointed at the fakes; tests switch parts off."""
    return settings.model_copy(
        update={
            "zoom_accounts": zoom_accounts,
            "zoom_api_url": fake_zoom.api_url,
            "zoom_oauth_url": fake_zoom.oauth_url,
            "google_service_account_file": str(key_file),
            "google_calendar_id": "sessions@hrani.live",
            "google_calendar_subject": "admin@hrani.live",
            "google_api_url": fake_google.api_url,
            "google_token_url": fake_google.token_url,
            "jitsi_base_url": "https://meet.jit.si",
        }
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as client:  # loopback only, never via a proxy
        yield client
