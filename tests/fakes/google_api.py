"""A fake Google: the OAuth token endpoint (JWT bearer grant) and Calendar events with Meet.

Serves `POST /token` (checks the assertion's RS256 signature with the service account's public
key, its audience, issuer and scope) and, under `/calendar/v3`, `POST /calendars/{id}/events` and
`DELETE /calendars/{id}/events/{eventId}`, answering like Google does, enforcing bearer tokens,
recording every request, and failing, stalling or leaving conferences pending on demand.
"""

from __future__ import annotations

import itertools
import json
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import _server
from tests.fakes._server import CREATE, DELETE, TOKEN, FakeProvider

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class ServiceAccount:
    """A service account with a freshly generated RSA key, as Google would issue one."""

    client_email: str
    private_key_id: str
    private_key_pem: str
    public_key_pem: bytes

    @classmethod
    def generate(
        cls, client_email: str = "hraniteli-meet@hraniteli-test.iam.gserviceaccount.com"
    ) -> ServiceAccount:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(client_email, secrets.token_hex(20), private_pem, public_pem)

    def write_key_file(self, path: Path, *, token_uri: str = "https://oauth2.googleapis.com/token") -> Path:
        """The JSON key file exactly as the Google Cloud console hands it out."""
        project = self.client_email.split("@")[1].split(".")[0]
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": project,
                    "private_key_id": self.private_key_id,
                    "private_key": self.private_key_pem,
                    "client_email": self.client_email,
                    "client_id": "103456789012345678901",
                    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                    "token_uri": token_uri,
                    "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                    "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                    + self.client_email,
                    "universe_domain": "googleapis.com",
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        return path


@dataclass(frozen=True)
class Call(_server.Call):
    form: dict[str, str]
    claims: dict[str, Any] | None
    """For token requests: the verified assertion's claims (None when it did not verify)."""


def _google_error(status: int, message: str, reason: str, status_name: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": status_name,
            }
        },
        status_code=status,
    )


def _meet_code() -> str:
    letters = string.ascii_lowercase
    return "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))


