"""aiogram handlers: parse the update, call one service, answer the person."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from hraniteli.api.deps import AppContext
from hraniteli.applications import telegram
from hraniteli.errors import DomainError
from hraniteli.kit.moscow import MSK
from hraniteli.lifecycle import sessions

WELCOME = (
    "Здравствуйте! Мы получили вашу заявку {number}. Сюда придут подтверждение записи, "
    "ссылка на встречу и напоминания."
)
HELLO = "Здравствуйте! Это бот «Хранителей». Оставить заявку на подбор психолога можно на сайте hrani.live."
NOT_FOUND = "Не нашли заявку по этой ссылке. Напишите нам, пожалуйста, — мы поможем."


async def start_from_application(message: Message, command: CommandObject, ctx: AppContext) -> None:
    user = message.from_user
    if user is None:
        return
    try:
        async with ctx.unit_of_work() as session:
            await telegram.link_chat(
                session, number=command.args or "", telegram_id=user.id, username=user.username, now=ctx.now()
            )
    except DomainError:
        await message.answer(NOT_FOUND)
        return
    await message.answer(WELCOME.format(number=command.args))


async def start(message: Message, ctx: AppContext) -> None:
    user = message.from_user
    if user is None:
        return
    async with ctx.unit_of_work() as session:
        await telegram.register_client(session, telegram_id=user.id, username=user.username, now=ctx.now())
    await message.answer(HELLO)


def _booking_id(data: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID((data or "").split(":", 1)[1])
    except (IndexError, ValueError):
        return None


async def confirm(query: CallbackQuery, ctx: AppContext) -> None:
    booking_id = _booking_id(query.data)
    if booking_id is None:
        await query.answer()
        return
    try:
        async with ctx.unit_of_work() as session:
            booking = await sessions.confirm_from_chat(
                session, booking_id=booking_id, chat_id=str(query.from_user.id), now=ctx.now()
            )
            when = booking.start_at.astimezone(MSK).strftime("%d.%m в %H:%M")
    except DomainError as exc:
        await query.answer(exc.message, show_alert=True)
        return
    await query.answer("Спасибо! Ждём вас.")
    if query.message is not None:
        await query.message.answer(f"Спасибо, что подтвердили! Ждём вас на сессии {when} (МСК).")


async def cancel(query: CallbackQuery, ctx: AppContext) -> None:
    booking_id = _booking_id(query.data)
    if booking_id is None:
        await query.answer()
        return
    try:
        async with ctx.unit_of_work() as session:
            await sessions.cancel_from_chat(
                session, booking_id=booking_id, chat_id=str(query.from_user.id), now=ctx.now()
            )
    except DomainError as exc:
        await query.answer(exc.message, show_alert=True)
        return
    await query.answer("Сессия отменена")
    if query.message is not None:
        await query.message.answer(
            "Сессия отменена, время освобождено. Если захотите записаться снова — напишите нам."
        )


async def reschedule(query: CallbackQuery, ctx: AppContext) -> None:
    booking_id = _booking_id(query.data)
    if booking_id is None:
        await query.answer()
        return
    try:
        async with ctx.unit_of_work(write=False) as session:
            booking = await sessions.booking_of_chat(
                session, booking_id=booking_id, chat_id=str(query.from_user.id)
            )
            number = booking.application_ref or ""
    except DomainError as exc:
        await query.answer(exc.message, show_alert=True)
        return
    link = f"{ctx.settings.rebooking_url}?{urlencode({'lead_number': number, 'mode': 'time'})}"
    await query.answer()
    if query.message is not None:
        await query.message.answer(f"Выберите, пожалуйста, другое время: {link}")


def build_router() -> Router:
    """A router per dispatcher (aiogram attaches a router to one dispatcher only)."""
    router = Router(name="hraniteli")
    router.message.register(start_from_application, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.callback_query.register(confirm, F.data.startswith("confirm:"))
    router.callback_query.register(cancel, F.data.startswith("cancel:"))
    router.callback_query.register(
        reschedule, F.data.startswith("reschedule:") | F.data.startswith("rebook:")
    )
    return router
