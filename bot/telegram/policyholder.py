"""Policyholder handlers: verification first, then every message through the conversation;
the rating buttons of a resolved request.

Policyholders talk to the bot in private chats only (a group's chat id must never become a
policyholder's chat). Every update is stored before any Bot API call is made for it; the
answer is sent or, if Telegram does not take it now, queued, and the cosmetic calls (typing…,
removing pressed buttons, answering the press) are best-effort (``bot.telegram.delivery``).
An edited message is stored as an edit of the original and does not run the dialogue again.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from telegram import (
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatAction, ChatType
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
from bot.db.models import ContactSender, Employee, OutboxPurpose, Policyholder, Request
from bot.services import ratings, verification
from bot.services.ledger import (
    answered_since,
    is_update_stored,
    original_of,
    record_contact,
    record_inbound_once,
)
from bot.services.outbox import enqueue
from bot.services.phones import format_phone, normalize_phone
from bot.telegram.context import BotServices, services
from bot.telegram.delivery import Delivery, Markup, best_effort, decorate, send_or_queue
from bot.telegram.identity import verified_policyholder
from bot.telegram.rendering import button_title, inline_keyboard

log = logging.getLogger(__name__)

GREET_PAYLOAD = "/greet"
RATING_BUTTON = r"^rate:"
PRIVATE = filters.ChatType.PRIVATE
NEW = filters.UpdateType.MESSAGE  # a new message, not an edit


def share_phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.SHARE_PHONE_BUTTON, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def send_outgoing(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, outgoing: list[Outgoing], policyholder_id: int
) -> None:
    """Send stored replies in order; once one has to wait in the outbox, the rest wait too."""
    svc = services(context)
    for index, item in enumerate(outgoing):
        delivery = await send_or_queue(
            context.bot,
            svc.sessions,
            chat_id=chat_id,
            text=item.text,
            reply_markup=inline_keyboard(item.buttons),
            contact_id=item.contact_id,
            policyholder_id=policyholder_id,
        )
        if delivery is Delivery.BLOCKED:
            return
        if delivery is Delivery.QUEUED:
            async with session_scope(svc.sessions) as session:
                for later in outgoing[index + 1 :]:
                    markup = inline_keyboard(later.buttons)
                    await enqueue(
                        session,
                        chat_id=chat_id,
                        text=later.text,
                        reply_markup=markup.to_dict() if markup else None,
                        contact_id=later.contact_id,
                        policyholder_id=policyholder_id,
                        purpose=OutboxPurpose.REPLY,
                    )
            return


async def _say_unverified(
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    text: str,
    *,
    markup: Markup | None = None,
    keyboard: bool = True,
) -> None:
    """Answer someone not yet verified, and log the answer."""
    svc = services(context)
    async with session_scope(svc.sessions) as session:
        contact = await record_contact(
            session,
            direction="out",
            sender=ContactSender.BOT,
            text=text,
            telegram_user_id=message.chat_id,
        )
    await send_or_queue(
        context.bot,
        svc.sessions,
        chat_id=message.chat_id,
        text=text,
        reply_markup=markup or (share_phone_keyboard() if keyboard else None),
        contact_id=contact.id,
    )


async def _log_unverified(update: Update, svc: BotServices, text: str) -> bool:
    """Store a message from someone not yet verified; False if this update was seen before."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    async with session_scope(svc.sessions) as session:
        stored = await record_inbound_once(
            session,
            sender=ContactSender.UNKNOWN,
            text=text,
            telegram_user_id=update.effective_user.id,
            telegram_update_id=update.update_id,
            telegram_message_id=message.message_id,
        )
    return stored is not None


