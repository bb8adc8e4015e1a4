"""Deliver outbox rows through the Telegram Bot API (the outbox's ``Send`` for Telegram)."""

from typing import Any

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.db.models import OutboxMessage
from bot.services.outbox import Send


def reply_markup_from_json(
    markup: dict[str, Any] | None, bot: Bot | None = None
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """Bot API JSON (as stored in the outbox) → the python-telegram-bot markup object."""
    if not markup:
        return None
    if "inline_keyboard" in markup:
        return InlineKeyboardMarkup.de_json(markup, bot)
    if "keyboard" in markup:
        return ReplyKeyboardMarkup.de_json(markup, bot)
    if markup.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    raise ValueError(f"unsupported reply_markup: {sorted(markup)}")


def telegram_sender(bot: Bot) -> Send:
    """A ``Send`` that delivers through ``bot.send_message`` and returns the message id."""

    async def send(message: OutboxMessage) -> int | None:
        sent = await bot.send_message(
            chat_id=message.chat_id,
            text=message.text,
            reply_markup=reply_markup_from_json(message.reply_markup, bot),
        )
        return sent.message_id

    return send
