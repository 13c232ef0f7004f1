"""Operational endpoints: health, OpenAPI docs, CORS preflight."""

from __future__ import annotations

import httpx


async def test_health_and_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/psychologists" in spec["paths"]
    assert "/webhook/get-aggregated-all" in spec["paths"]


async def test_unknown_path_and_method_use_the_error_envelope(client: httpx.AsyncClient) -> None:
    missing = await client.get("/webhook/no-such-thing")
    wrong_method = await client.delete("/webhook/add-slot")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert wrong_method.status_code == 405


async def test_cors_preflight_from_another_origin(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/webhook/get-agregated-schedule-v2",
        headers={
            "Origin": "https://psy.hrani.live",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