async def _converse(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    inbound: Inbound,
    *,
    after_storing: list[tuple[str, Callable[[], Awaitable[object]]]] | None = None,
) -> None:
    """One message through the dialogue: stored, then typing… if Rasa thinks for a while, then
    the answer. ``after_storing`` are cosmetic calls to make once the message is in the ledger."""
    svc = services(context)
    answered = asyncio.Event()

    async def typing_if_slow() -> None:
        try:
            await asyncio.wait_for(answered.wait(), svc.settings.telegram_typing_after)
            return  # answered in time: no indicator
        except TimeoutError:
            pass
        # Never cancelled once started: a request cut off mid-way costs its pooled connection.
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)

    def stored(answering: bool) -> None:
        for what, call in after_storing or []:
            decorate(context.application, what, call())
        if answering:
            decorate(context.application, "typing indicator", typing_if_slow())

    try:
        outgoing = await handle_message(
            svc.sessions, svc.rasa, inbound, deadlines=svc.deadlines, on_stored=stored
        )
    finally:
        answered.set()
    if outgoing:
        await send_outgoing(context, chat_id, outgoing, inbound.policyholder_id)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet a verified policyholder, or begin verification."""
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    policyholder = await verified_policyholder(context, user.id)
    if policyholder is None:
        if await _log_unverified(update, svc, message.text or "/start"):
            await _say_unverified(message, context, texts.WELCOME)
        return
    await _converse(
        context, message.chat_id, _inbound(update, policyholder, GREET_PAYLOAD, shown=message.text)
    )


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
        await _say_unverified(
            message,
            context,
            texts.ASK_BIRTH,
            markup=ReplyKeyboardRemove(),  # the share-phone button has done its job
        )
    elif outcome.status == "not_own_contact":
        await _say_unverified(message, context, texts.NOT_OWN_CONTACT + _tries(outcome))
    elif outcome.status == "unknown_number":
        await _say_unverified(
            message, context, texts.UNKNOWN_NUMBER.format(phone=phone) + _tries(outcome)
        )
    else:
        await _say_locked(message, context, outcome)


def _tries(outcome: verification.Outcome) -> str:
    return texts.WRONG_TRIES.format(tries=outcome.tries_left)


async def _say_locked(
    message: Message, context: ContextTypes.DEFAULT_TYPE, outcome: verification.Outcome
) -> None:
    until = (
        outcome.locked_until.astimezone(SEOUL).strftime("%H시 %M분") if outcome.locked_until else ""
    )
    await _say_unverified(
        message,
        context,
        texts.LOCKED.format(until=until, phone=services(context).settings.company_phone),
        keyboard=False,
    )


async def _verify_birth(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    svc = services(context)
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
            contact = await record_contact(
                session,
                direction="out",
                sender=ContactSender.BOT,
                text=reply,
                policyholder_id=outcome.policyholder.id,
                telegram_user_id=user.id,
                employee_id=outcome.policyholder.employee_id,
            )
        await send_or_queue(
            context.bot,
            svc.sessions,
            chat_id=message.chat_id,
            text=reply,
            reply_markup=ReplyKeyboardRemove(),
            contact_id=contact.id,
            policyholder_id=outcome.policyholder.id,
        )
    elif outcome.status == "bad_birth_format":
        await _say_unverified(message, context, texts.BAD_BIRTH_FORMAT, keyboard=False)
    elif outcome.status == "wrong_birth":
        await _say_unverified(
            message, context, texts.WRONG_BIRTH.format(tries=outcome.tries_left), keyboard=False
        )
    elif outcome.status == "locked":
        await _say_locked(message, context, outcome)
    else:
        await _say_unverified(message, context, texts.VERIFY_FIRST)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Verified: the conversation. Not verified: the birth-date step or a nudge to verify."""
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    text = message.text or ""
    policyholder = await verified_policyholder(context, user.id)
    if policyholder is not None:
        # Commands other than /start just bring up the greeting and menu.
        said = GREET_PAYLOAD if text.startswith("/") else text
        await _converse(context, message.chat_id, _inbound(update, policyholder, said, shown=text))
        return
    async with session_scope(svc.sessions) as session:
        outcome = await verification.current(session, user.id)
    # A birth date is personal data: the ledger keeps only that one was typed.
    logged = "[생년월일 입력]" if outcome.status == "need_birth" else text
    if not await _log_unverified(update, svc, logged):
        return
    if outcome.status == "need_birth":
        await _verify_birth(update, context, text)
    elif outcome.status == "locked":
        await _say_locked(message, context, outcome)
    else:
        await _say_unverified(message, context, texts.VERIFY_FIRST)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A policyholder pressed an inline button: its payload goes to the dialogue.

    The press is stored first; answering it and removing the buttons (single-use, so an old
    choice cannot be pressed again) come after and may fail. A press on a message the customer
    has already moved past is stored and answered "이미 처리된 선택이에요", never run again.
    """
    svc = services(context)
    query = update.callback_query
    assert query is not None
    message = query.message
    chat = update.effective_chat
    policyholder = await verified_policyholder(context, query.from_user.id)
    if (
        policyholder is None
        or chat is None
        or chat.type != ChatType.PRIVATE
        or not isinstance(message, Message)
        or not query.data
    ):
        decorate(context.application, "answer to a foreign button", query.answer())
        return
    title = button_title(message.reply_markup, query.data) or query.data
    async with session_scope(svc.sessions) as session:
        stale = await answered_since(
            session,
            policyholder_id=policyholder.id,
            chat_id=message.chat_id,
            message_id=message.message_id,
        )
    if stale:
        await _on_stale_press(update, context, policyholder, message, title)
        return
    inbound = Inbound(
        policyholder_id=policyholder.id,
        text=query.data,
        shown_text=f"[버튼] {title}",
        telegram_user_id=query.from_user.id,
        update_id=update.update_id,
    )
    cosmetics: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("answer to a button press", query.answer),
        ("removing used buttons", lambda: query.edit_message_reply_markup(None)),
    ]
    await _converse(context, message.chat_id, inbound, after_storing=cosmetics)


async def _on_stale_press(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    policyholder: Policyholder,
    message: Message,
    title: str,
) -> None:
    """Keep the press in the ledger and say calmly that its step is over."""
    svc = services(context)
    query = update.callback_query
    assert query is not None
    async with session_scope(svc.sessions) as session:
        stored = await record_inbound_once(
            session,
            sender=ContactSender.POLICYHOLDER,
            text=texts.STALE_CHOICE_LEDGER.format(title=title),
            policyholder_id=policyholder.id,
            employee_id=policyholder.employee_id,
            telegram_user_id=query.from_user.id,
            telegram_update_id=update.update_id,
        )
        if stored is None:  # Telegram delivered this press again
            return
        answer = await record_contact(
            session,
            direction="out",
            sender=ContactSender.BOT,
            text=texts.STALE_CHOICE,
            policyholder_id=policyholder.id,
            employee_id=policyholder.employee_id,
        )
    if message.reply_markup is not None:
        decorate(context.application, "removing old buttons", query.edit_message_reply_markup(None))
    # A toast is the calm answer; only if Telegram will not show it does it become a message.
    if not await best_effort("stale press toast", query.answer(texts.STALE_CHOICE)):
        await send_or_queue(
            context.bot,
            svc.sessions,
            chat_id=message.chat_id,
            text=texts.STALE_CHOICE,
            contact_id=answer.id,
            policyholder_id=policyholder.id,
        )


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
    policyholder = await verified_policyholder(context, user.id)
    if policyholder is None:
        if await _log_unverified(update, svc, shown):
            await _say_unverified(message, context, texts.VERIFY_FIRST)
        return
    async with session_scope(svc.sessions) as session:
        stored = await record_inbound_once(
            session,
            sender=ContactSender.POLICYHOLDER,
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
            sender=ContactSender.BOT,
            text=reply,
            policyholder_id=policyholder.id,
            employee_id=policyholder.employee_id,
        )
    await send_outgoing(context, message.chat_id, [Outgoing(reply, [], out.id)], policyholder.id)


async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: stored as an edit of the original, never a new turn.

    The dialogue already answered the original; running it again would, for example, open a
    second request for an edited wish. The customer is told that a new message is the way to
    change course.
    """
    svc = services(context)
    message, user = update.edited_message, update.effective_user
    if message is None or user is None:
        return
    policyholder = await verified_policyholder(context, user.id)
    async with session_scope(svc.sessions) as session:
        original = await original_of(
            session, telegram_user_id=user.id, telegram_message_id=message.message_id
        )
        text = message.text or message.caption or ""
        stored = await record_inbound_once(
            session,
            sender=ContactSender.POLICYHOLDER if policyholder else ContactSender.UNKNOWN,
            # Before verification an edit may be a birth date: only the fact is kept.
            text=texts.EDIT_LEDGER.format(text=text)
            if policyholder
            else texts.EDIT_LEDGER_UNVERIFIED,
            policyholder_id=policyholder.id if policyholder else None,
            employee_id=policyholder.employee_id if policyholder else None,
            telegram_user_id=user.id,
            telegram_update_id=update.update_id,
            telegram_message_id=message.message_id,
            edit_of_id=original.id if original else None,
            request_id=original.request_id if original else None,
        )
        if stored is None or policyholder is None:
            return
        note = await record_contact(
            session,
            direction="out",
            sender=ContactSender.BOT,
            text=texts.EDIT_NOTED,
            policyholder_id=policyholder.id,
            employee_id=policyholder.employee_id,
        )
    await send_outgoing(
        context, message.chat_id, [Outgoing(texts.EDIT_NOTED, [], note.id)], policyholder.id
    )


