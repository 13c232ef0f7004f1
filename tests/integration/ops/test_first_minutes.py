"""What a newcomer opens first: the landing page, the API docs without internet, and the
access log the server writes meanwhile. Everything here is public: no key is sent."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from hraniteli.app import create_app
from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from tests.builders import make_psychologist
from tests.conftest import NOW

ASSET_REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")
"""Where the pages name what they load: attributes, and Swagger UI's `url:` of the spec."""


async def test_the_landing_page_links_the_docs_health_and_cards_and_reveals_no_secret(
    client: httpx.AsyncClient, database: Database
) -> None:
    psychologist = await make_psychologist(database, now=NOW)

    page = await client.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    links = set(re.findall(r'href="([^"]+)"', page.text))
    assert {"/docs", "/redoc", "/healthz", "/cards"} <= links
    assert "hraniteli serve --demo" in page.text  # where the editor links are printed
    assert psychologist.editor_secret not in page.text
    assert "secret=" not in page.text
    assert psychologist.name not in page.text


@pytest.mark.parametrize("page_path", ["/docs", "/redoc"])
async def test_api_docs_load_every_asset_from_the_app_itself(
    client: httpx.AsyncClient, page_path: str
) -> None:
    page = await client.get(page_path)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = [a or b for a, b in ASSET_REFERENCE.findall(page.text)]
    scripts_and_styles = [ref for ref in references if ref.endswith((".js", ".css"))]
    assert scripts_and_styles, page.text
    assert [ref for ref in references if urlsplit(ref).netloc] == []  # no other host: works offline
    for ref in scripts_and_styles:
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
        kind = "javascript" if ref.endswith(".js") else "text/css"
        assert kind in asset.headers["content-type"], (ref, asset.headers["content-type"])
    assert "/openapi.json" in references


async def test_the_access_log_names_method_path_status_and_duration_never_the_query(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hraniteli.access")

    response = await client.get(
        "/webhook/get-slot",
        params={"secret": "XYZ-editor-secret", "psychologist": "Иванова Анна"},
        headers={"Authorization": "Bearer header-token", "X-API-Key": "key-in-header"},
    )

    lines = [r.getMessage() for r in caplog.records if r.name == "hraniteli.access"]
    assert response.status_code == 200
    assert len(lines) == 1, lines
    assert re.fullmatch(r"GET /webhook/get-slot 200 \d+(\.\d+)? ms", lines[0]), lines[0]
    text = caplog.text
    for private in ("XYZ", "Иванова", "header-token", "key-in-header", "secret=", "127.0.0.1"):
        assert private not in text


async def test_the_access_log_shows_the_route_not_the_ids_in_the_path(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hraniteli.access")

    response = await client.get("/api/v1/applications/A1B2C3")  # a stranger, no key
    missing = await client.get("/no/such/page?number=A1B2C3")

    lines = [r.getMessage() for r in caplog.records if r.name == "hraniteli.access"]
    assert response.status_code in (401, 403, 503)
    assert missing.status_code == 404
    assert lines[0].startswith(f"GET /api/v1/applications/{{number}} {response.status_code} ")
    assert lines[1].startswith("GET /no/such/page 404 ")
    assert "A1B2C3" not in caplog.text


async def test_the_access_log_can_be_turned_off(
    database_url: str, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=database_url, access_log=False, _env_file=None)  # type: ignore[call-arg]
    app: Any = create_app(settings, clock=FrozenClock(NOW), database=database)
    caplog.set_level(logging.INFO, logger="hraniteli.access")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/healthz")).status_code == 200

    assert [r for r in caplog.records if r.name == "hraniteli.access"] == []
