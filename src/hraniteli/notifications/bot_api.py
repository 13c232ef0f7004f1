"""One `sendMessage` through aiogram, and what Telegram's answer means for the outbox row.

Imported only where a message is sent (aiogram takes seconds to import: its hundreds of types
are built then), so a service without a bot token never loads it.

Message texts may hold health data: no outcome carries them (aiogram's exceptions for an
undecodable answer may quote the request, so only their type is kept).
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from hraniteli.models import OutboxState
from hraniteli.notifications.outcomes import TOKEN_REJECTED, Outcome

# aiogram parses every answer with `Response[method.__returning__]`; pydantic keeps such
# parametrised classes only in a weak cache, so the garbage collector drops them and the next
# answer builds the class again (~13 ms each; under load a third of the sender's time went
# there). Holding them here makes them built once.
RESPONSE_TYPES = (Response[Message], Response[bool])


async def send_message(
    bot: Bot, chat_id: str, text: str, buttons: list[list[dict[str, Any]]] | None
) -> Outcome:
    try:
        markup = keyboard(buttons)
    except ValueError:
        return Outcome(OutboxState.FAILED, error="invalid buttons")
    try:
        sent = await bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
    except TelegramRetryAfter as error:
        return Outcome(
            OutboxState.PENDING,
            error="429: flood control",
            retry_after=error.retry_after,
            counts_attempt=False,
            flood=True,
        )
    except TelegramMigrateToChat as error:
        return Outcome(
            OutboxState.PENDING,
            error="the group became a supergroup",
            retry_after=0,
            counts_attempt=False,
            new_chat_id=str(error.migrate_to_chat_id),
        )
    except TelegramForbiddenError as error:
        return Outcome(OutboxState.BLOCKED, error=f"403: {error.message}"[:500])
    except (TelegramUnauthorizedError, TelegramNotFound):
        return Outcome(OutboxState.HELD, error=TOKEN_REJECTED, counts_attempt=False, token_rejected=True)
    except (TelegramBadRequest, TelegramEntityTooLarge) as error:
        return Outcome(OutboxState.FAILED, error=f"400: {error.message}"[:500])
    except Exception as error:  # 5xx, network, timeout, undecodable answer: transient
        return Outcome(OutboxState.PENDING, error=_transient_error(error))
    return Outcome(OutboxState.SENT, message_id=sent.message_id)


def _transient_error(error: Exception) -> str:
    if isinstance(error, TelegramServerError):
        return f"5xx: {error.message}"[:500]
    if isinstance(error, TelegramNetworkError):
        return f"network: {error.message}"[:500]
    return type(error).__name__


def keyboard(buttons: list[list[dict[str, Any]]] | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    try:
        rows = [[InlineKeyboardButton(**button) for button in row] for row in buttons]
    except Exception as error:  # pydantic's ValidationError quotes the input; keep only the fact
        raise ValueError("invalid buttons") from error
    return InlineKeyboardMarkup(inline_keyboard=rows)
