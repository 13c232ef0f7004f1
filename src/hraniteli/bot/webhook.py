"""POST /telegram/webhook: Telegram's updates for the bot, checked by the webhook secret."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from hraniteli.api.deps import context
from hraniteli.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from aiogram import Dispatcher

router = APIRouter(tags=["telegram bot"])


def dispatcher() -> Dispatcher:
    """aiogram is loaded here, on the first update, not with the app (see `sender.preload_telegram`)."""
    from aiogram import Dispatcher

    from hraniteli.bot.handlers import build_router

    dp = Dispatcher()
    dp.include_router(build_router())
    return dp


@router.post("/telegram/webhook", include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    ctx = context(request)
    expected = ctx.settings.telegram_webhook_secret
    token = ctx.settings.telegram_bot_token
    presented = request.headers.get("x-telegram-bot-api-secret-token", "")
    if (
        expected is None
        or token is None
        or not secrets.compare_digest(presented.encode(), expected.get_secret_value().encode())
    ):
        raise NotFound("Not Found")
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Update

    try:
        update = Update.model_validate_json(await request.body())
    except ValidationError as exc:
        raise InvalidInput("not a Telegram update") from exc
    session = AiohttpSession(api=TelegramAPIServer.from_base(ctx.settings.telegram_api_url))
    async with Bot(token.get_secret_value(), session=session) as bot:
        await ctx.bot_dispatcher.feed_update(bot, update, ctx=ctx)
    return Response(status_code=200)
