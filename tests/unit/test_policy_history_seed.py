"""The demo's policy history: deterministic, consistent with the policies, near the industry's
persistency, with unpaid premiums in grace for the retention job, and a contact effect that the
Cox model finds (it was put there: the demo's effect is synthetic)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Contact, Policy, PolicyEvent, Policyholder
from bot.demo.policy_history import seed_policy_history
from bot.demo.seed import FIXED_HOLDERS, LEE_YOUNGSOOK, seed_demo
from bot.services.persistency import Window, company_rates
from bot.services.policy_history import HistoryEvent, state_on
from bot.services.retention import overdue_in_grace
from bot.services.survival import analyse, load_lives

TODAY = date(2026, 11, 25)


async def test_demo_history(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await seed_demo(session, today=TODAY)
        summary = await seed_policy_history(
            session, today=TODAY, fixed_phones=frozenset(h.phone for h in FIXED_HOLDERS)
        )
        await session.commit()
    assert summary.events > 10_000 and summary.contacts > 5_000 and summary.overdue > 10

    async with sessions() as session:
        events = (
            await session.execute(
                select(PolicyEvent.policy_id, PolicyEvent.kind, PolicyEvent.occurred_on,
                       PolicyEvent.paid_through).order_by(PolicyEvent.occurred_on, PolicyEvent.id)
            )
        ).tuples().all()  # fmt: skip
        policies = {p.id: p for p in await session.scalars(select(Policy))}
        kinds = Counter(kind for _, kind, _, _ in events)
        # Every policy agrees with its history.
        history: dict[int, list[HistoryEvent]] = {}
        for pid, kind, day, paid in events:
            history.setdefault(pid, []).append(HistoryEvent(kind, day, paid))
        for pid, policy in policies.items():
            assert policy.contract_date is not None
            state = state_on(contract=policy.contract_date, cycle="monthly",
                             events=history[pid], on=TODAY)  # fmt: skip
            assert (policy.status, policy.paid_installments, policy.next_due_date) == (
                state.status, state.paid_installments, state.next_due_date,
            )  # fmt: skip
            assert all(e.occurred_on <= TODAY for e in history[pid])
            if policy.status != "active":
                assert policy.loan_limit == 0
        # The fixed holders keep a plain in-force history; 김영환 visited 이영숙 three times.
        lee = await session.scalar(
            select(Policyholder).where(Policyholder.phone == LEE_YOUNGSOOK.phone)
        )
        assert lee is not None
        lee_policies = [p for p in policies.values() if p.policyholder_id == lee.id]
        assert {p.status for p in lee_policies} == {"active"}
        assert all(len(history[p.id]) == 1 for p in lee_policies)
        visits = list(
            await session.scalars(select(Contact.text).where(Contact.policyholder_id == lee.id))
        )
        assert len(visits) == 3 and any("생신" in v for v in visits)
        reached = await session.scalar(
            select(func.count(func.distinct(Contact.policyholder_id))).where(
                Contact.sender == "employee"
            )
        )
        overdue = await overdue_in_grace(session, today=TODAY)
        rates = await company_rates(session, window=Window(TODAY))
        lives = await load_lives(session, as_of=TODAY)
    assert {"normal", "unpaid", "lapsed", "reinstated", "surrendered", "matured"} <= set(kinds)
    assert len(overdue) == summary.overdue
    assert reached is not None and 2_000 < reached < 5_500  # some holders are never reached
    # Near the industry's published levels (13회차 ≈ 85–88 %, 25회차 ≈ 61–69 %).
    assert 0.78 < (rates[13].by_count or 0) < 0.93
    assert 0.60 < (rates[25].by_count or 0) < 0.85
    assert rates[13].policies > 500 and rates[25].policies > 500
    report = analyse(lives, as_of=TODAY)
    assert report.cox is not None and report.landmark is not None
    # The simulated effect (about 0.55 on lapses, 0.8 on surrenders) is recovered.
    assert 0.45 < report.cox.hazard_ratio < 0.85 and report.cox.upper < 1


async def test_same_seed_same_history(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await seed_demo(session, today=TODAY)
        first = await seed_policy_history(session, today=TODAY)
        rows = (
            await session.execute(
                select(PolicyEvent.policy_id, PolicyEvent.kind, PolicyEvent.occurred_on)
                .order_by(PolicyEvent.id)
            )
        ).tuples().all()  # fmt: skip
        await session.rollback()
    async with sessions() as session:
        await seed_demo(session, today=TODAY)
        second = await seed_policy_history(session, today=TODAY)
        again = (
            await session.execute(
                select(PolicyEvent.policy_id, PolicyEvent.kind, PolicyEvent.occurred_on)
                .order_by(PolicyEvent.id)
            )
        ).tuples().all()  # fmt: skip
    assert (first.events, first.contacts, first.overdue) == (
        second.events, second.contacts, second.overdue,
    )  # fmt: skip
    assert [(k, d) for _, k, d in rows] == [(k, d) for _, k, d in again]
