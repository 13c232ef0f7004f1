"""A fake Zoom: Server-to-Server OAuth tokens and the meeting endpoints the service calls.

Serves `POST /oauth/token` and, under `/v2`, `POST /users/me/meetings` and `DELETE /meetings/{id}`,
answering like Zoom does (status codes and JSON shapes), enforcing the credentials and bearer
tokens, recording every request, and failing or stalling on demand.
"""

from __future__ import annotations

import base64
import itertools
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import _server
from tests.fakes._server import CREATE, DELETE, TOKEN, FakeProvider


@dataclass(frozen=True)
class Call(_server.Call):
    account_id: str | None
    """The account the request authenticated as (None when it did not)."""


@dataclass
class _Account:
    client_id: str
    client_secret: str


@dataclass
class FakeZoom(FakeProvider[Call, str]):
    """OAuth at `{url}/oauth/token`, the API at `{url}/v2`; `tokens` grant an account id."""

    meetings: dict[int, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, _Account] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(81234567890))

    @property
    def oauth_url(self) -> str:
        return f"{self.url}/oauth/token"

    @property
    def api_url(self) -> str:
        return f"{self.url}/v2"

    # --- set-up and failure injection (called from the tests' thread) ---------------------------

    def add_account(self, account_id: str, client_id: str, client_secret: str) -> str:
        """Register an S2S OAuth app; returns its `account_id:client_id:client_secret` entry."""
        with self._lock:
            self.accounts[account_id] = _Account(client_id, client_secret)
        return f"{account_id}:{client_id}:{client_secret}"

    def _reset(self) -> None:
        self.meetings.clear()
        self.accounts.clear()

    # --- the server side --------------------------------------------------------------------------

    async def _api_call(self, endpoint: str, request: Request, grant: str | None) -> Call:
        return await Call.of(endpoint, request, account_id=grant)

    def _account_of(self, grant: str) -> str:
        return grant

    def _unauthenticated(self) -> Response:
        return JSONResponse({"code": 124, "message": "Invalid access token."}, status_code=401)

    def _fault_response(self, status: int) -> Response:
        return JSONResponse({"code": status, "message": "Injected failure."}, status_code=status)

    async def _token(self, request: Request) -> Response:
        account_id = request.query_params.get("account_id")
        authenticated = self._basic_account(request, account_id)
        call = await Call.of(TOKEN, request, account_id=authenticated)
        fault = self._record(call, account_id=authenticated)
        if (injected := await self._injected(fault)) is not None:
            return injected
        if request.query_params.get("grant_type") != "account_credentials" or not account_id:
            return JSONResponse(
                {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}, status_code=400
            )
        if authenticated is None:
            return JSONResponse(
                {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, status_code=401
            )
        token = "eyJfake." + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = authenticated
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": "meeting:write:admin meeting:read:admin",
                "api_url": "https://api.zoom.us",
            }
        )

    def _basic_account(self, request: Request, account_id: str | None) -> str | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or account_id is None:
            return None
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return None
        with self._lock:
            account = self.accounts.get(account_id)
        if account is None or (client_id, secret) != (account.client_id, account.client_secret):
            return None
        return account_id

    async def _create(self, request: Request) -> Response:
        account_id = await self._authorised(CREATE, request)
        if isinstance(account_id, Response):
            return account_id
        body = await request.json()
        problem = _meeting_problem(body)
        if problem:
            return JSONResponse({"code": 300, "message": problem}, status_code=400)
        meeting_id = next(self._ids)
        password = secrets.token_urlsafe(6)
        meeting = {
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "id": meeting_id,
            "host_id": f"host-{account_id}",
            "host_email": f"host@{account_id}.example",
            "topic": body["topic"],
            "type": 2,
            "status": "waiting",
            "start_time": body["start_time"],
            "duration": body["duration"],
            "timezone": body.get("timezone", "UTC"),
            "created_at": "2026-03-02T06:00:00Z",
            "start_url": f"https://zoom.us/s/{meeting_id}?zak=fake",
            "join_url": f"https://zoom.us/j/{meeting_id}?pwd={password}",
            "password": password,
            "settings": body.get("settings", {}),
            "pre_schedule": False,
        }
        with self._lock:
            self.meetings[meeting_id] = {**meeting, "account_id": account_id}
        return JSONResponse(meeting, status_code=201)

    async def _delete(self, request: Request) -> Response:
        account_id = await self._authorised(DELETE, request)
        if isinstance(account_id, Response):
            return account_id
        raw_id = request.path_params["meeting_id"]
        with self._lock:
            meeting = self.meetings.get(int(raw_id)) if raw_id.isdigit() else None
            if meeting is None or meeting["account_id"] != account_id:
                meeting = None
            else:
                del self.meetings[int(raw_id)]
        if meeting is None:
            return JSONResponse(
                {"code": 3001, "message": f"Meeting does not exist: {raw_id}."}, status_code=404
            )
        return Response(status_code=204)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/token", self._token, methods=["POST"]),
                Route("/v2/users/me/meetings", self._create, methods=["POST"]),
                Route("/v2/meetings/{meeting_id}", self._delete, methods=["DELETE"]),
            ]
        )


def _meeting_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Request Body should be a valid JSON object."
    if body.get("type") != 2:
        return "Only scheduled meetings (type 2) are expected here."
    if not isinstance(body.get("topic"), str) or not body["topic"]:
        return "Invalid field: topic."
    if not isinstance(body.get("duration"), int) or body["duration"] <= 0:
        return "Invalid field: duration."
    start_time = body.get("start_time")
    if not isinstance(start_time, str) or not start_time.endswith("Z"):
        return "Invalid field: start_time (expected yyyy-MM-ddTHH:mm:ssZ)."
    try:
        datetime.fromisoformat(start_time)
    except ValueError:
        return "Invalid field: start_time."
    return None
