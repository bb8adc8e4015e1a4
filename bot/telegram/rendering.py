"""Turn the bot's replies into Telegram messages."""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data


def inline_keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """Buttons two to a row; a payload too long for callback_data falls back to the title."""
    if not buttons:
        return None
    keys = []
    for title, payload in buttons:
        data = payload if len(payload.encode()) <= MAX_CALLBACK_BYTES else title[:20]
        keys.append(InlineKeyboardButton(title, callback_data=data))
    per_row = 1 if any(len(title) > 12 for title, _ in buttons) else 2
    return InlineKeyboardMarkup([keys[i : i + per_row] for i in range(0, len(keys), per_row)])


def button_title(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The title of the pressed button, for the ledger."""
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for key in row:
            if key.callback_data == data:
                return key.text
    return None
