"""Policyholder handlers: verification first, then every message through the conversation."""

import logging

from sqlalchemy import update as sql_update
from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ChatAction
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import texts
from bot.clock import SEOUL
from bot.conversation import Inbound, Outgoing, handle_message
from bot.db import session_scope
from bot.db.models import Contact, Employee, Policyholder
from bot.services import verification
from bot.services.ledger import record_contact, record_inbound_once
from bot.services.phones import format_phone, normalize_phone
from bot.telegram.context import BotServices, services
from bot.telegram.rendering import button_title, inline_keyboard

log = logging.getLogger(__name__)

GREET_PAYLOAD = "/greet"


def share_phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.SHARE_PHONE_BUTTON, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def send_outgoing(message: Message, svc: BotServices, outgoing: list[Outgoing]) -> None:
    """Send stored replies and remember their Telegram message ids."""
    for item in outgoing:
        sent = await message.get_bot().send_message(
            message.chat_id, item.text, reply_markup=inline_keyboard(item.buttons)
        )
        if item.contact_id is not None:
            async with session_scope(svc.sessions) as session:
                await session.execute(
                    sql_update(Contact)
                    .where(Contact.id == item.contact_id)
                    .values(telegram_message_id=sent.message_id)
                )


async def _say_unverified(
    message: Message, svc: BotServices, text: str, *, keyboard: bool = True
) -> None:
    """Answer someone not yet verified, and log the answer."""
    async with session_scope(svc.sessions) as session:
        await record_contact(
            session, direction="out", sender="bot", text=text, telegram_user_id=message.chat_id
        )
    await message.reply_text(text, reply_markup=share_phone_keyboard() if keyboard else None)


async def _log_unverified(update: Update, svc: BotServices, text: str) -> bool:
    """Store a message from someone not yet verified; False if this update was seen before."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    async with session_scope(svc.sessions) as session:
        stored = await record_inbound_once(
            session,
            sender="unknown",
            text=text,
            telegram_user_id=update.effective_user.id,
            telegram_update_id=update.update_id,
            telegram_message_id=message.message_id,
        )
    return stored is not None


async def _verified(svc: BotServices, telegram_user_id: int) -> Policyholder | None:
    async with session_scope(svc.sessions) as session:
        return await verification.policyholder_for_telegram(session, telegram_user_id)


async def _converse(update: Update, svc: BotServices, inbound: Inbound) -> None:
    message = update.effective_message
    assert message is not None
    await message.get_bot().send_chat_action(message.chat_id, ChatAction.TYPING)
    outgoing = await handle_message(svc.sessions, svc.rasa, inbound)
    if outgoing:
        await send_outgoing(message, svc, outgoing)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet a verified policyholder, or begin verification."""
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    policyholder = await _verified(svc, user.id)
    if policyholder is None:
        if await _log_unverified(update, svc, message.text or "/start"):
            await _say_unverified(message, svc, texts.WELCOME)
        return
    await _converse(update, svc, _inbound(update, policyholder, GREET_PAYLOAD, shown=message.text))


