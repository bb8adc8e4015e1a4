"""The retention job: unpaid premiums in their grace period become tasks once, with the right
alert and buttons, an office-hours SLA and escalation; a logged call or visit closes them;
payments and lapses close them; prevented lapses are counted; the reminder is opt-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.clock import SEOUL, as_utc
from bot.db.models import (
    Contact,
    Department,
    Employee,
    OutboxMessage,
    Policy,
    PolicyEvent,
    Policyholder,
    Request,
    RequestEvent,
    RetentionTask,
)
from bot.services import portfolio, retention
from bot.services.casefile import WorkspaceError
from bot.services.escalation import escalate_due
from bot.services.sla import Deadlines

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=SEOUL).astimezone(UTC)  # a Tuesday
OWNER_CHAT, DEPUTY_CHAT, HEAD_CHAT, HOLDER_CHAT = 920001, 920002, 920003, 777001


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.FrozenClock]:
    real = clock.clock
    frozen = clock.FrozenClock(NOW)
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(real)


async def _world(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """One owner with a deputy and a head; three holders; policies whose premium of 2026-02-15
    (installment 14 of a 2025-01-15 contract) is unpaid: grace until 2026-03-31."""
    async with sessions() as s:
        dept = Department(name="기획부")
        s.add(dept)
        await s.flush()

        def employee(name: str, title: str, chat: int, head: bool = False) -> Employee:
            return Employee(name=name, title=title, department_id=dept.id, home_area="인천",
                            telegram_chat_id=chat, is_head=head)  # fmt: skip

        head = employee("김영환", "기획부장", HEAD_CHAT, head=True)
        deputy = employee("김미정", "차장", DEPUTY_CHAT)
        owner = employee("박민수", "대리", OWNER_CHAT)
        s.add_all([head, deputy, owner])
        await s.flush()
        owner.deputy_id = deputy.id
        ids = {"owner": owner.id, "deputy": deputy.id, "head": head.id}
        for i, name in enumerate(("이영숙", "정민수", "한철수")):
            holder = Policyholder(
                name=name, phone=f"0105512308{i}", birth_date=date(1962, 4, 17),
                address="인천 남동구 만수동", area="인천 남동구", employee_id=owner.id,
                telegram_chat_id=HOLDER_CHAT + i, telegram_user_id=HOLDER_CHAT + i,
            )  # fmt: skip
            s.add(holder)
            await s.flush()
            policy = Policy(
                number=f"KL-2025-00000{i}", policyholder_id=holder.id, product="무배당암보험",
                premium=42_000, contract_date=date(2025, 1, 15), payment_cycle="monthly",
                status="active",
            )  # fmt: skip
            s.add(policy)
            await s.flush()
            s.add_all(
                [
                    PolicyEvent(policy_id=policy.id, kind="normal", occurred_on=date(2025, 1, 15),
                                paid_through=1, source="import"),
                    PolicyEvent(policy_id=policy.id, kind="unpaid", occurred_on=date(2026, 2, 15),
                                paid_through=13, source="import"),
                ]
            )  # fmt: skip
            ids[name] = holder.id
            ids[f"policy:{name}"] = policy.id
        # Not overdue: paid again after missing; and one whose grace ended (lapse not yet sent).
        cured = Policy(number="KL-X-1", policyholder_id=ids["이영숙"], product="종신보험",
                       premium=90_000, contract_date=date(2024, 5, 1), status="active")  # fmt: skip
        stale = Policy(number="KL-X-2", policyholder_id=ids["이영숙"], product="종신보험",
                       premium=90_000, contract_date=date(2024, 5, 1), status="active")  # fmt: skip
        s.add_all([cured, stale])
        await s.flush()
        s.add_all(
            [
                PolicyEvent(policy_id=cured.id, kind="unpaid", occurred_on=date(2026, 2, 1),
                            paid_through=21, source="import"),
                PolicyEvent(policy_id=cured.id, kind="normal", occurred_on=date(2026, 2, 20),
                            paid_through=22, source="import"),
                PolicyEvent(policy_id=stale.id, kind="unpaid", occurred_on=date(2026, 1, 1),
                            paid_through=20, source="import"),
            ]
        )  # fmt: skip
        s.add(Contact(policyholder_id=ids["이영숙"], employee_id=owner.id, direction="out",
                      channel="visit", sender="employee", text="방문",
                      created_at=datetime(2026, 1, 20, 3, 0, tzinfo=UTC)))  # fmt: skip
        await s.commit()
    return ids


async def _round(
    sessions: async_sessionmaker[AsyncSession], **kwargs: object
) -> retention.RoundResult:
    async with sessions() as session:
        result = await retention.retention_round(
            session, now=clock.now(), **kwargs, deadlines=Deadlines()
        )  # type: ignore[arg-type]
        await session.commit()
    return result


async def _request_of(session: AsyncSession, policy_id: int) -> Request:
    task = await session.scalar(select(RetentionTask).where(RetentionTask.policy_id == policy_id))
    assert task is not None and task.request_id is not None
    return await session.get_one(Request, task.request_id)


async def test_job_opens_one_task_per_missed_premium(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _world(sessions)
    first = await _round(sessions)
    assert (first.opened, first.overdue) == (3, 3)
    again = await _round(sessions)
    assert (again.opened, again.overdue) == (0, 3)

    async with sessions() as session:
        request = await _request_of(session, ids["policy:이영숙"])
        alerts = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.request_id == request.id)
            )
        )
    assert request.kind == "retention" and request.status == "new"
    assert request.employee_id == ids["owner"]
    # Office hours run 09–18: Tue 10–18 (8 h) + Wed 09–17 (8 h) = 16 h, due Wed 17:00.
    assert as_utc(request.due_at).astimezone(SEOUL) == datetime(2026, 3, 11, 17, 0, tzinfo=SEOUL)  # type: ignore[arg-type]
    [alert] = alerts
    assert alert.chat_id == OWNER_CHAT
    for words in ("이영숙", "KL-2025-000000", "미납: 1개월 (14회차부터, 납입기일 2026-02-15)",
                  "미납액 42,000원", "2026-03-31까지 납입하지 않으면 실효", "최근 연락: 2026-01-20 (방문)"):  # fmt: skip
        assert words in alert.text, alert.text
    buttons = [b["callback_data"] for row in alert.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert buttons == [
        f"ret:call:{request.id}",
        f"ret:visit:{request.id}",
        f"req:handover:{request.id}",
    ]
    # No reminder unless configured.
    async with sessions() as session:
        to_holders = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.purpose == "retention_reminder")
        )
    assert to_holders is None


async def test_reminder_when_enabled(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await _world(sessions)
    await _round(sessions, reminder=True, company_phone="1588-0000")
    async with sessions() as session:
        reminders = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == "retention_reminder")
            )
        )
        ledger = await session.scalar(
            select(Contact).where(Contact.policyholder_id == ids["이영숙"], Contact.sender == "bot")
        )
    assert len(reminders) == 3
    text = next(m.text for m in reminders if m.chat_id == HOLDER_CHAT)
    assert "이영숙 님" in text and "42,000원" in text and "3월 31일까지" in text
    assert "1588-0000" in text and "박민수 대리" in text
    assert ledger is not None and ledger.text == text


async def test_call_or_visit_closes_the_task(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await _world(sessions)
    await _round(sessions)
    async with sessions() as session:
        owner = await session.get_one(Employee, ids["owner"])
        request = await _request_of(session, ids["policy:이영숙"])
        contact = await retention.log_task_contact(
            session, request=request, employee=owner, channel="phone"
        )
        await session.commit()
        assert (contact.channel, contact.sender, contact.request_id) == (
            "phone", "employee", request.id,
        )  # fmt: skip
        assert request.status == "resolved" and request.due_at is None
        with pytest.raises(WorkspaceError):
            await retention.log_task_contact(
                session, request=request, employee=owner, channel="visit"
            )
        # A /visit logged for 정민수 closes that holder's task too.
        holder = await session.get_one(Policyholder, ids["정민수"])
        touch = await portfolio.log_touch(
            session, employee=owner, policyholder=holder, channel="visit", note="현관에서 안내"
        )
        closed = await retention.close_on_touch(session, contact=touch, employee=owner)
        await session.commit()
        other = await _request_of(session, ids["policy:정민수"])
        assert closed is not None and closed.id == other.id and other.status == "resolved"
        assert touch.request_id == other.id
        # Someone outside the chain may not log on the task.
        outsider = Employee(
            name="남", title="사원", department_id=owner.department_id, home_area=""
        )
        session.add(outsider)
        await session.flush()
        third = await _request_of(session, ids["policy:한철수"])
        with pytest.raises(WorkspaceError):
            await retention.log_task_contact(
                session, request=third, employee=outsider, channel="phone"
            )


async def test_payment_lapse_and_outcomes(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    ids = await _world(sessions)
    await _round(sessions)
    async with sessions() as session:
        session.add_all(
            [
                PolicyEvent(policy_id=ids["policy:이영숙"], kind="normal",
                            occurred_on=date(2026, 3, 12), paid_through=14, source="import"),
                PolicyEvent(policy_id=ids["policy:정민수"], kind="lapsed",
                            occurred_on=date(2026, 4, 1), paid_through=13, source="import"),
            ]
        )  # fmt: skip
        await session.commit()
    frozen.advance(timedelta(days=23))  # 2026-04-02: paid, lapsed, and 한철수's grace is over
    result = await _round(sessions)
    assert result.closed == 3 and result.opened == 0
    async with sessions() as session:
        paid = await _request_of(session, ids["policy:이영숙"])
        lapsed = await _request_of(session, ids["policy:정민수"])
        expired = await _request_of(session, ids["policy:한철수"])
        notes = {
            r.id: (await session.scalar(
                select(RequestEvent.note).where(RequestEvent.request_id == r.id)
                .order_by(RequestEvent.id.desc()).limit(1)
            ))
            for r in (paid, lapsed, expired)
        }  # fmt: skip
        outcomes = await retention.retention_outcomes(
            session, since=NOW - timedelta(days=1), until=clock.now()
        )
    assert (paid.status, lapsed.status, expired.status) == ("resolved", "cancelled", "cancelled")
    assert notes[paid.id] == retention.CLOSED_PAID
    assert notes[lapsed.id] == retention.CLOSED_LAPSED.format(status="실효")
    assert notes[expired.id] == retention.CLOSED_EXPIRED
    assert (outcomes.opened, outcomes.paid, outcomes.lapsed, outcomes.pending) == (3, 1, 1, 1)
    assert outcomes.contacted == 0 and outcomes.prevented_share == pytest.approx(0.5)


async def test_uncontacted_task_escalates_with_its_own_buttons(
    sessions: async_sessionmaker[AsyncSession], frozen: clock.FrozenClock
) -> None:
    ids = await _world(sessions)
    await _round(sessions)
    frozen.advance(timedelta(days=1, hours=8))  # Wed 18:00, past the Wed 17:00 deadline
    async with sessions() as session:
        moved = await escalate_due(session, now=clock.now(), deadlines=Deadlines())
        await session.commit()
        request = await _request_of(session, ids["policy:이영숙"])
        escalation = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.request_id == request.id, OutboxMessage.purpose == "escalation"
            )
        )
        told = await session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.request_id == request.id, OutboxMessage.chat_id == HOLDER_CHAT
            )
        )
    assert moved == 3 and request.employee_id == ids["deputy"]
    assert escalation is not None and escalation.chat_id == DEPUTY_CHAT
    assert "계약 유지 관리" in escalation.text and "업무시간 기준 16시간" in escalation.text
    assert escalation.reply_markup is not None
    assert (
        escalation.reply_markup["inline_keyboard"][0][1]["callback_data"]
        == f"ret:visit:{request.id}"
    )
    assert told is None, "the policyholder asked for nothing and is told nothing"
