"""Employees for end-to-end workspace tests on the shared demo database.

The demo organisation links only the department heads (900001…) and 김영환's deputy 김미정
(900101). Tests that need more people on Telegram take an unlinked employee from a
``StaffPool`` and link them through the real invite flow (``link_by_invite``), each with a chat
id of their own, so tests never share an employee's chat.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import session_scope
from bot.db.models import Department, Employee, Policyholder
from bot.services.invites import INVITE_TTL, START_PREFIX, create_invite
from bot.services.phones import format_phone
from tests.auxil.fake_telegram import FakeTelegram, SentMessage

LINKED_TEXT = "직원용 계정이 연결되었습니다"


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    title: str
    deputy_id: int | None

    @property
    def display_name(self) -> str:
        return f"{self.name} {self.title}"


@dataclass(frozen=True)
class Holder:
    """A policyholder: enough for the e2e ``Customer`` to verify as them."""

    id: int
    name: str
    phone: str  # 010-1234-5678
    birth_date: date

    @classmethod
    def of(cls, policyholder: Policyholder) -> Holder:
        return cls(
            policyholder.id,
            policyholder.name,
            format_phone(policyholder.phone),
            policyholder.birth_date,
        )


class StaffPool:
    """Unlinked, non-head employees of one department, handed out once each."""

    _next_chat_id = 910_000  # clear of the demo's 9000xx heads and 900101

    def __init__(self, staff: list[StaffMember]) -> None:
        self._free = list(staff)

    @classmethod
    async def load(
        cls, sessions: async_sessionmaker[AsyncSession], *, department: str = "기획부"
    ) -> StaffPool:
        async with sessions() as session:
            rows = await session.scalars(
                select(Employee)
                .join(Department, Department.id == Employee.department_id)
                .where(
                    Department.name == department,
                    Employee.is_head.is_(False),
                    Employee.telegram_chat_id.is_(None),
                )
                .order_by(Employee.id)
            )
            return cls([StaffMember(e.id, e.name, e.title, e.deputy_id) for e in rows])

    def take(
        self, *, deputy_id: int | None = None, not_deputy_id: int | None = None
    ) -> StaffMember:
        """The first free employee (whose deputy is / is not the given employee)."""
        for member in self._free:
            if deputy_id is not None and member.deputy_id != deputy_id:
                continue
            if not_deputy_id is not None and member.deputy_id == not_deputy_id:
                continue
            self._free.remove(member)
            return member
        raise LookupError("no free employee fits")

    @classmethod
    def new_chat_id(cls) -> int:
        cls._next_chat_id += 1
        return cls._next_chat_id


async def employee_by_chat(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> Employee:
    async with sessions() as session:
        employee = await session.scalar(
            select(Employee).where(Employee.telegram_chat_id == chat_id)
        )
    assert employee is not None, f"no employee linked to chat {chat_id}"
    return employee


async def holder_of(
    sessions: async_sessionmaker[AsyncSession], employee_id: int, *, index: int = 0
) -> Holder:
    """One of the employee's policyholders (by id order) who has not used Telegram yet."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Policyholder)
            .where(
                Policyholder.employee_id == employee_id,
                Policyholder.telegram_user_id.is_(None),
            )
            .order_by(Policyholder.id)
        )
        holders = list(rows.all())
    return Holder.of(holders[index])


async def invite_code(
    sessions: async_sessionmaker[AsyncSession], employee_id: int, *, ttl: timedelta = INVITE_TTL
) -> str:
    """A fresh invite code, made by the same service as ``milchak employee invite``."""
    async with session_scope(sessions) as session:
        invite = await create_invite(session, employee_id=employee_id, ttl=ttl)
        return invite.code


async def open_invite(
    telegram: FakeTelegram, chat_id: int, code: str, *, timeout: float = 15
) -> SentMessage:
    """Open the deep link ``https://t.me/<bot>?start=emp-<code>`` from ``chat_id``; the answer."""
    before = len(telegram.sent(chat_id))
    telegram.push_text(chat_id, f"/start {START_PREFIX}{code}", first_name="직원")
    return await telegram.wait_for_message(chat_id, since=before, timeout=timeout)


async def link_by_invite(
    telegram: FakeTelegram, sessions: async_sessionmaker[AsyncSession], employee_id: int
) -> int:
    """Link the employee to a new chat through the real invite flow; returns the chat id."""
    chat_id = StaffPool.new_chat_id()
    answer = await open_invite(telegram, chat_id, await invite_code(sessions, employee_id))
    assert LINKED_TEXT in answer.text, answer.text
    return chat_id
