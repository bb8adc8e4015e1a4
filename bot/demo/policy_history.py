"""Demo policy history: two years of premiums missed and paid, lapses, reinstatements,
surrenders and maturities for the demo's policies, and the programme's visits and calls.

Runs after :func:`bot.demo.seed.seed_demo` has written the organisation (``milchak seed
--demo`` calls both). Deterministic for a given ``today`` and seed.

**The effect of contact in this data is synthetic.** Every policy is simulated month by month;
once its holder has had a visit or call from their employee, the chance of missing a premium is
multiplied by ``REACHED_MISS_FACTOR``, a missed premium is more often paid within the grace
period, and surrender is rarer. Whatever the persistency page shows about contacted against not
contacted policies on demo data was put there by these numbers; only an insurer's real history
can say what the programme does. The base rates are set so that the company's 13회차 and
25회차 land near the industry's published levels (about 85 % and 70 %).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import SEOUL
from bot.db.models import Contact, Policy, PolicyEvent, PolicyEventKind, Policyholder
from bot.services.policy_history import (
    HistoryEvent,
    add_months,
    due_date,
    grace_until,
    installments_due,
    state_on,
)

HISTORY_SEED = 20260527
HISTORY_MONTHS = 24

# Monthly chances, by policy year (0 = first year): missing an installment, surrendering.
MISS_BY_YEAR = (0.024, 0.027, 0.009)
SURRENDER_BY_YEAR = (0.0035, 0.0055, 0.002)
CURE_CHANCE = 0.42  # a missed installment paid within the grace period
REINSTATE_CHANCE = 0.12  # a lapsed policy brought back within five months
# The synthetic effect of having been reached by the programme (see the module docstring).
REACHED_MISS_FACTOR = 0.75
REACHED_CURE_CHANCE = 0.6
REACHED_SURRENDER_FACTOR = 0.8
# Contacts per holder per month = CONTACT_RATE × the employee's diligence (uniform 0–1).
CONTACT_RATE = 0.15

VISIT_NOTES = (
    "댁 방문, 회사 소식지와 판촉물 전달",
    "방문 상담: 보장 내용 다시 설명드림",
    "방문: 이사 계획 있으셔서 트랜스팩 할인 안내",
    "현관에서 인사, 불편한 점 여쭘",
    "방문 상담: 자녀 결혼 준비 중, 그린그린 안내",
)
CALL_NOTES = (
    "안부 전화, 보험료 납입일 안내",
    "전화 상담: 약관대출 문의 답변",
    "안부 전화, 불편 사항 없으심",
    "전화: 주소 변경 여부 확인",
    "전화 상담: 국제-국민카드 안내",
)
# 김영환's visits to 이영숙, as the article tells them (days before today).
KIM_VISITS = (
    (24, "visit", "첫 방문. 문을 빼꼼히 열고 용건을 물으심. 판촉물만 전달"),
    (23, "visit", "일요일 낮 재방문. 현관 앞에서 애로사항을 들으러 왔다고 말씀드림"),
    (3, "visit", "댁에 들어가 남편 정씨와 맥주 한잔. 이달 30일 아버님 생신 저녁 초대받음"),
)


@dataclass(slots=True)
class HistorySummary:
    """What ``seed_policy_history`` wrote."""

    events: int
    contacts: int
    overdue: int  # policies with an unpaid installment still in its grace period today
    seconds: float


@dataclass(slots=True)
class _Policy:
    id: int
    holder_id: int
    contract: date
    status: str  # as the organisation seed drew it
    maturity: date | None


def _at(day: date, rng: random.Random) -> datetime:
    """A daytime moment on ``day`` in Seoul, as UTC."""
    local = datetime(
        day.year, day.month, day.day, rng.randint(9, 20), rng.randrange(60), tzinfo=SEOUL
    )
    return local.astimezone(UTC)


def _contacts(
    rng: random.Random,
    holders: list[tuple[int, int | None]],
    *,
    start: date,
    today: date,
) -> tuple[list[dict[str, Any]], dict[int, date]]:
    """The programme's visits and calls over the window; and each holder's first one."""
    diligence: dict[int, float] = {}
    rows: list[dict[str, Any]] = []
    first: dict[int, date] = {}
    span = (today - start).days
    for holder_id, employee_id in holders:
        if employee_id is None:
            continue
        rate = CONTACT_RATE * diligence.setdefault(employee_id, rng.random())
        if rate <= 0:
            continue
        offset = 0.0
        while True:
            offset += rng.expovariate(rate / 30.4375)
            if offset >= span:
                break
            day = start + timedelta(days=int(offset))
            channel = "visit" if rng.random() < 0.3 else "phone"
            note = rng.choice(VISIT_NOTES if channel == "visit" else CALL_NOTES)
            rows.append(_contact_row(holder_id, employee_id, channel, note, _at(day, rng)))
            first.setdefault(holder_id, day)
    return rows, first


def _contact_row(
    holder_id: int, employee_id: int, channel: str, note: str, at: datetime
) -> dict[str, Any]:
    return {
        "policyholder_id": holder_id,
        "employee_id": employee_id,
        "direction": "out",
        "channel": channel,
        "sender": "employee",
        "text": note,
        "created_at": at,
    }


def _year(months: int) -> int:
    return min(months // 12, len(MISS_BY_YEAR) - 1)


def _simulate(
    rng: random.Random, policy: _Policy, *, start: date, today: date, reached_on: date | None
) -> list[HistoryEvent]:
    """Month-by-month fate of a monthly policy from ``start`` (or its contract) to ``today``."""
    events = [HistoryEvent(PolicyEventKind.NORMAL, policy.contract, 1)]
    contract = policy.contract
    k = max(2, installments_due(contract, "monthly", start) + 1)
    while True:
        due = due_date(contract, "monthly", k)
        if due > today:
            return events
        reached = reached_on is not None and reached_on <= due
        year = _year(k - 1)
        surrender = SURRENDER_BY_YEAR[year] * (REACHED_SURRENDER_FACTOR if reached else 1.0)
        if rng.random() < surrender:
            day = due + timedelta(days=rng.randrange(28))
            if day <= today:
                events.append(HistoryEvent(PolicyEventKind.SURRENDERED, day, k - 1))
                return events
        miss = MISS_BY_YEAR[year] * (REACHED_MISS_FACTOR if reached else 1.0)
        if rng.random() >= miss:
            k += 1
            continue
        events.append(HistoryEvent(PolicyEventKind.UNPAID, due, k - 1))
        last_day = grace_until(due)
        if rng.random() < (REACHED_CURE_CHANCE if reached else CURE_CHANCE):
            paid_on = due + timedelta(days=rng.randint(3, (last_day - due).days))
            if paid_on > today:
                return events  # still unpaid today, within the grace period
            paid = installments_due(contract, "monthly", paid_on)
            events.append(HistoryEvent(PolicyEventKind.NORMAL, paid_on, paid))
            k = paid + 1
            continue
        lapsed_on = last_day + timedelta(days=1)
        if lapsed_on > today:
            return events
        events.append(HistoryEvent(PolicyEventKind.LAPSED, lapsed_on, k - 1))
        if rng.random() >= REINSTATE_CHANCE:
            return events
        back_on = lapsed_on + timedelta(days=rng.randint(20, 150))
        if back_on > today:
            return events
        paid = installments_due(contract, "monthly", back_on)
        events.append(HistoryEvent(PolicyEventKind.REINSTATED, back_on, paid))
        k = paid + 1


def _old_lapse(rng: random.Random, policy: _Policy, *, before: date) -> list[HistoryEvent]:
    """A policy the organisation seed drew as lapsed, contracted before the window: it lapsed
    before the window opened, after paying some installments."""
    contract = policy.contract
    events = [HistoryEvent(PolicyEventKind.NORMAL, contract, 1)]
    latest = installments_due(contract, "monthly", add_months(before, -3))
    if latest < 2:
        return events
    k = rng.randint(2, latest)
    due = due_date(contract, "monthly", k)
    events.append(HistoryEvent(PolicyEventKind.UNPAID, due, k - 1))
    events.append(HistoryEvent(PolicyEventKind.LAPSED, grace_until(due) + timedelta(days=1), k - 1))
    return events


def _history(
    rng: random.Random,
    policy: _Policy,
    *,
    start: date,
    today: date,
    reached_on: date | None,
    fixed: bool,
) -> list[HistoryEvent]:
    if fixed:
        return [HistoryEvent(PolicyEventKind.NORMAL, policy.contract, 1)]
    if policy.status == "matured" and policy.maturity is not None and policy.maturity <= today:
        months = (policy.maturity.year - policy.contract.year) * 12
        return [
            HistoryEvent(PolicyEventKind.NORMAL, policy.contract, 1),
            HistoryEvent(PolicyEventKind.MATURED, policy.maturity, months),
        ]
    if policy.status == "lapsed" and policy.contract < start:
        return _old_lapse(rng, policy, before=start)
    return _simulate(rng, policy, start=start, today=today, reached_on=reached_on)


async def seed_policy_history(
    session: AsyncSession,
    *,
    today: date,
    fixed_phones: frozenset[str] = frozenset(),
    seed: int = HISTORY_SEED,
) -> HistorySummary:
    """Write the demo's policy events and programme contacts; update the policies to match.

    ``fixed_phones`` are holders whose policies tests rely on (이영숙, 정민수): they keep a plain
    in-force history. The caller commits.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    start = add_months(today, -HISTORY_MONTHS)
    holders = (
        (
            await session.execute(
                select(Policyholder.id, Policyholder.employee_id, Policyholder.phone).order_by(
                    Policyholder.id
                )
            )
        )
        .tuples()
        .all()
    )
    fixed_ids = {hid for hid, _, phone in holders if phone in fixed_phones}
    contact_rows, first_contact = _contacts(
        rng,
        [(hid, eid) for hid, eid, _ in holders if hid not in fixed_ids],
        start=start,
        today=today,
    )
    contact_rows += _kim_visits(holders, fixed_ids, today=today, rng=rng)
    policies = [
        _Policy(pid, holder_id, contract, status, maturity)
        for pid, holder_id, contract, status, maturity in (
            await session.execute(
                select(
                    Policy.id,
                    Policy.policyholder_id,
                    Policy.contract_date,
                    Policy.status,
                    Policy.maturity_date,
                )
                .where(Policy.contract_date.is_not(None))
                .order_by(Policy.id)
            )
        ).tuples()
        if contract is not None
    ]
    event_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    overdue = 0
    for policy in policies:
        history = _history(
            rng,
            policy,
            start=start,
            today=today,
            reached_on=first_contact.get(policy.holder_id),
            fixed=policy.holder_id in fixed_ids,
        )
        event_rows += [
            {
                "policy_id": policy.id,
                "kind": str(e.kind),
                "occurred_on": e.occurred_on,
                "paid_through": e.paid_through,
                "note": "",
                "source": "seed",
            }
            for e in history
        ]
        state = state_on(contract=policy.contract, cycle="monthly", events=history, on=today)
        overdue += state.overdue_since is not None
        updates.append(
            {
                "b_id": policy.id,
                "b_status": state.status,
                "b_paid": state.paid_installments,
                "b_next_due": state.next_due_date,
                "b_active": state.status == "active",
            }
        )
    connection = await session.connection()
    for chunk in range(0, len(event_rows), 5000):
        await connection.execute(insert(PolicyEvent), event_rows[chunk : chunk + 5000])
    if contact_rows:
        await connection.execute(insert(Contact), contact_rows)
    table: Table = Policy.__table__  # type: ignore[assignment]
    await connection.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status"),
            paid_installments=bindparam("b_paid"),
            next_due_date=bindparam("b_next_due"),
        ),
        [{k: v for k, v in u.items() if k != "b_active"} for u in updates],
    )
    # A policy that lapsed or ended in the simulation no longer lends (약관대출 needs it in force).
    ended = [{"b_id": u["b_id"]} for u in updates if not u["b_active"]]
    if ended:
        await connection.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(loan_limit=0), ended
        )
    return HistorySummary(
        events=len(event_rows),
        contacts=len(contact_rows),
        overdue=overdue,
        seconds=time.perf_counter() - started,
    )


def _kim_visits(
    holders: Any, fixed_ids: set[int], *, today: date, rng: random.Random
) -> list[dict[str, Any]]:
    """김영환 기획부장's three visits to 이영숙 (the first fixed holder)."""
    first = next(((hid, eid) for hid, eid, _ in holders if hid in fixed_ids), None)
    if first is None or first[1] is None:
        return []
    holder_id, employee_id = first
    return [
        _contact_row(holder_id, employee_id, channel, note, _at(today - timedelta(days=days), rng))
        for days, channel, note in KIM_VISITS
    ]
