"""계약유지율 definitions on a hand-made book of policies, figures worked out by hand.

As of 2026-11-15 the last complete month is 2026-10, so (see ``bot.services.persistency``):

* 13회차 uses the contract months 2024-10 … 2025-09, each observed at the end of month c + 13;
* 25회차 uses the contract months 2023-10 … 2024-09, each observed at the end of month c + 25.

Monthly policies unless stated; APE = premium × 12 (annual: × 1).

13회차 cohort — 부서 가 (employee 박), 부서 나 (employee 최)::

  A 박 2025-03-10  100,000  no event after the contract            → kept      APE 1,200,000
  B 박 2025-03-20   50,000  미납 2025-08-20 (5 paid), 실효 2025-10-01 → exit     APE   600,000
  C 최 2025-04-05  200,000  미납, 실효 2025-09-01, 부활 2025-12-10   → kept      APE 2,400,000
                            (observed 2026-05-31: the reinstatement came first)
  D 최 2025-05-01   30,000  미납 2026-05-01 with 12 paid (the 13th missed), 실효 2026-07-01
                            observed 2026-06-30 → 미납 with 12 < 13 paid → not kept  APE 360,000
  E 최 2025-06-15  1,200,000 annual: 미납 2026-06-15 (1 paid), 정상 2026-07-20 (2 paid)
                            observed 2026-07-31 → 정상 → kept                 APE 1,200,000
  F 최 2025-02-01   40,000  미납 2026-03-01 with 13 paid (the 14th missed)
                            observed 2026-03-31 → months 1–13 are paid → kept APE   480,000
  J 최 2025-10-05           contract month 2025-10 is not observable yet → not in the cohort

  company  kept A C E F = 4 of 6 → 66.67 %;  APE 5,280,000 / 6,240,000 = 84.615 %
  박       kept A = 1 of 2;  APE 1,200,000 / 1,800,000 = 66.67 %
  최       kept C E F = 3 of 4;  APE 4,080,000 / 4,440,000 = 91.892 %

25회차 cohort::

  G 박 2024-08-01  100,000  해지 2025-06-10 (10 paid)                 → exit  APE 1,200,000
  H 최 2023-12-01   60,000  미납 2024-04-01, 실효 2024-06-01, 부활 2026-02-01
                            observed 2026-01-31: still 실효 (reinstated after) → exit APE 720,000
  I 최 2024-01-15   80,000  (암보험) no events                       → kept  APE   960,000

  company  1 of 3;  APE 960,000 / 2,880,000 = 33.33 %
  박 0 of 1;  최 1 of 2, APE 960,000 / 1,680,000 = 57.14 %
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Department, Employee, Policy, PolicyEvent, Policyholder
from bot.services.persistency import (
    Rate,
    Window,
    company_rates,
    persistency_report,
    report_csv_rows,
)
from bot.services.policy_history import (
    HistoryEvent,
    add_months,
    annualized_premium,
    due_date,
    grace_until,
    installments_due,
    state_on,
)

AS_OF = date(2026, 11, 15)

# number, employee, contract, cycle, premium, product, events (kind, day, paid_through)
BOOK: list[tuple[str, str, date, str, int, str, list[tuple[str, date, int | None]]]] = [
    ("A", "박", date(2025, 3, 10), "monthly", 100_000, "종신보험", []),
    ("B", "박", date(2025, 3, 20), "monthly", 50_000, "종신보험",
     [("unpaid", date(2025, 8, 20), 5), ("lapsed", date(2025, 10, 1), 5)]),
    ("C", "최", date(2025, 4, 5), "monthly", 200_000, "종신보험",
     [("unpaid", date(2025, 7, 5), 3), ("lapsed", date(2025, 9, 1), 3),
      ("reinstated", date(2025, 12, 10), 9)]),
    ("D", "최", date(2025, 5, 1), "monthly", 30_000, "종신보험",
     [("unpaid", date(2026, 5, 1), 12), ("lapsed", date(2026, 7, 1), 12)]),
    ("E", "최", date(2025, 6, 15), "annual", 1_200_000, "종신보험",
     [("unpaid", date(2026, 6, 15), 1), ("normal", date(2026, 7, 20), 2)]),
    ("F", "최", date(2025, 2, 1), "monthly", 40_000, "종신보험",
     [("unpaid", date(2026, 3, 1), 13)]),
    ("J", "최", date(2025, 10, 5), "monthly", 70_000, "종신보험", []),
    ("G", "박", date(2024, 8, 1), "monthly", 100_000, "종신보험",
     [("surrendered", date(2025, 6, 10), 10)]),
    ("H", "최", date(2023, 12, 1), "monthly", 60_000, "종신보험",
     [("unpaid", date(2024, 4, 1), 4), ("lapsed", date(2024, 6, 1), 4),
      ("reinstated", date(2026, 2, 1), 26)]),
    ("I", "최", date(2024, 1, 15), "monthly", 80_000, "암보험", []),
]  # fmt: skip


async def _build(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as s:
        ga, na = Department(name="가부"), Department(name="나부")
        s.add_all([ga, na])
        await s.flush()
        park = Employee(name="박", title="대리", department_id=ga.id, home_area="인천")
        choi = Employee(name="최", title="과장", department_id=na.id, home_area="인천")
        s.add_all([park, choi])
        await s.flush()
        holders = {}
        for i, emp in enumerate((park, choi)):
            holder = Policyholder(
                name=f"계약자{i}", phone=f"0101234000{i}", birth_date=date(1970, 1, 1),
                address="인천", area="인천", employee_id=emp.id,
            )  # fmt: skip
            s.add(holder)
            await s.flush()
            holders[emp.name] = holder.id
        for number, owner, contract, cycle, premium, product, events in BOOK:
            policy = Policy(
                number=number, policyholder_id=holders[owner], product=product, premium=premium,
                contract_date=contract, payment_cycle=cycle, status="active",
            )  # fmt: skip
            s.add(policy)
            await s.flush()
            s.add(PolicyEvent(policy_id=policy.id, kind="normal", occurred_on=contract,
                              paid_through=1, source="import"))  # fmt: skip
            for kind, day, paid in events:
                s.add(PolicyEvent(policy_id=policy.id, kind=kind, occurred_on=day,
                                  paid_through=paid, source="import"))  # fmt: skip
        await s.commit()
        return {"가부": ga.id, "나부": na.id}


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval, written out: (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def _check(rate: Rate, kept: int, total: int, kept_ape: float, ape: float) -> None:
    assert (rate.retained, rate.policies) == (kept, total)
    assert rate.ape == pytest.approx(ape) and rate.retained_ape == pytest.approx(kept_ape)


async def test_company_department_and_employee_figures(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    departments = await _build(sessions)
    async with sessions() as session:
        report = await persistency_report(session, as_of=AS_OF)
        fast = await company_rates(session, window=Window(AS_OF))
    company = report.company.rates
    _check(company[13], 4, 6, 5_280_000, 6_240_000)
    assert company[13].by_count == pytest.approx(4 / 6)
    assert company[13].by_ape == pytest.approx(0.846154, abs=1e-6)
    _check(company[25], 1, 3, 960_000, 2_880_000)
    for n in (13, 25):  # the company-only path agrees with the per-employee one
        _check(fast[n], company[n].retained, company[n].policies,
               company[n].retained_ape, company[n].ape)  # fmt: skip

    by_name = {d.figures.label: d for d in report.departments}
    park = by_name["가부"].employees[0]
    choi = by_name["나부"].employees[0]
    assert park.label == "박 대리" and choi.label == "최 과장"
    _check(park.rates[13], 1, 2, 1_200_000, 1_800_000)
    _check(park.rates[25], 0, 1, 0, 1_200_000)
    _check(choi.rates[13], 3, 4, 4_080_000, 4_440_000)
    assert choi.rates[13].by_ape == pytest.approx(0.918919, abs=1e-6)
    _check(choi.rates[25], 1, 2, 960_000, 1_680_000)
    _check(by_name["나부"].figures.rates[13], 3, 4, 4_080_000, 4_440_000)

    # Small groups carry their interval: Wilson, as written out above.
    low, high = choi.rates[13].interval or (0, 0)
    assert (low, high) == pytest.approx(_wilson(3, 4), abs=1e-9)
    assert low < 0.75 < high and Rate().interval is None

    # One department only (as a head sees it): the same numbers, nobody else's.
    async with sessions() as session:
        scoped = await persistency_report(session, as_of=AS_OF, department_id=departments["나부"])
    assert [d.figures.label for d in scoped.departments] == ["나부"]
    _check(scoped.company.rates[13], 3, 4, 4_080_000, 4_440_000)

    rows = report_csv_rows(report)
    assert rows[1][:5] == ["회사", "회사 전체", "", "6", "4"]
    assert [r[:3] for r in report_csv_rows(scoped)[1:]] == [
        ["부서", "나부", ""],
        ["직원", "나부", "최 과장"],
    ]


async def test_filters_and_windows(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Contract month 2025-03 alone: A kept, B lapsed → 1 of 2 at 13회차; its 25회차 is
    observed only at the end of 2027-04, so there is none yet. Product 암보험: only I."""
    await _build(sessions)
    async with sessions() as session:
        march = await persistency_report(session, as_of=AS_OF, cohort_month=date(2025, 3, 1))
        cancer = await persistency_report(session, as_of=AS_OF, product="암보험")
        # A month later the window moves on: 13회차 takes 2024-11 … 2025-10, so J joins.
        later = await company_rates(session, window=Window(date(2026, 12, 1)))
    _check(march.company.rates[13], 1, 2, 1_200_000, 1_800_000)
    assert march.company.rates[25].policies == 0
    assert cancer.company.rates[13].policies == 0
    _check(cancer.company.rates[25], 1, 1, 960_000, 960_000)
    assert later[13].policies == 7 and later[13].retained == 5


