"""One chat's webhook updates, one at a time and in update order, across app replicas.

Within one process ``bot.telegram.ordering`` keeps a chat's updates in order with a lock; with
several app replicas behind a load balancer, two updates of one chat may reach two processes.
Each update then takes a turn through the ``chat_claims`` table:

1. its row is written (chat, update id, owner, lease), committed;
2. it may run once no other live row of the chat holds the chat and no live row waiting has a
   smaller update id; it marks its row as holding in the same transaction;
3. its row is deleted when the update is handled.

Writes and checks of one chat take turns: on PostgreSQL under a transaction-level advisory lock
on the chat id, on SQLite (one writer) by starting with a write. The later of two checks thus
always sees the earlier one's row and its decision: two replicas never hold one chat at once.
An update that finds its chat free writes its row and takes the chat in one transaction. A replica renews its leases while it lives; a row whose lease ran out (its replica
died) is deleted by the next claimant of that chat, which then goes ahead. The dead replica
never answered Telegram for that update, so Telegram sends it again, and the ledger's update id
keeps a message that was stored from being handled twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.db.engine import session_scope
from bot.db.inserts import Upsert
from bot.db.models import ChatClaim

log = logging.getLogger(__name__)

FIRST_POLL = 0.01  # seconds between looks while another update holds the chat, doubling …
MAX_POLL = 0.2  # … up to this


def replica_name() -> str:
    """This process, as the owner of its claims: host, pid and a random part (pids repeat)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class ChatClaims:
    """Turns of chats for the updates this replica handles."""

    sessions: async_sessionmaker[AsyncSession]
    lease: float = 30.0
    owner: str = field(default_factory=replica_name)

    def _until(self) -> timedelta:
        return timedelta(seconds=self.lease)

    async def enqueue(self, chat_id: int, update_id: int) -> None:
        """Write the update's row (again, with a fresh lease, when Telegram re-sends it)."""
        async with session_scope(self.sessions) as session:
            await self._upsert(session, chat_id, update_id)

    async def _upsert(self, session: AsyncSession, chat_id: int, update_id: int) -> None:
        now = clock.now()
        await session.execute(
            Upsert(
                ChatClaim,
                target=[ChatClaim.chat_id, ChatClaim.update_id],
                refresh=[ChatClaim.owner, ChatClaim.holding, ChatClaim.lease_until],
                # A re-sent update another replica is handling right now keeps its holder.
                condition=or_(ChatClaim.holding.is_(False), ChatClaim.lease_until < now),
            ).values(
                chat_id=chat_id,
                update_id=update_id,
                owner=self.owner,
                holding=False,
                lease_until=now + self._until(),
            )
        )

    async def try_hold(self, chat_id: int, update_id: int, *, arriving: bool = False) -> bool:
        """Take the chat for ``update_id`` if it is its turn; False to look again later.

        ``arriving``: the update's row is written in the same transaction (its first look, one
        commit instead of two for an update that finds its chat free).
        """
        now = clock.now()
        async with session_scope(self.sessions) as session:
            if session.get_bind().dialect.name == "postgresql":
                await session.execute(select(func.pg_advisory_xact_lock(chat_id)))
            # On SQLite this first write takes the database's write lock for the check.
            if arriving:
                await self._upsert(session, chat_id, update_id)
            else:
                await session.execute(
                    update(ChatClaim)
                    .where(
                        ChatClaim.chat_id == chat_id,
                        ChatClaim.update_id == update_id,
                        or_(
                            ChatClaim.holding.is_(False),
                            ChatClaim.owner == self.owner,
                            ChatClaim.lease_until < now,
                        ),
                    )
                    .values(owner=self.owner, lease_until=now + self._until())
                    .execution_options(synchronize_session=False)
                )
            rows = list(
                await session.scalars(
                    select(ChatClaim)
                    .where(ChatClaim.chat_id == chat_id)
                    .order_by(ChatClaim.update_id)
                )
            )
            expired = [r for r in rows if r.update_id != update_id and r.lease_until_utc < now]
            if expired:
                await session.execute(
                    delete(ChatClaim)
                    .where(
                        ChatClaim.chat_id == chat_id,
                        ChatClaim.update_id.in_([r.update_id for r in expired]),
                    )
                    .execution_options(synchronize_session=False)
                )
                for row in expired:
                    log.warning(
                        "chat %s: update %s of %s ran out of its lease, taken over",
                        chat_id,
                        row.update_id,
                        row.owner,
                    )
            mine = next((r for r in rows if r.update_id == update_id), None)
            if mine is None:
                # A claimant that outlived our lease took our row for a dead replica's.
                raise LookupError(f"claim of update {update_id} in chat {chat_id} was dropped")
            if mine.holding and mine.owner != self.owner and mine.lease_until_utc >= now:
                return False  # Telegram re-sent it while another replica handles it: wait
            live = [r for r in rows if r not in expired]
            held = any(r.holding and r.update_id != update_id for r in live)
            first = min(r.update_id for r in live if not r.holding or r.update_id == update_id)
            if held or first != update_id:
                return False
            await session.execute(
                update(ChatClaim)
                .where(ChatClaim.chat_id == chat_id, ChatClaim.update_id == update_id)
                .values(holding=True)
                .execution_options(synchronize_session=False)
            )
            return True

    async def renew(self, chat_id: int, update_id: int) -> None:
        """Push the lease of an update this replica holds or waits with."""
        async with session_scope(self.sessions) as session:
            await session.execute(
                update(ChatClaim)
                .where(
                    and_(
                        ChatClaim.chat_id == chat_id,
                        ChatClaim.update_id == update_id,
                        ChatClaim.owner == self.owner,
                    )
                )
                .values(lease_until=clock.now() + self._until())
                .execution_options(synchronize_session=False)
            )

    async def release(self, chat_id: int, update_id: int) -> None:
        """The update is handled (or given up): the chat's next update may run."""
        async with session_scope(self.sessions) as session:
            await session.execute(
                delete(ChatClaim)
                .where(ChatClaim.chat_id == chat_id, ChatClaim.update_id == update_id)
                .execution_options(synchronize_session=False)
            )

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int, update_id: int) -> AsyncIterator[None]:
        """Wait for the chat's turn of ``update_id``, hold it while the body runs, let go."""
        heartbeat = asyncio.create_task(self._keep_alive(chat_id, update_id))
        try:
            poll, arriving = FIRST_POLL, True
            while True:
                try:
                    if await self.try_hold(chat_id, update_id, arriving=arriving):
                        break
                except LookupError:
                    log.warning(
                        "chat %s: update %s lost its place, queueing again", chat_id, update_id
                    )
                    arriving = True
                    continue
                arriving = False
                await asyncio.sleep(poll)
                poll = min(poll * 2, MAX_POLL)
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            try:
                await self.release(chat_id, update_id)
            except Exception:
                # The lease runs out and the chat's next update goes ahead then.
                log.warning(
                    "could not release chat %s update %s", chat_id, update_id, exc_info=True
                )

    async def _keep_alive(self, chat_id: int, update_id: int) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.renew(chat_id, update_id)
            except Exception:
                log.warning("could not renew the claim of chat %s", chat_id, exc_info=True)
