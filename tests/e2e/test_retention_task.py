"""The retention task end to end: an unpaid premium in the demo's policy history becomes a task
on the employee's Telegram (fake Bot API on loopback, the real app and its outbox worker), and a
visit logged with /visit — or the 방문했어요 button — closes it.

Only employees talk here (their commands and buttons never reach Rasa), so this module runs the
app against its own freshly seeded demo database without a Rasa process.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot import clock
from bot.db import session_scope
from bot.db.models import Contact, Employee, Policy, Policyholder, Request, RetentionTask
from bot.demo.policy_history import seed_policy_history
from bot.demo.seed import FIXED_HOLDERS
from bot.services.retention import overdue_in_grace, retention_round
from bot.services.sla import Deadlines
from tests.auxil.stack import Stack, app_stack, free_port, seeded_database
from tests.auxil.staff import link_by_invite

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Overdue:
    policy_number: str
    holder_name: str
    holder_id: int
    employee_id: int


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The demo (organisation and two years of policy history) and the app, without Rasa."""
    path = tmp_path_factory.mktemp("retention") / "demo.db"
    url, sessions = await seeded_database(path)
    async with session_scope(sessions) as session:
        await seed_policy_history(
            session,
            today=clock.clock.seoul_now().date(),
            fixed_phones=frozenset(h.phone for h in FIXED_HOLDERS),
        )
    async with app_stack(
        database_url=url, rasa_url=f"http://127.0.0.1:{free_port()}", web_port=free_port()
    ) as running:
        yield running


async def _overdue_of_unlinked(stack: Stack, count: int) -> list[Overdue]:
    """Unpaid premiums in the demo whose employees have no Telegram yet, one per employee."""
    async with stack.sessions() as session:
        found = await overdue_in_grace(session, today=clock.clock.seoul_now().date())
        picked: list[Overdue] = []
        for item in found:
            holder = await session.get_one(Policyholder, item.policy.policyholder_id)
            employee = (
                await session.get(Employee, holder.employee_id) if holder.employee_id else None
            )
            if employee is None or employee.telegram_chat_id is not None:
                continue
            if any(p.employee_id == employee.id for p in picked):
                continue
            picked.append(Overdue(item.policy.number, holder.name, holder.id, employee.id))
            if len(picked) == count:
                break
    assert len(picked) == count, "the demo should have unpaid premiums in their grace period"
    return picked


async def _task(stack: Stack, number: str) -> Request:
    async with stack.sessions() as session:
        policy = await session.scalar(select(Policy).where(Policy.number == number))
        assert policy is not None
        task = await session.scalar(
            select(RetentionTask).where(RetentionTask.policy_id == policy.id)
        )
        assert task is not None and task.request_id is not None
        return await session.get_one(Request, task.request_id)


async def test_unpaid_premium_becomes_a_task_and_a_visit_closes_it(stack: Stack) -> None:
    telegram, sessions = stack.telegram, stack.sessions
    by_command, by_button = await _overdue_of_unlinked(stack, 2)
    chats = {
        o.employee_id: await link_by_invite(telegram, sessions, o.employee_id)
        for o in (by_command, by_button)
    }

    # The daily job's round (the worker runs exactly this from 09:00 Seoul).
    async with session_scope(sessions) as session:
        result = await retention_round(session, now=clock.now(), deadlines=Deadlines())
    assert result.opened >= 2

    alerts = {}
    for item in (by_command, by_button):
        chat = chats[item.employee_id]
        alert = await telegram.wait_for_message(
            chat, lambda m, n=item.policy_number: n in m.text, timeout=15
        )
        assert "계약 유지 관리" in alert.text and item.holder_name in alert.text
        assert re.search(r"미납: \d개월", alert.text) and "실효" in alert.text
        assert "최근 연락:" in alert.text
        assert [title for title, _ in alert.buttons] == ["📞 전화했어요", "🏠 방문했어요", "이관"]
        alerts[item.employee_id] = alert

    # 1) The employee logs a visit with /visit: the task closes.
    chat = chats[by_command.employee_id]
    before = len(telegram.sent(chat))
    telegram.push_text(chat, "/mine", first_name="직원")
    mine = await telegram.wait_for_message(chat, since=before, timeout=15)
    number = re.search(rf"^(\d+)\. {by_command.holder_name} ", mine.text, re.MULTILINE)
    assert number, mine.text
    before = len(telegram.sent(chat))
    telegram.push_text(
        chat, f"/visit {number.group(1)} 댁 방문, 자동이체 계좌 잔액 안내", first_name="직원"
    )
    saved = await telegram.wait_for_message(chat, since=before, timeout=15)
    task = await _task(stack, by_command.policy_number)
    assert "방문 기록을 저장했습니다" in saved.text and task.reference in saved.text
    assert task.status == "resolved"
    async with sessions() as session:
        visit = await session.scalar(
            select(Contact).where(Contact.request_id == task.id, Contact.channel == "visit")
        )
    assert visit is not None and visit.sender == "employee"
    assert visit.policyholder_id == by_command.holder_id and "잔액 안내" in visit.text

    # 2) The other employee presses 방문했어요 on the alert.
    chat = chats[by_button.employee_id]
    alert = alerts[by_button.employee_id]
    before = len(telegram.sent(chat))
    telegram.push_callback(
        chat, dict(alert.buttons)["🏠 방문했어요"], alert.message_id, first_name="직원"
    )
    answer = await telegram.wait_for_message(
        chat, lambda m: m.message_id != alert.message_id, since=before, timeout=15
    )
    task = await _task(stack, by_button.policy_number)
    assert "방문 기록을 저장하고 유지 관리 요청을 완료했습니다" in answer.text
    assert task.status == "resolved"
    edited = await telegram.wait_for_message(
        chat, lambda m: m.message_id == alert.message_id and "처리 완료" in m.text, timeout=15
    )
    assert not edited.buttons, "a closed task keeps no buttons"
    async with sessions() as session:
        logged = await session.scalar(
            select(Contact).where(Contact.request_id == task.id, Contact.channel == "visit")
        )
    assert logged is not None and logged.employee_id == by_button.employee_id