def test_window_cohorts() -> None:
    window = Window(AS_OF)
    months13 = window.cohorts(13)
    assert len(months13) == 12
    assert window.contract_span(13) == (date(2024, 10, 1), date(2025, 9, 30))
    assert window.contract_span(25) == (date(2023, 10, 1), date(2024, 9, 30))
    assert window.observed(months13[-1], 13) == date(2026, 10, 31)
    assert Window(AS_OF, date(2026, 1, 1)).cohorts(13) == []


def test_calendar() -> None:
    """Installment k is due k−1 months after the contract, on its day or the month's last."""
    assert due_date(date(2025, 1, 31), "monthly", 2) == date(2025, 2, 28)
    assert due_date(date(2025, 1, 31), "quarterly", 3) == date(2025, 7, 31)
    assert installments_due(date(2025, 1, 31), "monthly", date(2025, 2, 27)) == 1
    assert installments_due(date(2025, 1, 31), "monthly", date(2025, 2, 28)) == 2
    assert installments_due(date(2025, 1, 10), "annual", date(2026, 1, 10)) == 2
    assert installments_due(date(2025, 1, 10), "single", date(2030, 1, 1)) == 1
    assert grace_until(date(2026, 10, 25)) == date(2026, 11, 30)
    assert grace_until(date(2026, 12, 5)) == date(2027, 1, 31)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert annualized_premium(50_000, "monthly") == 600_000
    assert annualized_premium(300_000, "quarterly") == 1_200_000
    assert annualized_premium(10_000_000, "single") == 1_000_000


