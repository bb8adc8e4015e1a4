"""End-to-end fixtures: one Rasa process and one seeded database for the whole session; each
test talks as a different demo policyholder, so Rasa's conversations never mix."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.actions.loan import MIN_LOAN
from bot.db import session_scope
from bot.db.models import Employee, Policy, Policyholder, Request
from bot.demo.seed import RESERVED_NAMES
from tests.auxil.fake_telegram import FakeTelegram, SentMessage
from tests.auxil.stack import RasaServer, Stack, app_stack, rasa_server, seeded_database
from tests.auxil.staff import Holder

KIM_CHAT_ID = 900001  # 김영환 기획부장, 이영숙's employee
QUIET_SECONDS = 0.4
# Rasa starts a new session (bot.rasa_tracker_store) every few turns, as in production, so every
# end-to-end conversation also runs across session starts; pinned here, whatever the default.
E2E_SESSION_EVENTS = 40


@dataclass
class SessionWorld:
    database_url: str
    rasa: RasaServer
    stack: Stack


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SessionWorld]:
    tmp = tmp_path_factory.mktemp("e2e")
    database_url, _ = await seeded_database(tmp / "e2e.db")
    async with (
        rasa_server(tmp, session_events=E2E_SESSION_EVENTS) as rasa,
        app_stack(database_url=database_url, rasa_url=rasa.url, web_port=rasa.web_port) as stack,
    ):
        yield SessionWorld(database_url, rasa, stack)


class HolderPool:
    """Hands out 김영환's policyholders, one per test, so every test starts a fresh chat."""

    def __init__(self, holders: list[Holder]) -> None:
        self._free = list(holders)

    def take(self, name: str | None = None) -> Holder:
        """The holder called ``name``; without a name, anyone but the demo's fixed holders
        (이영숙, 정민수), whom tests ask for by name."""
        if name is None:
            holder = next(h for h in self._free if h.name not in RESERVED_NAMES)
        else:
            holder = next(h for h in self._free if h.name == name)
        self._free.remove(holder)
        return holder

    def take_last(self) -> Holder:
        """The last free holder (not a fixed one): for a test that must not shift which holders
        the tests taking the first free ones get (their data differ: policies, loan limits)."""
        holder = next(h for h in reversed(self._free) if h.name not in RESERVED_NAMES)
        self._free.remove(holder)
        return holder

    def take_from(self, ids: Collection[int]) -> Holder:
        """The first free holder whose id is in ``ids`` (not one of the demo's fixed holders)."""
        holder = next((h for h in self._free if h.id in ids and h.name not in RESERVED_NAMES), None)
        assert holder is not None, f"no free holder left among {len(ids)} that fit"
        self._free.remove(holder)
        return holder


async def holders_with_loanable_policies(
    world: SessionWorld, *, at_least: int, at_most: int | None = None
) -> set[int]:
    """Policyholders with ``at_least`` (to ``at_most``) active policies to borrow on: the loan
    form asks to choose a policy when there are two or more, and skips the question for one."""
    enough = func.count() >= at_least
    async with session_scope(world.stack.sessions) as session:
        rows = await session.scalars(
            select(Policy.policyholder_id)
            .where(Policy.status == "active", Policy.loan_limit >= MIN_LOAN)
            .group_by(Policy.policyholder_id)
            .having(enough if at_most is None else enough & (func.count() <= at_most))
        )
        return set(rows)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def holders(world: SessionWorld) -> HolderPool:
    async with session_scope(world.stack.sessions) as session:
        kim = await session.scalar(select(Employee).where(Employee.telegram_chat_id == KIM_CHAT_ID))
        assert kim is not None
        rows = await session.scalars(
            select(Policyholder).where(Policyholder.employee_id == kim.id).order_by(Policyholder.id)
        )
        return HolderPool([Holder.of(p) for p in rows])


class Customer:
    """A Telegram user chatting with the bot through the fake Bot API."""

    _next_user_id = 7_000_000

    def __init__(self, telegram: FakeTelegram, holder: Holder | None = None) -> None:
        Customer._next_user_id += 1
        self.user_id = Customer._next_user_id
        self.telegram = telegram
        self.holder = holder

    def _count(self) -> int:
        return len(self.telegram.sent(self.user_id))

    async def _settle(self, before: int) -> list[SentMessage]:
        """Wait for the bot's answer: at least one new message, then a quiet moment."""
        await self.telegram.wait_for_count(self.user_id, before + 1, timeout=30)
        count = self._count()
        while True:
            await asyncio.sleep(QUIET_SECONDS)
            if self._count() == count:
                return self.telegram.sent(self.user_id)[before:]
            count = self._count()

    async def say(self, text: str) -> list[SentMessage]:
        before = self._count()
        self.telegram.push_text(self.user_id, text)
        return await self._settle(before)

    async def press(self, message: SentMessage, title: str) -> list[SentMessage]:
        data = dict(message.buttons)[title]
        before = self._count()
        self.telegram.push_callback(self.user_id, data, message.message_id)
        return await self._settle(before)

    async def share_contact(self, phone: str, *, owner: int | None = None) -> list[SentMessage]:
        before = self._count()
        self.telegram.push_contact(self.user_id, phone, self.user_id if owner is None else owner)
        return await self._settle(before)

    async def verify(self) -> None:
        assert self.holder is not None
        await self.say("/start")
        await self.share_contact(self.holder.phone)
        replies = await self.say(self.holder.birth_date.strftime("%y%m%d"))
        assert "본인 확인이 끝났어요" in replies[-1].text


def texts_of(messages: list[SentMessage]) -> str:
    return "\n".join(m.text for m in messages)


REFERENCE = re.compile(r"R-\d{8}-\d{4}")


def reference_in(messages: list[SentMessage]) -> str:
    """The request reference the bot told the customer."""
    found = REFERENCE.search(texts_of(messages))
    assert found, texts_of(messages)
    return found.group(0)


async def stored_request(world: SessionWorld, reference: str) -> Request:
    """The persisted request behind a reference (it must exist before the customer is told)."""
    async with session_scope(world.stack.sessions) as session:
        request = await session.scalar(select(Request).where(Request.reference == reference))
    assert request is not None, f"{reference} was not persisted"
    return request


@pytest.fixture
def telegram(world: SessionWorld) -> FakeTelegram:
    return world.stack.telegram


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