def _inbound(
    update: Update, policyholder: Policyholder, text: str, *, shown: str | None = None
) -> Inbound:
    message = update.effective_message
    return Inbound(
        policyholder_id=policyholder.id,
        text=text,
        shown_text=shown,
        telegram_user_id=update.effective_user.id if update.effective_user else None,
        update_id=update.update_id,
        message_id=message.message_id if message else None,
    )


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Verification step 1: a shared phone contact."""
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    assert message is not None and message.contact is not None and user is not None
    contact = message.contact
    masked = format_phone(normalize_phone(contact.phone_number))
    if not await _log_unverified(update, svc, f"[연락처 공유] {masked}"):
        return
    async with session_scope(svc.sessions) as session:
        outcome = await verification.submit_contact(
            session,
            telegram_user_id=user.id,
            contact_user_id=contact.user_id,
            phone=contact.phone_number,
        )
    phone = svc.settings.company_phone
    if outcome.status == "need_birth":
        await _say_unverified(message, svc, texts.ASK_BIRTH, keyboard=False)
        await message.get_bot().send_message(
            message.chat_id, "👇", reply_markup=ReplyKeyboardRemove()
        )
    elif outcome.status == "not_own_contact":
        await _say_unverified(message, svc, texts.NOT_OWN_CONTACT + _tries(outcome))
    elif outcome.status == "unknown_number":
        await _say_unverified(
            message, svc, texts.UNKNOWN_NUMBER.format(phone=phone) + _tries(outcome)
        )
    else:
        await _say_locked(message, svc, outcome)


def _tries(outcome: verification.Outcome) -> str:
    return texts.WRONG_TRIES.format(tries=outcome.tries_left)


async def _say_locked(message: Message, svc: BotServices, outcome: verification.Outcome) -> None:
    until = (
        outcome.locked_until.astimezone(SEOUL).strftime("%H시 %M분") if outcome.locked_until else ""
    )
    await _say_unverified(
        message,
        svc,
        texts.LOCKED.format(until=until, phone=svc.settings.company_phone),
        keyboard=False,
    )


async def _verify_birth(update: Update, svc: BotServices, text: str) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    async with session_scope(svc.sessions) as session:
        outcome = await verification.submit_birth_date(
            session, telegram_user_id=user.id, chat_id=message.chat_id, text=text
        )
        employee = None
        if outcome.policyholder is not None and outcome.policyholder.employee_id is not None:
            employee = await session.get(Employee, outcome.policyholder.employee_id)
    if outcome.status == "verified":
        assert outcome.policyholder is not None
        name = outcome.policyholder.name
        reply = (
            texts.VERIFIED.format(name=name, employee=employee.display_name)
            if employee
            else texts.VERIFIED_NO_EMPLOYEE.format(name=name)
        )
        async with session_scope(svc.sessions) as session:
            await record_contact(
                session,
                direction="out",
                sender="bot",
                text=reply,
                policyholder_id=outcome.policyholder.id,
                telegram_user_id=user.id,
                employee_id=outcome.policyholder.employee_id,
            )
        await message.reply_text(reply, reply_markup=ReplyKeyboardRemove())
    elif outcome.status == "bad_birth_format":
        await _say_unverified(message, svc, texts.BAD_BIRTH_FORMAT, keyboard=False)
    elif outcome.status == "wrong_birth":
        await _say_unverified(
            message, svc, texts.WRONG_BIRTH.format(tries=outcome.tries_left), keyboard=False
        )
    elif outcome.status == "locked":
        await _say_locked(message, svc, outcome)
    else:
        await _say_unverified(message, svc, texts.VERIFY_FIRST)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Verified: the conversation. Not verified: the birth-date step or a nudge to verify."""
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    text = message.text or ""
    policyholder = await _verified(svc, user.id)
    if policyholder is not None:
        # Commands other than /start just bring up the greeting and menu.
        said = GREET_PAYLOAD if text.startswith("/") else text
        await _converse(update, svc, _inbound(update, policyholder, said, shown=text))
        return
    async with session_scope(svc.sessions) as session:
        outcome = await verification.current(session, user.id)
    # A birth date is personal data: the ledger keeps only that one was typed.
    logged = "[생년월일 입력]" if outcome.status == "need_birth" else text
    if not await _log_unverified(update, svc, logged):
        return
    if outcome.status == "need_birth":
        await _verify_birth(update, svc, text)
    elif outcome.status == "locked":
        await _say_locked(message, svc, outcome)
    else:
        await _say_unverified(message, svc, texts.VERIFY_FIRST)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A policyholder pressed an inline button: its payload goes to the dialogue."""
    svc = services(context)
    query = update.callback_query
    assert query is not None
    await query.answer()
    policyholder = await _verified(svc, query.from_user.id)
    message = query.message
    if policyholder is None or not isinstance(message, Message) or not query.data:
        return
    title = button_title(message.reply_markup, query.data) or query.data
    # Buttons are single-use: remove them so an old choice cannot be pressed again.
    await query.edit_message_reply_markup(None)
    inbound = Inbound(
        policyholder_id=policyholder.id,
        text=query.data,
        shown_text=f"[버튼] {title}",
        telegram_user_id=query.from_user.id,
        update_id=update.update_id,
    )
    outgoing = await handle_message(svc.sessions, svc.rasa, inbound)
    if outgoing:
        await send_outgoing(message, svc, outgoing)


def media_kind(message: Message) -> str:
    if message.sticker:
        return "sticker"
    if message.photo:
        return "photo"
    if message.voice or message.audio or message.video_note:
        return "voice"
    if message.location or message.venue:
        return "location"
    return "other"


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, locations…: stored, and answered with a request for text."""
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    kind = media_kind(message)
    shown = texts.MEDIA_LEDGER[kind]
    if message.location:
        shown += f" {message.location.latitude:.5f}, {message.location.longitude:.5f}"
    if message.caption:
        shown += f" {message.caption}"
    policyholder = await _verified(svc, user.id)
    if policyholder is None:
        if await _log_unverified(update, svc, shown):
            await _say_unverified(message, svc, texts.VERIFY_FIRST)
        return
    async with session_scope(svc.sessions) as session:
        stored = await record_inbound_once(
            session,
            sender="policyholder",
            text=shown,
            policyholder_id=policyholder.id,
            employee_id=policyholder.employee_id,
            telegram_user_id=user.id,
            telegram_update_id=update.update_id,
            telegram_message_id=message.message_id,
        )
        if stored is None:
            return
        reply = texts.MEDIA[kind]
        out = await record_contact(
            session,
            direction="out",
            sender="bot",
            text=reply,
            policyholder_id=policyholder.id,
            employee_id=policyholder.employee_id,
        )
    await send_outgoing(message, svc, [Outgoing(reply, [], out.id)])


def register(application: Application) -> None:
    """Add the policyholder handlers (group 0, after the employee workspace's)."""
    application.add_handler(CommandHandler("start", start))
    application.add_handler(MessageHandler(filters.CONTACT, on_contact))
    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, on_media))
