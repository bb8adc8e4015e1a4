"""Demo seed: the organisation's invariants, the fixed demo people, idempotency, contacts."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.db.models import (
    Contact,
    Department,
    Employee,
    Partner,
    Policy,
    Policyholder,
    Request,
    RequestEvent,
)
from bot.demo.seed import (
    CAPACITY,
    SeedError,
    build_demo_plan,
    seed_contacts,
    seed_demo,
)
from bot.geo.distance import distance_km
from bot.geo.geocode import geocode
from bot.services.assignment import assign_points

TODAY = date(2026, 11, 25)


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        summary = await seed_demo(session, today=TODAY)
        await session.commit()
    assert summary.created


async def _counts(session: AsyncSession) -> dict[str, int]:
    models = (Department, Employee, Policyholder, Policy, Partner)
    return {
        m.__name__: int(await session.scalar(select(func.count()).select_from(m)) or 0)
        for m in models
    }


async def test_demo_organisation(sessions: async_sessionmaker[AsyncSession]) -> None:
    steps: list[tuple[str, int, int]] = []
    async with sessions() as session:
        summary = await seed_demo(session, today=TODAY, progress=lambda *a: steps.append(a))
        await session.commit()
    assert summary.created and summary.policyholders == 6250 and summary.employees == 250
    assert steps[-1][1] == steps[-1][2] == 6250  # progress reached the end

    async with sessions() as session:
        counts = await _counts(session)
        employees = list(
            await session.scalars(select(Employee).options(selectinload(Employee.department)))
        )
        holders = list(await session.scalars(select(Policyholder)))
        policies = list(await session.scalars(select(Policy)))
        partners = {p.kind: p for p in await session.scalars(select(Partner))}

    assert counts == {
        "Department": 8,
        "Employee": 250,
        "Policyholder": 6250,
        "Policy": summary.policies,
        "Partner": 3,
    }
    _check_employees(employees)
    _check_holders_and_policies(holders, policies, employees)
    _check_matches_an_independent_plan(employees, holders, policies)
    assert partners["moving"].name == "트랜스팩" and "할인" in partners["moving"].discount
    assert partners["funeral"].name == "임종의 전화"
    assert partners["wedding"].name == "그린그린"

    # A second run changes nothing and says so.
    async with sessions() as session:
        again = await seed_demo(session, today=TODAY)
        await session.commit()
        assert not again.created
        assert await _counts(session) == counts


def _check_employees(employees: list[Employee]) -> None:
    by_id = {e.id: e for e in employees}
    heads = [e for e in employees if e.is_head]
    assert len(heads) == 8 and len({h.department_id for h in heads}) == 8
    assert all(h.title == f"{h.department.name}장" for h in heads)
    assert sorted(h.telegram_chat_id or 0 for h in heads) == list(range(900001, 900009))
    assert {e.title for e in employees if not e.is_head} == {"차장", "과장", "대리", "사원"}
    for e in employees:
        deputy = by_id[e.deputy_id] if e.deputy_id else None
        assert deputy is not None and deputy.id != e.id
        assert deputy.department_id == e.department_id
        if e.is_head:
            assert deputy.title == "차장"
        assert e.home_lat and e.home_lon and e.home_area.split()[0] in {"인천", "서울", "경기"}
        assert e.phone and len(e.phone) == 11
    kim = next(e for e in employees if e.telegram_chat_id == 900001)
    assert (kim.name, kim.title, kim.display_name) == ("김영환", "기획부장", "김영환 기획부장")
    assert kim.is_head and kim.department.name == "기획부" and kim.employee_no == "E0001"
    kim_deputy = by_id[kim.deputy_id or 0]
    assert kim_deputy.title == "차장" and kim_deputy.telegram_chat_id == 900101
    linked = {e.telegram_chat_id for e in employees if e.telegram_chat_id is not None}
    assert linked == {*range(900001, 900009), 900101}


def _check_holders_and_policies(
    holders: list[Policyholder], policies: list[Policy], employees: list[Employee]
) -> None:
    by_employee = Counter(h.employee_id for h in holders)
    assert set(by_employee.values()) == {CAPACITY} and len(by_employee) == 250
    assert len({h.phone for h in holders}) == 6250
    assert all(h.phone.startswith("010") and len(h.phone) == 11 for h in holders)

    per_holder = Counter(p.policyholder_id for p in policies)
    assert set(per_holder.values()) <= {1, 2, 3} and len(per_holder) == 6250
    assert len({p.number for p in policies}) == len(policies)
    statuses = Counter(p.status for p in policies)
    assert statuses["active"] > len(policies) / 2 and statuses["lapsed"] and statuses["matured"]
    for p in policies:
        assert p.loan_limit % 10_000 == 0 and p.loan_limit <= p.surrender_value
        assert p.deposit_account_masked and "***" in p.deposit_account_masked
        assert sum(ch.isdigit() for ch in p.deposit_account_masked) == 4  # only the last four
        assert p.coverage_summary
        if p.status == "active":
            assert p.next_due_date and p.next_due_date > TODAY

    kim = next(e for e in employees if e.telegram_chat_id == 900001)
    lee = next(h for h in holders if h.phone == "01055123087")
    assert (lee.name, lee.birth_date, lee.area) == ("이영숙", date(1962, 4, 17), "인천 남동구")
    assert lee.address.startswith("인천 남동구 만수동 주공아파트")
    assert lee.employee_id == kim.id
    # Both live in 만수동: the geocoded 동 centre, the same for both.
    assert lee.geocode_level == "dong" and (lee.lat, lee.lon) == (kim.home_lat, kim.home_lon)
    lee_policies = {p.number: p for p in policies if p.policyholder_id == lee.id}
    assert set(lee_policies) == {"KL-1994-000123", "KL-1996-004521"}
    cancer = lee_policies["KL-1994-000123"]
    assert (cancer.product, cancer.status, cancer.loan_limit) == (
        "무배당암보험",
        "active",
        8_000_000,
    )
    assert cancer.deposit_account_masked == "농협 ***-****-**3021"
    assert lee_policies["KL-1996-004521"].loan_limit < 8_000_000

    jung = next(h for h in holders if h.phone == "01022334455")
    assert (jung.name, jung.birth_date, jung.employee_id) == ("정민수", date(1975, 9, 3), kim.id)
    assert [p.number for p in policies if p.policyholder_id == jung.id] == ["KL-2003-010877"]
    assert sum(h.name == "이영숙" for h in holders) == 1

    # Nearest assignment: far closer than a random assignment with the same loads.
    home = {e.id: (e.home_lat or 0.0, e.home_lon or 0.0) for e in employees}
    assigned = [
        distance_km((h.lat or 0.0, h.lon or 0.0), home[h.employee_id or 0]) for h in holders
    ]
    shuffled = [h.employee_id or 0 for h in holders]
    random.Random(7).shuffle(shuffled)
    randomly = [
        distance_km((h.lat or 0.0, h.lon or 0.0), home[e])
        for h, e in zip(holders, shuffled, strict=True)
    ]
    assert statistics.mean(assigned) < statistics.mean(randomly) / 4
    assert statistics.median(assigned) < 2.0


def _check_matches_an_independent_plan(
    employees: list[Employee], holders: list[Policyholder], policies: list[Policy]
) -> None:
    """Deterministic: a fresh plan for the same day is exactly what was written."""
    plan = build_demo_plan(today=TODAY)
    by_no = {e.employee_no: e for e in employees}
    assert [(e["name"], e["title"]) for e in plan.employees] == [
        (by_no[e["employee_no"]].name, by_no[e["employee_no"]].title) for e in plan.employees
    ]
    stored = {h.phone: (h.name, h.birth_date, h.address) for h in holders}
    planned = {h["phone"]: (h["name"], h["birth_date"], h["address"]) for h in plan.holders}
    assert stored == planned
    assert sorted(p.number for p in policies) == sorted(
        p["number"] for plist in plan.policies for p in plist
    )


async def test_seed_refuses_a_database_with_other_organisation_data(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        session.add(Department(name="감사부"))
        await session.commit()

    async with sessions() as session:
        with pytest.raises(SeedError, match="이미 다른 조직 데이터"):
            await seed_demo(session, today=TODAY)


def test_demo_homes_come_from_their_addresses_and_the_optimal_assignment() -> None:
    """The demo places homes with the importer's geocoder and assigns with milchak assign's
    solver: the seed's assignment is the optimum for its own homes."""
    plan = build_demo_plan(today=TODAY)
    levels = Counter(h["geocode_level"] for h in plan.holders)
    assert levels["dong"] > 0.9 * len(plan.holders) and set(levels) <= {"dong", "sigungu"}
    for h in plan.holders[:200]:
        place = geocode(h["address"])
        assert place is not None and str(place.level) == h["geocode_level"]
        # Within about a kilometre of the 동 centre: the building's place in the 동.
        assert distance_km((h["lat"], h["lon"]), (place.lat, place.lon)) < 1.5
    assert all(e["home_address"] and e["level"] for e in plan.employees)

    fixed = 2  # 이영숙 and 정민수 are 김영환's whatever the distance
    capacity = [CAPACITY] * len(plan.employees)
    capacity[0] -= fixed
    people = [(h["lat"], h["lon"]) for h in plan.holders[fixed:]]
    sites = [(e["lat"], e["lon"]) for e in plan.employees]
    _, distances = assign_points(people, sites, capacity=capacity)
    planned = [
        distance_km(p, sites[s]) * 1000
        for p, s in zip(people, plan.holder_employee[fixed:], strict=True)
    ]
    assert abs(sum(planned) - sum(distances)) < len(people)  # whole-metre rounding only


