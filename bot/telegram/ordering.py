"""Handle Telegram updates of different chats at the same time, each chat's in arrival order.

While one policyholder's message waits for Rasa and the database, other customers and employees
should not wait with it; but within a chat, a form answer must never overtake the previous one,
nor an employee's relay text the 접수 press before it. ``ChatOrderedUpdateProcessor`` gives each
chat (or, for an update without one, its user) a lock that updates take in arrival order, and
bounds how many updates run at once. With ``claims`` (webhook mode, where several app replicas
may each get updates of one chat) an update also waits for its chat's turn in the database
(``bot.services.chat_claims``) once it has its chat's lock here.
"""

import asyncio
import inspect
import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.services.chat_claims import ChatClaims

# PTB takes its own semaphore before ``do_process_update`` sees an update. Bounded there, one
# chat's backlog waiting for its lock could hold every slot and stall all other chats, and the
# semaphore's wake-up order, not arrival order, would decide which update reaches the chat lock
# first. So PTB's semaphore admits everything (it is never contended, so every update reaches
# its chat lock in the order the Application took it from the queue) and the bound is applied
# only to updates whose turn in their chat has come.
_ADMIT_ALL = sys.maxsize


def ordering_key(update: object) -> int | None:
    """The chat id that orders ``update``; the user id when it has no chat; else None.

    A private chat's id is its user's id, so a chat-less update from a user (a callback from an
    inline message) queues behind that user's private chat; group chat ids are negative and
    never collide with user ids.
    """
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


@dataclass
class _ChatTurns:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # updates holding or waiting for the lock


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Run up to ``max_concurrent_updates`` updates at once, one at a time per chat.

    ``asyncio.Lock`` is fair (waiters acquire it first come, first served), so one chat's
    updates run in the order they arrived. A chat's lock is dropped as soon as no update holds
    or waits for it, so idle chats cost nothing.
    """

    __slots__ = ("_active", "_chats", "_claims", "_limit", "_running")

    def __init__(self, max_concurrent_updates: int, claims: ChatClaims | None = None) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be a positive integer")
        # The base initialiser sizes its semaphore through the property below.
        self._limit = _ADMIT_ALL
        super().__init__(_ADMIT_ALL)
        self._limit = max_concurrent_updates
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._active = 0
        self._chats: dict[int, _ChatTurns] = {}
        self._claims = claims

    @property
    def max_concurrent_updates(self) -> int:
        """The most updates that run at once (those waiting for their chat's turn excluded)."""
        return self._limit

    @property
    def current_concurrent_updates(self) -> int:
        """Updates running right now (a snapshot)."""
        return self._active

    @property
    def tracked_chats(self) -> int:
        """Chats with an update running or waiting (for tests and monitoring)."""
        return len(self._chats)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this chat's turn, then for a free slot, then handle the update."""
        key = ordering_key(update)
        if key is None:
            await self._run(coroutine)
            return
        # No await between looking the chat up and queueing on its lock: arrival order holds.
        turns = self._chats.get(key)
        if turns is None:
            turns = self._chats[key] = _ChatTurns()
        turns.users += 1
        try:
            async with turns.lock:
                if self._claims is None or not isinstance(update, Update):
                    await self._run(coroutine)
                else:
                    await self._run_claimed(key, update.update_id, coroutine)
        finally:
            turns.users -= 1
            if turns.users == 0:
                del self._chats[key]

    async def _run_claimed(self, chat_id: int, update_id: int, coroutine: Awaitable[Any]) -> None:
        assert self._claims is not None
        started = False
        try:
            async with self._claims.turn(chat_id, update_id):
                started = True
                await self._run(coroutine)
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # the claim failed (the database is down): never run

    async def _run(self, coroutine: Awaitable[Any]) -> None:
        async with self._running:
            self._active += 1
            try:
                await coroutine
            finally:
                self._active -= 1

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: ``Application.stop`` lets pending updates finish first."""
