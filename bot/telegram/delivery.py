"""Talking back to Telegram once an update is safely in the ledger.

Two kinds of calls follow a stored update. Cosmetic ones — the typing indicator, removing the
buttons of a pressed message, answering a callback query — only decorate the conversation:
``decorate`` runs them in the background and a failure (429, 400 "message is not modified",
403, 5xx, a timeout) is logged and costs nothing. The answer itself matters: ``send_or_queue``
sends it now, split to Telegram's size limit, and whatever Telegram does not take now goes to
the outbox, which retries it, instead of the update failing and the customer getting an
apology for a message that was in fact received.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from bot.db import session_scope
from bot.db.models import Contact, OutboxPurpose
from bot.services.message_limits import split_message
from bot.services.outbox import enqueue

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


class Delivery(enum.StrEnum):
    SENT = "sent"  # Telegram took all of it
    QUEUED = "queued"  # (the rest of) it waits in the outbox
    BLOCKED = "blocked"  # the person blocked the bot: nobody can deliver it


async def best_effort(what: str, call: Awaitable[Any]) -> bool:
    """Await a cosmetic Bot API call; False (logged, never raised) when it failed."""
    try:
        await call
    except TelegramError as error:
        log.info("%s failed, ignored: %s", what, error)
        return False
    except Exception:  # a cosmetic call must never cost the turn
        log.warning("%s failed, ignored", what, exc_info=True)
        return False
    return True


def decorate(
    application: Application[Any, Any, Any, Any, Any, Any], what: str, call: Awaitable[Any]
) -> asyncio.Task[bool]:
    """Run a cosmetic call in the background (a slow answer never holds up the reply)."""
    return application.create_task(best_effort(what, call))


async def send_or_queue(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    *,
    chat_id: int,
    text: str,
    reply_markup: Markup | None = None,
    contact_id: int | None = None,
    reply_to_message_id: int | None = None,
    purpose: OutboxPurpose = OutboxPurpose.REPLY,
    policyholder_id: int | None = None,
    employee_id: int | None = None,
    request_id: int | None = None,
) -> Delivery:
    """Send ``text`` (several messages if it is long; the buttons on the last) now, or queue
    what Telegram does not take now. ``contact_id`` is the ledger row of the text: it gets the
    Telegram message id."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        try:
            sent = await bot.send_message(
                chat_id,
                part,
                reply_markup=reply_markup if last else None,
                reply_to_message_id=reply_to_message_id if index == 0 else None,
            )
        except Forbidden as error:
            log.warning("chat %s blocked the bot; reply not delivered: %s", chat_id, error)
            return Delivery.BLOCKED
        except TelegramError as error:
            log.warning("reply to chat %s queued for retry: %s", chat_id, error)
            async with session_scope(sessions) as session:
                await enqueue(
                    session,
                    chat_id=chat_id,
                    text="\n".join(parts[index:]),
                    reply_markup=_markup_json(reply_markup),
                    contact_id=contact_id,
                    purpose=purpose,
                    policyholder_id=policyholder_id,
                    employee_id=employee_id,
                    request_id=request_id,
                )
            return Delivery.QUEUED
        if last and contact_id is not None:
            async with session_scope(sessions) as session:
                await session.execute(
                    update(Contact)
                    .where(Contact.id == contact_id)
                    .values(telegram_message_id=sent.message_id)
                )
    return Delivery.SENT


def _markup_json(markup: Markup | None) -> dict[str, Any] | None:
    return None if markup is None else markup.to_dict()
