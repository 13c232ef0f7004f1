"""The bot over its webhook against the fake Bot API: the client app, and Telegram updates as
Telegram sends them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hraniteli.app import create_app
from hraniteli.clock import FrozenClock
from hraniteli.config import Settings
from hraniteli.db import Database
from tests.fakes.telegram_api import TOKEN, FakeTelegram, telegram_api, telegram_api_server

__all__ = ["telegram_api", "telegram_api_server"]

SECRET = "webhook-secret-of-the-test"
ADMIN_CHAT = "-100500"
ANNA = 5550001
SENT_AT = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())


@pytest.fixture
async def bot_client(
    settings: Settings, clock: FrozenClock, database: Database, telegram_api: FakeTelegram
) -> Any:
    configured = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_url": telegram_api.url,
            "telegram_webhook_secret": SecretStr(SECRET),
            "telegram_admin_chat_id": ADMIN_CHAT,
        }
    )
    app = create_app(configured, clock=clock, database=database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


def user(user_id: int, username: str | None) -> dict[str, Any]:
    sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Анна"}
    if username:
        sender["username"] = username
    return sender


def message(text: str, user_id: int = ANNA, username: str | None = "anna") -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": 10,
        "date": SENT_AT,
        "chat": {"id": user_id, "type": "private"},
        "from": user(user_id, username),
        "text": text,
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": 1, "message": body}


def shared_contact(phone: str, user_id: int = ANNA, owner: int | None = None) -> dict[str, Any]:
    """The message Telegram sends when the user presses a `request_contact` button (or, with
    another `owner`, forwards someone else's contact card)."""
    return {
        "update_id": 3,
        "message": {
            "message_id": 12,
            "date": SENT_AT,
            "chat": {"id": user_id, "type": "private"},
            "from": user(user_id, None),
            "contact": {"phone_number": phone, "first_name": "Анна", "user_id": owner or user_id},
        },
    }


def press(data: str, user_id: int = ANNA) -> dict[str, Any]:
    return {
        "update_id": 2,
        "callback_query": {
            "id": "cb1",
            "chat_instance": "ci",
            "from": user(user_id, None),
            "data": data,
            "message": {
                "message_id": 11,
                "date": SENT_AT,
                "chat": {"id": user_id, "type": "private"},
                "text": "Подтвердите, пожалуйста, что придёте.",
            },
        },
    }


async def post(http: httpx.AsyncClient, update: dict[str, Any], secret: str = SECRET) -> httpx.Response:
    return await http.post(
        "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )
