"""Who is talking in an update: a linked employee (by chat), a verified policyholder (by user),
or someone not known yet. Read once per update, in one session, before any handler runs.

``identify`` runs first for every update (group -2). It reads the database rather than a cache:
an invite or a verification may have linked the chat a moment ago, in another app process, and
each chat's updates run one at a time, so what it reads is current for the update. It keeps the
employee-chat filter of the employee handlers in step, and leaves the verified policyholder on
the update's context: python-telegram-bot passes one context to every handler of an update, so
the policyholder handlers need no second read.
"""

from dataclasses import dataclass

from sqlalchemy import select
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes, filters

from bot.db import session_scope
from bot.db.models import Employee, Policyholder
from bot.services import verification
from bot.telegram.context import services

EMPLOYEE_CHATS_KEY = "employee_chats"
_TALKER = "milchak_talker"  # the context attribute (a unique name, as PTB advises)


@dataclass(frozen=True)
class Talker:
    """A Telegram user who is not a linked employee, and the policyholder they proved to be."""

    telegram_user_id: int
    policyholder: Policyholder | None


def employee_chats(context: ContextTypes.DEFAULT_TYPE) -> filters.Chat:
    """The filter that is true in linked employees' private chats."""
    chats = context.bot_data[EMPLOYEE_CHATS_KEY]
    assert isinstance(chats, filters.Chat)
    return chats


async def identify(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """For a private chat: is it a linked employee's, and else who is the verified policyholder."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    async with services(context).sessions() as session:
        employee_id = await session.scalar(
            select(Employee.id).where(Employee.telegram_chat_id == chat.id)
        )
        policyholder = (
            await verification.policyholder_for_telegram(session, user.id)
            if employee_id is None and user is not None
            else None
        )
    if employee_id is None:
        employee_chats(context).remove_chat_ids(chat.id)
    else:
        employee_chats(context).add_chat_ids(chat.id)
    if employee_id is None and user is not None:
        setattr(context, _TALKER, Talker(user.id, policyholder))


async def verified_policyholder(
    context: ContextTypes.DEFAULT_TYPE, telegram_user_id: int
) -> Policyholder | None:
    """The verified policyholder behind ``telegram_user_id``: as ``identify`` found them for
    this update, or read now (an update outside a private chat, a button on an inline message)."""
    talker = getattr(context, _TALKER, None)
    if isinstance(talker, Talker) and talker.telegram_user_id == telegram_user_id:
        return talker.policyholder
    async with session_scope(services(context).sessions) as session:
        return await verification.policyholder_for_telegram(session, telegram_user_id)