async def test_contacts_are_linked_spread_and_varied(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(sessions)
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)

    async with sessions() as session:
        summary = await seed_contacts(session, count=3000, now=now, batch_size=700)
        await session.commit()

    assert summary.contacts == 3000 and summary.requests > 0
    async with sessions() as session:
        contacts = list(await session.scalars(select(Contact)))
        requests = {r.id: r for r in await session.scalars(select(Request))}
        pairs = await session.execute(select(Policyholder.id, Policyholder.employee_id))
        owner = {holder_id: employee_id for holder_id, employee_id in pairs}
        events = await session.scalar(select(func.count()).select_from(RequestEvent))
    assert len(contacts) == 3000 and len(requests) == summary.requests
    assert events and events >= len(requests)
    assert {c.direction for c in contacts} == {"in", "out"}
    assert {c.sender for c in contacts} == {"policyholder", "bot", "employee"}
    inbound = [c for c in contacts if c.direction == "in"]
    assert all(c.intent and c.confidence is not None for c in inbound)
    assert len({c.intent for c in inbound}) >= 15
    assert any((c.confidence or 1) < 0.5 for c in inbound)
    assert all(c.employee_id == owner[c.policyholder_id or 0] for c in contacts)
    for c in contacts:
        created = c.created_at if c.created_at.tzinfo else c.created_at.replace(tzinfo=UTC)
        assert now - timedelta(days=91) <= created <= now + timedelta(days=3)
    linked = [c for c in contacts if c.request_id is not None]
    assert linked and all(
        requests[c.request_id or 0].policyholder_id == c.policyholder_id for c in linked
    )
    references = [r.reference for r in requests.values()]
    assert all(
        ref.startswith("R-2026") and len(ref) == len("R-20261125-0007") for ref in references
    )
    assert any(r.kind == "funeral" and r.urgent for r in requests.values()) or not any(
        r.kind == "funeral" for r in requests.values()
    )

    # A second batch continues without clashing references.
    async with sessions() as session:
        more = await seed_contacts(session, count=500, now=now)
        await session.commit()
        total = await session.scalar(select(func.count()).select_from(Request))
    assert total == summary.requests + more.requests


async def test_contacts_need_policyholders(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        with pytest.raises(SeedError, match="seed --demo"):
            await seed_contacts(session, count=10)