async def on_group_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command to the bot in a group: stored, and pointed to the private chat.

    Verification and everything after it happen only in a private chat, so a group's chat id
    never becomes where a policyholder's answers (or an employee's replies) are sent.
    """
    svc = services(context)
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    async with session_scope(svc.sessions) as session:
        stored = await record_inbound_once(
            session,
            sender=ContactSender.UNKNOWN,
            text=texts.GROUP_LEDGER.format(text=message.text or ""),
            telegram_user_id=user.id,
            telegram_update_id=update.update_id,
            telegram_message_id=message.message_id,
        )
        if stored is None:
            return
        answer = await record_contact(
            session,
            direction="out",
            sender=ContactSender.BOT,
            text=texts.PRIVATE_ONLY,
            telegram_user_id=user.id,
        )
    await send_or_queue(
        context.bot,
        svc.sessions,
        chat_id=message.chat_id,
        text=texts.PRIVATE_ONLY,
        contact_id=answer.id,
        reply_to_message_id=message.message_id,
    )


async def on_rating_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """rate:<request>:<1-5|skip> from the policyholder who was asked."""
    sessions = services(context).sessions
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    try:
        _, raw_id, value = query.data.split(":", 2)
        request_id = int(raw_id)
    except ValueError:
        decorate(context.application, "answer to a malformed rating", query.answer())
        return
    accepted = False
    async with session_scope(sessions) as session:
        seen = await is_update_stored(session, update.update_id)
        policyholder = await session.scalar(
            select(Policyholder).where(Policyholder.telegram_user_id == update.effective_user.id)
        )
        request = await session.get(Request, request_id)
        if not seen and policyholder is not None and request is not None:
            if value == "skip":
                if policyholder.rating_pending_request_id == request.id:
                    await ratings.finish_rating(
                        session, request=request, policyholder=policyholder, comment=None
                    )
                    accepted = True
            elif value.isdigit() and request.rating is None:
                accepted = await ratings.rate(
                    session,
                    request=request,
                    policyholder=policyholder,
                    stars=int(value),
                    telegram_update_id=update.update_id,
                )
    decorate(
        context.application,
        "answer to a rating",
        query.answer(texts.RATING_THANKS_TOAST if accepted else texts.RATING_EXPIRED),
    )
    if accepted or not seen:
        decorate(
            context.application,
            "removing the rating keyboard",
            query.edit_message_reply_markup(reply_markup=None),
        )


def register(application: Application) -> None:
    """Add the policyholder handlers (group 0, after the employee workspace's)."""
    application.add_handler(CommandHandler("start", start, filters=PRIVATE & NEW))
    application.add_handler(MessageHandler(PRIVATE & NEW & filters.CONTACT, on_contact))
    application.add_handler(MessageHandler(PRIVATE & NEW & filters.TEXT, on_text))
    application.add_handler(MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, on_edit))
    application.add_handler(CallbackQueryHandler(on_rating_button, pattern=RATING_BUTTON))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(PRIVATE & NEW & ~filters.StatusUpdate.ALL, on_media))
    application.add_handler(MessageHandler(~PRIVATE & NEW & filters.COMMAND, on_group_command))
