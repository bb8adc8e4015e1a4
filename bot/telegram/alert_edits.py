"""Editing an alert in place: after a button press or a relay, every alert about the request
shows its current status, buttons and history (the employee side and the retention buttons
both use it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.db.models import Request
from bot.services import alerts
from bot.services.message_limits import shorten
from bot.telegram.sender import reply_markup_from_json

log = logging.getLogger(__name__)

ALERT_POINTER = "(전체 내용은 관리 콘솔의 요청 {reference}에서 확인하세요.)"
EDIT_ATTEMPTS = 4
MAX_EDIT_WAIT = 30.0  # seconds; a longer flood-control wait is not worth holding a task for


async def refresh_alerts(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    request_id: int,
    *,
    attempts: int = EDIT_ATTEMPTS,
) -> None:
    """Edit every alert about the request to show its current status and history.

    Telegram errors are retried: after a 429 once ``retry_after`` has passed (at most
    ``MAX_EDIT_WAIT``), after a network error with a short backoff. Each attempt reads the
    request afresh, so a late retry never puts back an older status; and refreshes of one
    request take turns (read, then edit), so one that read the request before a 완료 cannot
    land its edit after the 완료's.
    """
    only: set[tuple[int, int]] | None = None
    for attempt in range(attempts):
        async with _alert_turn(request_id):
            outcome = await _edit_alerts(bot, sessions, request_id, attempt, only)
        if outcome is None or not outcome[0]:
            return
        only, wait = outcome
        if attempt + 1 < attempts:
            await asyncio.sleep(min(wait, MAX_EDIT_WAIT))
    log.warning("alerts of request %s not edited after %s attempts: %s", request_id, attempts, only)


@dataclass
class _Turns:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


_ALERT_TURNS: dict[int, _Turns] = {}


@contextlib.asynccontextmanager
async def _alert_turn(request_id: int) -> AsyncIterator[None]:
    """One refresh of a request's alerts at a time (in this process); idle requests cost nothing."""
    turns = _ALERT_TURNS.setdefault(request_id, _Turns())
    turns.users += 1
    try:
        async with turns.lock:
            yield
    finally:
        turns.users -= 1
        if turns.users == 0:
            del _ALERT_TURNS[request_id]


async def _edit_alerts(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    request_id: int,
    attempt: int,
    only: set[tuple[int, int]] | None,
) -> tuple[set[tuple[int, int]], float] | None:
    """One round of edits; the alerts to retry and how long to wait, or None when gone."""
    async with sessions() as session:
        request = await session.get(Request, request_id)
        if request is None:
            return None
        text, markup = await alerts.alert_view(session, request)
        text = shorten(text, pointer=ALERT_POINTER.format(reference=request.reference))
        targets = await alerts.alert_messages(session, request)
    if only is not None:
        targets = [t for t in targets if t in only]
    pending: set[tuple[int, int]] = set()
    wait = 0.0
    for chat_id, message_id in targets:
        try:
            await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=reply_markup_from_json(markup, bot),  # type: ignore[arg-type]
            )
        except RetryAfter as error:
            pending.add((chat_id, message_id))
            wait = max(wait, _seconds(error.retry_after))
        except BadRequest as error:  # "message is not modified" and the like: nothing to do
            log.debug("alert %s/%s not edited: %s", chat_id, message_id, error)
        except Forbidden:
            log.warning("alert %s/%s not edited: bot blocked", chat_id, message_id)
        except (NetworkError, TelegramError) as error:
            pending.add((chat_id, message_id))
            wait = max(wait, float(2**attempt))
            log.info("alert %s/%s not edited yet: %s", chat_id, message_id, error)
    return pending, wait


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
