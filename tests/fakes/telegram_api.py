"""A fake Telegram Bot API server (Starlette, run by uvicorn over real HTTP) and its pytest fixtures.

It answers `sendMessage` and `getMe` with Telegram's response envelope, records every message
it accepts (what a user would see), and can be told to fail: 429 with `retry_after`, 500, 403
"bot was blocked by the user", 400 "chat not found" — once, n times or always, for one chat or
for all — and to enforce the Bot API limits (429 when too many messages arrive overall or to
one chat), recording each violation so tests can prove the sender causes none.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes._server import ThreadedServer

TOKEN = "123456789:TEST-token-for-the-fake-bot-api"
BOT_ID = 123456789
TEXT_LIMIT = 4096
"""Longest text Telegram takes, in UTF-16 code units; a longer one is a 400."""

FAILURES: dict[str, tuple[int, str]] = {
    "retry_after": (429, "Too Many Requests: retry after {retry_after}"),
    "server_error": (500, "Internal Server Error"),
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "chat_not_found": (400, "Bad Request: chat not found"),
}


@dataclass(frozen=True)
class ReceivedMessage:
    chat_id: str
    text: str
    reply_markup: dict[str, Any] | None
    received_at: float
    """time.monotonic() when the request arrived."""
    message_id: int


@dataclass
class _Failure:
    kind: str
    chat_id: str | None
    times: int | None
    """None: always."""
    retry_after: int = 1


@dataclass
class _RateLimit:
    max_messages: int
    window_seconds: float
    chat_interval_seconds: float
    group_max_messages: int | None
    group_window_seconds: float


@dataclass
class FakeTelegram:
    """The server's state; tests read `messages` and call the failure-injection methods."""

    token: str = TOKEN
    url: str = ""
    messages: list[ReceivedMessage] = field(default_factory=list)
    """Accepted messages, in arrival order."""
    requests: list[tuple[str, float, int]] = field(default_factory=list)
    """Every sendMessage that arrived: (chat_id, time.monotonic(), HTTP status answered)."""
    violations: list[str] = field(default_factory=list)
    """Rate-limit violations seen (each was answered with 429)."""
    callback_answers: list[str] = field(default_factory=list)
    """Texts of answerCallbackQuery calls (the toast a user sees after pressing a button)."""
    _failures: list[_Failure] = field(default_factory=list)
    _rate_limit: _RateLimit | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- for tests ------------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.requests.clear()
            self.violations.clear()
            self.callback_answers.clear()
            self._failures.clear()
            self._rate_limit = None

    def fail(
        self, kind: str, *, chat_id: str | None = None, times: int | None = 1, retry_after: int = 1
    ) -> None:
        """Answer the next `times` sendMessage calls (to `chat_id`, or any) with failure `kind`.

        Kinds: retry_after (429), server_error (500), blocked (403), chat_not_found (400).
        `times=None` fails for good.
        """
        if kind not in FAILURES:
            raise ValueError(f"unknown failure {kind!r}; one of {sorted(FAILURES)}")
        with self._lock:
            self._failures.append(_Failure(kind, chat_id, times, retry_after))

    def enforce_rate_limit(
        self,
        *,
        max_messages: int = 30,
        window_seconds: float = 1.0,
        chat_interval_seconds: float = 1.0,
        group_max_messages: int | None = None,
        group_window_seconds: float = 60.0,
    ) -> None:
        """429 (and a recorded violation) when a message arrives while `max_messages` already
        arrived in the last `window_seconds`, or less than `chat_interval_seconds` after the
        previous one to its chat, or (with `group_max_messages`, Telegram's is 20 a minute) to a
        group (negative id) that took that many in the last `group_window_seconds`. Tests may
        scale them down to stay fast."""
        with self._lock:
            self._rate_limit = _RateLimit(
                max_messages, window_seconds, chat_interval_seconds, group_max_messages, group_window_seconds
            )

    def texts_to(self, chat_id: str) -> list[str]:
        with self._lock:
            return [message.text for message in self.messages if message.chat_id == chat_id]

    def statuses(self) -> list[int]:
        with self._lock:
            return [status for _chat, _at, status in self.requests]

    # --- the server -----------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/getMe", self._get_me, methods=["GET", "POST"]),
                Route("/bot{token}/sendMessage", self._send_message, methods=["POST"]),
                Route("/bot{token}/answerCallbackQuery", self._answer_callback, methods=["POST"]),
                Route("/bot{token}/{method}", self._unknown_method, methods=["GET", "POST"]),
            ]
        )

    async def _get_me(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        return _ok({"id": BOT_ID, "is_bot": True, "first_name": "Hraniteli", "username": "HraniLiveBot"})

    async def _answer_callback(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        with self._lock:
            self.callback_answers.append(str(params.get("text", "")))
        return _ok(True)

    async def _unknown_method(self, request: Request) -> JSONResponse:
        return _error(404, "Not Found")

    async def _send_message(self, request: Request) -> JSONResponse:
        arrived = time.monotonic()
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        chat_id = str(params.get("chat_id", ""))
        text = str(params.get("text", ""))
        if not chat_id or not text:
            return _error(
                400, "Bad Request: message text is empty" if chat_id else "Bad Request: chat_id is empty"
            )
        if len(text.encode("utf-16-le")) // 2 > TEXT_LIMIT:
            return _error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        reply_markup = json.loads(markup) if isinstance(markup, str) else markup
        with self._lock:
            response = self._injected_failure(chat_id) or self._rate_violation(chat_id, arrived)
            if response is None:
                message_id = len(self.messages) + 1
                self.messages.append(ReceivedMessage(chat_id, text, reply_markup, arrived, message_id))
                result: dict[str, Any] = {
                    "message_id": message_id,
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Hraniteli"},
                    "chat": {
                        "id": _numeric(chat_id),
                        "type": "supergroup" if chat_id[0] == "-" else "private",
                    },
                    "date": int(time.time()),
                    "text": text,
                }
                if reply_markup and "inline_keyboard" in reply_markup:
                    # as Telegram: a Message carries only an inline keyboard back
                    result["reply_markup"] = reply_markup
                response = _ok(result)
            self.requests.append((chat_id, arrived, response.status_code))
        return response

    def _injected_failure(self, chat_id: str) -> JSONResponse | None:
        for failure in self._failures:
            if failure.chat_id not in (None, chat_id) or failure.times == 0:
                continue
            if failure.times is not None:
                failure.times -= 1
            status, description = FAILURES[failure.kind]
            parameters = {"retry_after": failure.retry_after} if status == 429 else None
            return _error(status, description.format(retry_after=failure.retry_after), parameters)
        return None

    def _rate_violation(self, chat_id: str, arrived: float) -> JSONResponse | None:
        limit = self._rate_limit
        if limit is None:
            return None
        recent = [at for _chat, at, _status in self.requests if arrived - at < limit.window_seconds]
        last_to_chat = max((at for chat, at, _status in self.requests if chat == chat_id), default=None)
        to_group = [
            at
            for chat, at, status in self.requests
            if chat == chat_id and status == 200 and arrived - at < limit.group_window_seconds
        ]
        if len(recent) >= limit.max_messages:
            self.violations.append(f"{len(recent) + 1} messages within {limit.window_seconds}s")
        elif (
            chat_id.startswith("-")
            and limit.group_max_messages is not None
            and (len(to_group) >= limit.group_max_messages)
        ):
            self.violations.append(
                f"group {chat_id}: {len(to_group) + 1} within {limit.group_window_seconds}s"
            )
        elif last_to_chat is not None and arrived - last_to_chat < limit.chat_interval_seconds:
            gap = arrived - last_to_chat
            self.violations.append(f"chat {chat_id}: {gap:.3f}s after the previous message")
        else:
            return None
        return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})


async def _params(request: Request) -> dict[str, Any]:
    """aiogram posts urlencoded forms (multipart only with files); other clients post JSON."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    if content_type.startswith("multipart/"):
        raise NotImplementedError("the fake does not take files")
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _numeric(chat_id: str) -> int:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else abs(hash(chat_id)) % 10**9


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status)


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def telegram_api_server() -> Iterator[FakeTelegram]:
    """The fake Bot API on a free loopback port, in a background thread, for the whole session."""
    fake = FakeTelegram()
    with ThreadedServer(fake.app(), name="fake Telegram API") as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def telegram_api(telegram_api_server: FakeTelegram) -> Iterator[FakeTelegram]:
    """The session's fake, emptied and with no failures injected, for one test."""
    telegram_api_server.reset()
    yield telegram_api_server
    telegram_api_server.reset()