@dataclass
class FakeGoogle(FakeProvider[Call, dict[str, Any]]):
    """The token endpoint at `{url}/token`, the API at `{url}/calendar/v3`; `tokens` grant the
    assertion's claims, and a service account's requests are those of its `client_email`."""

    is_conference_pending: bool = False
    """Answer like Google when the Meet conference is not ready yet: no hangoutLink, status pending."""
    has_hangout_link: bool = True
    """False: the link only appears among conferenceData.entryPoints."""
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted_events: set[str] = field(default_factory=set)
    service_accounts: dict[str, bytes] = field(default_factory=dict)
    """Trusted service accounts: client_email → public key PEM."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def api_url(self) -> str:
        return f"{self.url}/calendar/v3"

    # --- set-up and failure injection (called from the tests' thread) ---------------------------

    def trust(self, account: ServiceAccount) -> None:
        with self._lock:
            self.service_accounts[account.client_email] = account.public_key_pem

    def _reset(self) -> None:
        self.events.clear()
        self.deleted_events.clear()
        self.service_accounts.clear()
        self.is_conference_pending = False
        self.has_hangout_link = True

    # --- the server side --------------------------------------------------------------------------

    async def _api_call(self, endpoint: str, request: Request, grant: dict[str, Any] | None) -> Call:
        return await Call.of(endpoint, request, form={}, claims=None)

    def _account_of(self, grant: dict[str, Any]) -> str:
        return str(grant["iss"])

    def _fault_response(self, status: int) -> Response:
        return _google_error(status, "Injected failure.", "backendError", "INTERNAL")

    def _verify(self, assertion: str, audience: str) -> dict[str, Any] | None:
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            with self._lock:
                public_key = self.service_accounts.get(str(unverified.get("iss")))
            if public_key is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256"],
                audience=audience,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.PyJWTError:
            return None
        return claims

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        claims = None
        if form.get("grant_type") == JWT_BEARER_GRANT and form.get("assertion"):
            claims = self._verify(form["assertion"], audience=str(request.url.replace(query="")))
        call = await Call.of(TOKEN, request, form=form, claims=claims)
        fault = self._record(call, account_id=None if claims is None else self._account_of(claims))
        if (injected := await self._injected(fault)) is not None:
            return injected
        if form.get("grant_type") != JWT_BEARER_GRANT:
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."},
                status_code=400,
            )
        if claims is None:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, status_code=400
            )
        if CALENDAR_SCOPE not in str(claims.get("scope", "")).split():
            return JSONResponse(
                {"error": "invalid_scope", "error_description": "Invalid OAuth scope."}, status_code=400
            )
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = claims
        return JSONResponse(
            {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        )

    def _unauthenticated(self) -> JSONResponse:
        return _google_error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            "authError",
            "UNAUTHENTICATED",
        )

    async def _create(self, request: Request) -> Response:
        claims = await self._authorised(CREATE, request)
        if isinstance(claims, Response):
            return claims
        body = await request.json()
        if not isinstance(body, dict) or "dateTime" not in body.get("start", {}):
            return _google_error(
                400, "Missing time zone definition for start time.", "required", "INVALID_ARGUMENT"
            )
        event_id = f"evt{next(self._ids):04d}{secrets.token_hex(6)}"
        calendar_id = request.path_params["calendar_id"]
        organizer = claims.get("sub") or claims["iss"]
        event: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": f'"{secrets.randbelow(10**15)}"',
            "id": event_id,
            "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": "2026-03-02T06:00:00.000Z",
            "updated": "2026-03-02T06:00:00.000Z",
            "summary": body.get("summary", ""),
            "creator": {"email": organizer},
            "organizer": {"email": organizer if calendar_id == "primary" else calendar_id, "self": True},
            "start": body["start"],
            "end": body.get("end", body["start"]),
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": "default",
        }
        create_request = body.get("conferenceData", {}).get("createRequest")
        if request.query_params.get("conferenceDataVersion") == "1" and create_request:
            event["conferenceData"] = self._conference(create_request)
            code = event["conferenceData"].get("conferenceId")
            if code and self.has_hangout_link:
                event["hangoutLink"] = f"https://meet.google.com/{code}"
        with self._lock:
            self.events[event_id] = {**event, "calendar_id": calendar_id}
        return JSONResponse(event)

    def _conference(self, create_request: dict[str, Any]) -> dict[str, Any]:
        echoed = {**create_request, "status": {"statusCode": "success"}}
        if self.is_conference_pending:
            return {"createRequest": {**create_request, "status": {"statusCode": "pending"}}}
        code = _meet_code()
        return {
            "createRequest": echoed,
            "entryPoints": [
                {
                    "entryPointType": "video",
                    "uri": f"https://meet.google.com/{code}",
                    "label": f"meet.google.com/{code}",
                },
                {
                    "entryPointType": "more",
                    "uri": f"https://tel.meet/{code}?pin=1234567890",
                    "pin": "1234567890",
                },
            ],
            "conferenceSolution": {
                "key": {"type": "hangoutsMeet"},
                "name": "Google Meet",
                "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
            },
            "conferenceId": code,
        }

    async def _delete(self, request: Request) -> Response:
        claims = await self._authorised(DELETE, request)
        if isinstance(claims, Response):
            return claims
        event_id = request.path_params["event_id"]
        with self._lock:
            if event_id in self.deleted_events:
                return _google_error(410, "Resource has been deleted", "deleted", "GONE")
            if self.events.pop(event_id, None) is None:
                return _google_error(404, "Not Found", "notFound", "NOT_FOUND")
            self.deleted_events.add(event_id)
        return Response(status_code=204)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self._token, methods=["POST"]),
                Route("/calendar/v3/calendars/{calendar_id}/events", self._create, methods=["POST"]),
                Route(
                    "/calendar/v3/calendars/{calendar_id}/events/{event_id}", self._delete, methods=["DELETE"]
                ),
            ]
        )
