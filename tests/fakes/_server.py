"""What the fakes share: the threaded uvicorn server they run in; for the video providers, every
request recorded, faults injected on demand, bearer tokens."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

import uvicorn
from starlette.requests import Request
from starlette.responses import Response

TOKEN = "token"
CREATE = "create"
DELETE = "delete"
ENDPOINTS = (TOKEN, CREATE, DELETE)


class ThreadedServer:
    """uvicorn serving an ASGI app in a background thread, on a loopback port the OS picked;
    `with` starts it (and waits until it listens) and stops it."""

    def __init__(self, app: Any, *, name: str = "fake server") -> None:
        self.name = name
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that name it, and without
        # it every answer waits ~40 ms for a delayed ACK (Nagle), which would distort pacing tests.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            app,
            lifespan="off",
            ws="none",
            http="h11",
            loop="asyncio",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=name, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@dataclass(frozen=True)
class Call:
    """One request as a fake received it."""

    endpoint: str
    """token / create / delete."""
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any

    @classmethod
    async def of(cls, endpoint: str, request: Request, **details: Any) -> Self:
        """The request (its JSON body parsed) and the provider's `details` (its Call's own fields)."""
        body = await request.body()
        payload: Any = None
        if body and request.headers.get("content-type", "").startswith("application/json"):
            payload = json.loads(body)
        return cls(
            endpoint=endpoint,
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={key.lower(): value for key, value in request.headers.items()},
            json=payload,
            **details,
        )


@dataclass
class Fault:
    endpoint: str
    account_id: str | None
    times: int
    status: int | None = None
    delay: float = 0.0


CallT = TypeVar("CallT", bound=Call)
GrantT = TypeVar("GrantT")


@dataclass
class FakeProvider(Generic[CallT, GrantT]):
    """A provider's state (tests read `calls` and call the set-up and failure-injection methods)
    and the recording its routes share; the routes themselves are the subclass's."""

    url: str = ""
    """Set by the server fixture: the fake's base URL."""
    token_lifetime: int = 3599
    calls: list[CallT] = field(default_factory=list)
    tokens: dict[str, GrantT] = field(default_factory=dict)
    """Issued bearer token → what it grants."""
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- set-up and failure injection (called from the tests' thread) ---------------------------

    def fail(self, endpoint: str, status: int, *, times: int = 1, account_id: str | None = None) -> None:
        """The next `times` requests to `endpoint` (of `account_id`, or any) answer `status`."""
        self._add_fault(Fault(endpoint, account_id, times, status=status))

    def stall(self, endpoint: str, seconds: float, *, times: int = 1, account_id: str | None = None) -> None:
        """The next `times` requests to `endpoint` wait `seconds` before answering normally."""
        self._add_fault(Fault(endpoint, account_id, times, delay=seconds))

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on (as after a secret rotation)."""
        with self._lock:
            self.tokens.clear()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.tokens.clear()
            self._faults.clear()
            self.token_lifetime = 3599
            self._reset()

    def _reset(self) -> None:
        """The subclass's own state back to the start (called under the lock)."""

    def calls_to(self, endpoint: str) -> list[CallT]:
        with self._lock:
            return [call for call in self.calls if call.endpoint == endpoint]

    def _add_fault(self, fault: Fault) -> None:
        if fault.endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {fault.endpoint!r}; one of {ENDPOINTS}")
        with self._lock:
            self._faults.append(fault)

    # --- the server side --------------------------------------------------------------------------

    def _record(self, call: CallT, *, account_id: str | None, is_authorised: bool = True) -> Fault | None:
        """Record `call`, made as `account_id`; the injected fault it takes, if any."""
        with self._lock:
            self.calls.append(call)
            if not is_authorised:
                return None  # the 401 comes first; an injected fault waits for an authorised request
            for fault in self._faults:
                aimed = fault.endpoint == call.endpoint and fault.account_id in (None, account_id)
                if aimed and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    async def _authorised(self, endpoint: str, request: Request) -> GrantT | Response:
        """Record an API request: what its bearer token grants, or the answer to give instead (the
        401 without a valid token, else an injected failure)."""
        grant = self._bearer(request)
        fault = self._record(
            await self._api_call(endpoint, request, grant),
            account_id=None if grant is None else self._account_of(grant),
            is_authorised=grant is not None,
        )
        if grant is None:
            return self._unauthenticated()
        injected = await self._injected(fault)
        return grant if injected is None else injected

    def _bearer(self, request: Request) -> GrantT | None:
        """What the request's bearer token grants (None without a valid one)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        with self._lock:
            return self.tokens.get(token)

    async def _injected(self, fault: Fault | None) -> Response | None:
        """The fault's answer, after its delay; None: answer normally."""
        if fault is None:
            return None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            return None
        return self._fault_response(fault.status)

    # --- what each provider says ------------------------------------------------------------------

    async def _api_call(self, endpoint: str, request: Request, grant: GrantT | None) -> CallT:
        """The record of an API request whose bearer token grants `grant`."""
        raise NotImplementedError

    def _account_of(self, grant: GrantT) -> str:
        """The account a token's grant stands for (faults may be aimed at one)."""
        raise NotImplementedError

    def _unauthenticated(self) -> Response:
        """The answer to an API request without a valid bearer token."""
        raise NotImplementedError

    def _fault_response(self, status: int) -> Response:
        """How the provider answers an injected failure with `status`."""
        raise NotImplementedError
