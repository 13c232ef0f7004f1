"""A fake Zoom: Server-to-Server OAuth tokens and the meeting endpoints the service calls.

Serves `POST /oauth/token` and, under `/v2`, `POST /users/me/meetings` and `DELETE /meetings/{id}`,
answering like Zoom does (status codes and JSON shapes), enforcing the credentials and bearer
tokens, recording every request, and failing or stalling on demand.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "token"
CREATE = "create"
DELETE = "delete"
ENDPOINTS = (TOKEN, CREATE, DELETE)


@dataclass(frozen=True)
class Call:
    endpoint: str
    """token / create / delete."""
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    account_id: str | None
    """The account the request authenticated as (None when it did not)."""


@dataclass
class _Fault:
    endpoint: str
    account_id: str | None
    times: int
    status: int | None = None
    delay: float = 0.0


@dataclass
class _Account:
    client_id: str
    client_secret: str


@dataclass
class FakeZoom:
    url: str = ""
    """Set by the server fixture: OAuth at `{url}/oauth/token`, the API at `{url}/v2`."""
    token_lifetime: int = 3599
    calls: list[Call] = field(default_factory=list)
    meetings: dict[int, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, _Account] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    """Issued bearer token → account id."""
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
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

    def fail(self, endpoint: str, status: int, *, times: int = 1, account_id: str | None = None) -> None:
        """The next `times` requests to `endpoint` (of `account_id`, or any) answer `status`."""
        self._add_fault(_Fault(endpoint, account_id, times, status=status))

    def stall(self, endpoint: str, seconds: float, *, times: int = 1, account_id: str | None = None) -> None:
        """The next `times` requests to `endpoint` wait `seconds` before answering normally."""
        self._add_fault(_Fault(endpoint, account_id, times, delay=seconds))

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on (as after a secret rotation)."""
        with self._lock:
            self.tokens.clear()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.meetings.clear()
            self.accounts.clear()
            self.tokens.clear()
            self._faults.clear()
            self.token_lifetime = 3599

    def calls_to(self, endpoint: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.endpoint == endpoint]

    def _add_fault(self, fault: _Fault) -> None:
        if fault.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {fault.endpoint!r}; one of {ENDPOINTS}")
        with self._lock:
            self._faults.append(fault)

    # --- the server side --------------------------------------------------------------------------

    async def _record(self, endpoint: str, request: Request, account_id: str | None) -> _Fault | None:
        body = await request.body()
        payload: Any = None
        if body and request.headers.get("content-type", "").startswith("application/json"):
            payload = await request.json()
        call = Call(
            endpoint=endpoint,
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={key.lower(): value for key, value in request.headers.items()},
            json=payload,
            account_id=account_id,
        )
        with self._lock:
            self.calls.append(call)
            if account_id is None and endpoint != TOKEN:
                return None  # the 401 comes first; an injected fault waits for an authorised request
            for fault in self._faults:
                if fault.endpoint == endpoint and fault.account_id in (None, account_id) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    async def _injected(self, fault: _Fault | None) -> Response | None:
        if fault is None:
            return None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            return None
        return JSONResponse({"code": fault.status, "message": "Injected failure."}, status_code=fault.status)

    def _bearer_account(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        with self._lock:
            return self.tokens.get(token)

    async def _token(self, request: Request) -> Response:
        account_id = request.query_params.get("account_id")
        authenticated = self._basic_account(request, account_id)
        fault = await self._record(TOKEN, request, authenticated)
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
        account_id = self._bearer_account(request)
        fault = await self._record(CREATE, request, account_id)
        if account_id is None:
            return JSONResponse({"code": 124, "message": "Invalid access token."}, status_code=401)
        if (injected := await self._injected(fault)) is not None:
            return injected
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
        account_id = self._bearer_account(request)
        fault = await self._record(DELETE, request, account_id)
        if account_id is None:
            return JSONResponse({"code": 124, "message": "Invalid access token."}, status_code=401)
        if (injected := await self._injected(fault)) is not None:
            return injected
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
