"""aiogram handlers: parse the update, call one service, answer the person."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove

from hraniteli.api.deps import REFUSED, AppContext
from hraniteli.applications import telegram
from hraniteli.applications.telegram import LinkOutcome
from hraniteli.errors import DomainError
from hraniteli.kit.moscow import MSK
from hraniteli.kit.proof import Purpose
from hraniteli.lifecycle import sessions

WELCOME = (
    "Здравствуйте! Мы получили вашу заявку {number}. Сюда придут подтверждение записи, "
    "ссылка на встречу и напоминания."
)
HELLO = "Здравствуйте! Это бот «Хранителей». Оставить заявку на подбор психолога можно на сайте hrani.live."
NOT_FOUND = (
    "Не нашли вашу заявку по этой ссылке. Если вы оставляли заявку — напишите нам, пожалуйста, мы поможем."
)
ASK_PHONE = (
    "Чтобы мы убедились, что заявка ваша, поделитесь, пожалуйста, номером телефона, "
    "который вы указали в заявке: нажмите кнопку ниже."
)
SHARE_PHONE = "Поделиться номером"
PHONE_NOT_FOUND = "Не нашли заявку с этим номером телефона. Мы передали администратору — с вами свяжутся."
OWN_PHONE_ONLY = "Пожалуйста, отправьте свой номер кнопкой «Поделиться номером»."
TOO_MANY_TRIES = "Слишком много попыток. Попробуйте, пожалуйста, позже или напишите нам."


def _chat_key(telegram_id: int) -> str:
    return f"tg:{telegram_id}"


def _welcome(numbers: list[str]) -> str:
    return WELCOME.format(number=", ".join(numbers))


async def start_from_application(message: Message, command: CommandObject, ctx: AppContext) -> None:
    """`/start <number>`: the chat is linked only if it proves the application is its client's;
    a refusal says nothing about the application."""
    user = message.from_user
    if user is None:
        return
    if await ctx.limiter.wait(REFUSED, _chat_key(user.id)) is not None:
        await message.answer(TOO_MANY_TRIES)
        return
    async with ctx.unit_of_work() as session:
        result = await telegram.link_from_start(
            session,
            start=command.args or "",
            telegram_id=user.id,
            username=user.username,
            proofs=await ctx.proofs(session),
            admin_chat_id=ctx.settings.telegram_admin_chat_id,
            now=ctx.now(),
        )
    if result.outcome == LinkOutcome.LINKED:
        await message.answer(_welcome(result.numbers))
    elif result.outcome == LinkOutcome.ASK_PHONE:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=SHARE_PHONE, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await message.answer(ASK_PHONE, reply_markup=keyboard)
    else:
        await ctx.limiter.count(REFUSED, _chat_key(user.id))
        await message.answer(NOT_FOUND)


async def shared_phone(message: Message, ctx: AppContext) -> None:
    """The client shared their phone with Telegram's button: the applications naming it are theirs."""
    user, contact = message.from_user, message.contact
    if user is None or contact is None:
        return
    if contact.user_id != user.id:
        await message.answer(OWN_PHONE_ONLY)
        return
    if await ctx.limiter.wait(REFUSED, _chat_key(user.id)) is not None:
        await message.answer(TOO_MANY_TRIES, reply_markup=ReplyKeyboardRemove())
        return
    async with ctx.unit_of_work() as session:
        result = await telegram.link_by_phone(
            session,
            telegram_id=user.id,
            username=user.username,
            phone=contact.phone_number,
            shared_by=contact.user_id,
            admin_chat_id=ctx.settings.telegram_admin_chat_id,
            now=ctx.now(),
        )
    if result.outcome != LinkOutcome.LINKED:
        await ctx.limiter.count(REFUSED, _chat_key(user.id))
    text = _welcome(result.numbers) if result.outcome == LinkOutcome.LINKED else PHONE_NOT_FOUND
    await message.answer(text, reply_markup=ReplyKeyboardRemove())


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
            # the link carries the proof that the page's calls are the client's own
            lead = (await ctx.proofs(session)).attach(Purpose.CLIENT, booking.application_ref or "")
    except DomainError as exc:
        await query.answer(exc.message, show_alert=True)
        return
    link = f"{ctx.settings.rebooking_url}?{urlencode({'lead_number': lead, 'mode': 'time'})}"
    await query.answer()
    if query.message is not None:
        await query.message.answer(f"Выберите, пожалуйста, другое время: {link}")


def build_router() -> Router:
    """A router per dispatcher (aiogram attaches a router to one dispatcher only)."""
    router = Router(name="hraniteli")
    router.message.register(start_from_application, CommandStart(deep_link=True))
    router.message.register(start, CommandStart())
    router.message.register(shared_phone, F.contact)
    router.callback_query.register(confirm, F.data.startswith("confirm:"))
    router.callback_query.register(cancel, F.data.startswith("cancel:"))
    router.callback_query.register(
        reschedule, F.data.startswith("reschedule:") | F.data.startswith("rebook:")
    )
    return router
