"""Telegram's size limit on a message's text: 4,096 characters, counted in UTF-16 code units.

Everything the bot sends goes through one of these: a long text for a person to read in full
(a policy answer, a relayed message) is split into several messages at line or word breaks; a
text that must stay one message (an alert that is edited in place) is shortened with a pointer
to where the whole of it can be read.
"""

TELEGRAM_MAX = 4096


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """The number of characters of ``text`` that fit in ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_message(text: str, limit: int = TELEGRAM_MAX) -> list[str]:
    """``text`` as one or more messages of at most ``limit`` units, cut at a line break, else
    at a space, else anywhere; no part is empty."""
    parts: list[str] = []
    rest = text
    while telegram_length(rest) > limit:
        fit = _prefix_within(rest, limit)
        cut = rest.rfind("\n", 0, fit + 1)
        if cut <= fit // 2:
            cut = rest.rfind(" ", 0, fit + 1)
        if cut <= fit // 2:
            cut = fit
        head = rest[:cut].rstrip()
        if head:
            parts.append(head)
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not parts:
        parts.append(rest)
    return parts


def shorten(text: str, limit: int = TELEGRAM_MAX, *, pointer: str = "") -> str:
    """``text`` cut to fit ``limit`` units, ending with "…" and ``pointer`` when it was cut."""
    if telegram_length(text) <= limit:
        return text
    tail = "…" + (f"\n{pointer}" if pointer else "")
    keep = _prefix_within(text, max(limit - telegram_length(tail), 0))
    return text[:keep].rstrip() + tail