def test_state_through_a_lapse_and_a_reinstatement() -> None:
    """Policy C above: 정상 → 미납 (3 paid) → 실효 → 부활 (9 paid) → current again."""
    contract = date(2025, 4, 5)
    events = [
        HistoryEvent("normal", contract, 1),
        HistoryEvent("unpaid", date(2025, 7, 5), 3),
        HistoryEvent("lapsed", date(2025, 9, 1), 3),
        HistoryEvent("reinstated", date(2025, 12, 10), 9),
    ]

    def state(day: date) -> tuple[str, int, date | None, date | None]:
        s = state_on(contract=contract, cycle="monthly", events=events, on=day)
        return s.status, s.paid_installments, s.next_due_date, s.overdue_since

    assert state(date(2025, 6, 1)) == ("active", 2, date(2025, 6, 5), None)
    assert state(date(2025, 8, 1)) == ("active", 3, date(2025, 7, 5), date(2025, 7, 5))
    assert state(date(2025, 10, 1)) == ("lapsed", 3, None, None)
    # Reinstated with 9 paid; by 2026-01-05 the 10th has fallen due and is paid too.
    assert state(date(2026, 1, 5)) == ("active", 10, date(2026, 2, 5), None)


async def test_weekly_digest_gives_the_head_the_department_figures(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Week 2026-W46 ends on Sunday 2026-11-15: figures as of Monday 2026-11-16 use the same
    cohorts as above (나부: 13회차 3 of 4, APE 91.9 %; 25회차 1 of 2, 57.1 %). A month earlier
    the windows hold the same policies, so the change is +0.0%p."""
    from sqlalchemy import select, update

    from bot.db.models import OutboxMessage
    from bot.services.reports import Week
    from bot.services.weekly_digest import queue_weekly_digests

    departments = await _build(sessions)
    async with sessions() as session:
        await session.execute(
            update(Employee).where(Employee.name == "최").values(is_head=True, telegram_chat_id=555)
        )
        await session.commit()
        await queue_weekly_digests(
            session, week=Week.parse("2026-W46"), department_id=departments["나부"]
        )
        await session.commit()
        text = await session.scalar(select(OutboxMessage.text).where(OutboxMessage.chat_id == 555))
    assert text is not None
    assert "■ 계약유지율 (최근 12개월 코호트, 보험료 기준)" in text
    assert "· 13회차 91.9% (건수 3/4) · 지난달 대비 +0.0%p" in text
    assert "· 25회차 57.1% (건수 1/2) · 지난달 대비 +0.0%p" in text
