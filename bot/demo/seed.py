"""Demo data: the 국제생명 organisation of the article, and bulk contact-ledger rows.

``seed_demo`` builds 8 departments, 250 employees and 6,250 policyholders, each employee
looking after the 25 policyholders living nearest to them, plus the partners. It is
deterministic (seeded RNG, dates relative to ``today``) and idempotent. ``seed_contacts``
fills the ledger with realistic conversations for load tests and reports.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.db.models import (
    Contact,
    ContactChannel,
    ContactSender,
    Department,
    Employee,
    Partner,
    Policy,
    Policyholder,
    Request,
    RequestAction,
    RequestEvent,
    RequestStatus,
)
from bot.demo import contacts as texts
from bot.demo.names import (
    APARTMENTS,
    AREAS,
    BANKS,
    FEMALE_GIVEN_NAMES,
    MALE_GIVEN_NAMES,
    PRODUCTS,
    SURNAMES,
    VILLAS,
    Area,
    Product,
)
from bot.geo.geocode import Place, geocode
from bot.services.assignment import assign_points
from bot.services.masking import mask_account
from bot.services.phones import normalize_phone

Progress = Callable[[str, int, int], None]
"""Progress callback: ``(step, done, total)``; ``step`` is Korean, for the person waiting."""

RNG_SEED = 19940517
CAPACITY = 25  # policyholders per employee, as in the article

# Department name and head count; the sizes add up to the article's ~250 head-office staff.
DEPARTMENTS: tuple[tuple[str, int], ...] = (
    ("기획부", 28),
    ("총무부", 30),
    ("인사부", 24),
    ("영업지원부", 40),
    ("계약보전부", 38),
    ("보험금지급부", 36),
    ("전산부", 30),
    ("재무부", 24),
)
# Ranks below the head, with how many of each a department has (the rest are 사원).
RANKS: tuple[tuple[str, float], ...] = (("차장", 0.08), ("과장", 0.17), ("대리", 0.25))
HEAD_CHAT_ID_BASE = 900_000  # heads get 900001.. in department order
KIM_DEPUTY_CHAT_ID = 900_101

PARTNERS: tuple[dict[str, str], ...] = (
    {"kind": "moving", "name": "트랜스팩", "phone": "1588-2424", "discount": "이사 비용 10% 할인"},
    {
        "kind": "funeral",
        "name": "임종의 전화",
        "phone": "1577-4949",
        "discount": "장례 용품·장례식장 비용 15% 할인",
    },
    {
        "kind": "wedding",
        "name": "그린그린",
        "phone": "02-555-0909",
        "discount": "예식 비용 10% 할인",
    },
)


@dataclass(frozen=True, slots=True)
class FixedPolicy:
    """A demo policy whose every field tests can rely on."""

    number: str
    product: str
    premium: int
    start: date
    maturity: date
    surrender_value: int
    loan_limit: int
    loan_rate: Decimal
    coverage_summary: str


@dataclass(frozen=True, slots=True)
class FixedHolder:
    """A demo policyholder whose every field tests can rely on; always 김영환's."""

    name: str
    phone: str  # digits
    birth_date: date
    address: str
    area: str
    deposit_account_masked: str
    policies: tuple[FixedPolicy, ...]


KIM_YOUNGHWAN: dict[str, Any] = {
    "employee_no": "E0001",
    "name": "김영환",
    "title": "기획부장",
    "department": "기획부",
    "home_area": "인천 남동구",
    "home_address": "인천 남동구 만수동 한신아파트 103동 1104호",
    "phone": "01036271994",
    "telegram_chat_id": 900_001,
}

LEE_YOUNGSOOK = FixedHolder(
    name="이영숙",
    phone=normalize_phone("010-5512-3087"),
    birth_date=date(1962, 4, 17),
    address="인천 남동구 만수동 주공아파트 107동 502호",
    area="인천 남동구",
    deposit_account_masked="농협 ***-****-**3021",
    policies=(
        FixedPolicy(
            number="KL-1994-000123",
            product="무배당암보험",
            premium=42_000,
            start=date(1994, 6, 10),
            maturity=date(2034, 6, 10),
            surrender_value=10_150_000,
            loan_limit=8_000_000,
            loan_rate=Decimal("7.50"),
            coverage_summary=(
                "암 진단 시 최대 3,000만원, 암 수술비 1회 300만원, 암 입원 1일당 5만원"
            ),
        ),
        FixedPolicy(
            number="KL-1996-004521",
            product="무배당종신보험",
            premium=98_000,
            start=date(1996, 3, 25),
            maturity=date(2062, 3, 25),
            surrender_value=4_380_000,
            loan_limit=3_000_000,
            loan_rate=Decimal("8.25"),
            coverage_summary="사망 시 1억원, 재해 사망 시 2억원 보장",
        ),
    ),
)

JUNG_MINSU = FixedHolder(
    name="정민수",
    phone=normalize_phone("010-2233-4455"),
    birth_date=date(1975, 9, 3),
    address="인천 남동구 만수동 1012-3 그린빌라 201호",
    area="인천 남동구",
    deposit_account_masked="국민 ******-**-**7719",
    policies=(
        FixedPolicy(
            number="KL-2003-010877",
            product="건강보험",
            premium=54_000,
            start=date(2003, 11, 5),
            maturity=date(2033, 11, 5),
            surrender_value=3_640_000,
            loan_limit=2_500_000,
            loan_rate=Decimal("7.00"),
            coverage_summary=(
                "3대 질병(암·뇌졸중·급성심근경색) 진단금 2,000만원, 수술비 최대 500만원"
            ),
        ),
    ),
)

FIXED_HOLDERS: tuple[FixedHolder, ...] = (LEE_YOUNGSOOK, JUNG_MINSU)
RESERVED_NAMES = frozenset({"김영환", "이영숙", "정민수"})

EMPLOYEE_COUNT = sum(size for _, size in DEPARTMENTS)
POLICYHOLDER_COUNT = EMPLOYEE_COUNT * CAPACITY


class SeedError(Exception):
    """The demo cannot be seeded here; the message is Korean, for the operator."""


@dataclass(slots=True)
class SeedSummary:
    """What ``seed_demo`` did."""

    created: bool
    departments: int = 0
    employees: int = 0
    policyholders: int = 0
    policies: int = 0
    partners: int = 0
    seconds: float = 0.0


# --- places ---------------------------------------------------------------------------------


def _place(address: str) -> Place:
    """Where a demo address is: the same offline geocoder real imports use."""
    place = geocode(address)
    if place is None:  # every demo area is a real 시군구; this is a bug in demo_names
        raise SeedError(f"데모 주소의 위치를 찾을 수 없습니다: {address}")
    return place


def _located(address: str, offset: tuple[float, float] = (0.0, 0.0)) -> dict[str, Any]:
    """Coordinates of a demo home: its 동 centre moved by ``offset`` (where the building stands),
    and the level the address matched."""
    place = _place(address)
    return {
        "lat": round(place.lat + offset[0], 6),
        "lon": round(place.lon + offset[1], 6),
        "level": str(place.level),
    }


# --- the plan: plain rows built in memory --------------------------------------------------


@dataclass(slots=True)
class DemoPlan:
    """Every demo row before it is written; ``employee`` and ``deputy`` fields are indexes."""

    employees: list[dict[str, Any]] = field(default_factory=list)
    deputies: list[int] = field(default_factory=list)
    holders: list[dict[str, Any]] = field(default_factory=list)
    holder_employee: list[int] = field(default_factory=list)
    policies: list[list[dict[str, Any]]] = field(default_factory=list)  # per holder


class _Names:
    """Draws Korean names, unique phones and locations from one RNG."""

    def __init__(
        self, rng: random.Random, reserved_phones: set[str], *, home_rng: random.Random
    ) -> None:
        self.rng = rng
        # Employees' home addresses come from a stream of their own, so adding them left every
        # other draw (names, deputies, phones) as it was.
        self.home_rng = home_rng
        self.phones = set(reserved_phones)
        self._surnames = [s for s, _ in SURNAMES]
        self._surname_weights = [w for _, w in SURNAMES]
        self._area_weights = [a.weight for a in AREAS]

    def name(self, *, female: bool) -> str:
        pool = FEMALE_GIVEN_NAMES if female else MALE_GIVEN_NAMES
        while True:
            surname = self.rng.choices(self._surnames, self._surname_weights)[0]
            full = surname + self.rng.choice(pool)
            if full not in RESERVED_NAMES:
                return full

    def phone(self) -> str:
        while True:
            digits = f"010{self.rng.randrange(2000, 10000):04d}{self.rng.randrange(10000):04d}"
            if digits not in self.phones:
                self.phones.add(digits)
                return digits

    def area(self) -> Area:
        return self.rng.choices(AREAS, self._area_weights)[0]

    def offset(self) -> tuple[float, float]:
        """Where in its 동 a home stands: about 300 m around the 동 centre (degrees)."""
        return self.rng.gauss(0, 0.003), self.rng.gauss(0, 0.0037)

    def address(self, area: Area, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        dong = rng.choice(area.dongs)
        if rng.random() < 0.7:
            building = rng.randrange(101, 116)
            unit = rng.randrange(1, 21) * 100 + rng.randrange(1, 7)
            return f"{area.name} {dong} {rng.choice(APARTMENTS)} {building}동 {unit}호"
        lot = f"{rng.randrange(1, 1500)}-{rng.randrange(1, 40)}"
        unit = rng.randrange(1, 4) * 100 + rng.randrange(1, 4)
        return f"{area.name} {dong} {lot} {rng.choice(VILLAS)} {unit}호"

    def account(self) -> str:
        bank, groups = self.rng.choice(BANKS)
        full = "-".join("".join(str(self.rng.randrange(10)) for _ in range(n)) for n in groups)
        return f"{bank} {mask_account(full)}"


def _plan_employees(names: _Names, plan: DemoPlan) -> None:
    chat_id = HEAD_CHAT_ID_BASE
    number = 0
    for dept, size in DEPARTMENTS:
        chat_id += 1
        first = len(plan.employees)
        titles = [f"{dept}장"]
        for rank, share in RANKS:
            titles += [rank] * max(1, round(size * share))
        titles += ["사원"] * (size - len(titles))
        for i, title in enumerate(titles):
            number += 1
            if number == 1:
                home = _located(KIM_YOUNGHWAN["home_address"])
                plan.employees.append({**KIM_YOUNGHWAN, **home, "is_head": True})
                continue
            area = names.area()
            offset = names.offset()
            address = names.address(area, names.home_rng)
            plan.employees.append(
                {
                    "employee_no": f"E{number:04d}",
                    "name": names.name(female=names.rng.random() < (0.15 if i == 0 else 0.4)),
                    "title": title,
                    "department": dept,
                    "home_area": area.name,
                    "home_address": address,
                    **_located(address, offset),
                    "phone": names.phone(),
                    "telegram_chat_id": chat_id if i == 0 else None,
                    "is_head": i == 0,
                }
            )
        plan.deputies.extend(_pick_deputies(names.rng, titles, first))
    # One non-head is linked too, so deputy routing (김영환 away) reaches a chat.
    plan.employees[plan.deputies[0]]["telegram_chat_id"] = KIM_DEPUTY_CHAT_ID


def _pick_deputies(rng: random.Random, titles: list[str], first: int) -> list[int]:
    """Deputy for each member of one department: the same rank or one above, never oneself.

    The head's deputy is a 차장; the deputy of a 차장 is another 차장 or the head.
    """
    order = ["head", "차장", "과장", "대리", "사원"]
    ranks = [0 if i == 0 else order.index(t) for i, t in enumerate(titles)]
    by_rank: dict[int, list[int]] = {}
    for i, r in enumerate(ranks):
        by_rank.setdefault(r, []).append(i)
    deputies = []
    for i, r in enumerate(ranks):
        if r == 0:
            pool = by_rank[1]
        else:
            pool = [j for j in by_rank.get(r, []) + by_rank.get(r - 1, []) if j != i]
        deputies.append(first + rng.choice(pool or [0]))
    return deputies


def _birth_date(rng: random.Random, today: date, *, min_age: int, max_age: int) -> date:
    age = rng.randint(min_age, max_age)
    return date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))


def _plan_policy(
    rng: random.Random, *, birth: date, today: date, account: str, used_numbers: set[str]
) -> dict[str, Any]:
    product: Product = rng.choices(PRODUCTS, [p.weight for p in PRODUCTS])[0]
    first_year = max(1990, birth.year + 22)
    # Most contracts are from the last two decades; older ones thin out.
    years_back = min(1 + int(rng.expovariate(1 / 10)), max(1, today.year - first_year))
    start = date(today.year - years_back, rng.randint(1, 12), rng.randint(1, 28))
    term = rng.randint(*product.term_years)
    maturity = date(start.year + term, start.month, start.day)
    premium = rng.randrange(product.premium_range[0], product.premium_range[1] + 1, 1000)
    if maturity <= today:
        status = "matured" if rng.random() < 0.9 else "lapsed"
    else:
        status = "active" if rng.random() < 0.9 else "lapsed"
    months_to_date = (today.year - start.year) * 12 + today.month - start.month
    months_paid = {
        "active": months_to_date,
        "lapsed": int(min(months_to_date, term * 12) * rng.uniform(0.1, 0.8)),
        "matured": term * 12,
    }[status]
    surrender = 0
    if status != "matured":
        ratio = product.cash_value_ratio * rng.uniform(0.85, 1.05)
        surrender = int(premium * months_paid * ratio) // 10_000 * 10_000
    loan_limit = 0
    if status == "active":
        loan_limit = int(surrender * rng.uniform(0.5, 0.85)) // 10_000 * 10_000
    next_due = None
    if status == "active":
        next_due = date(today.year, today.month, start.day)
        if next_due <= today:
            next_due = (next_due.replace(day=1) + timedelta(days=32)).replace(day=start.day)
    while True:
        number = f"KL-{start.year}-{rng.randrange(1, 1_000_000):06d}"
        if number not in used_numbers:
            used_numbers.add(number)
            break
    return {
        "number": number,
        "product": product.name,
        "status": status,
        "premium": premium,
        "next_due_date": next_due,
        "maturity_date": maturity,
        "surrender_value": surrender,
        "loan_limit": loan_limit,
        "loan_rate": (Decimal(rng.randrange(650, 951, 25)) / 100).quantize(Decimal("0.01")),
        "deposit_account_masked": account,
        "coverage_summary": rng.choice(product.coverage),
        "contract_date": start,
    }


def _fixed_policy_row(policy: FixedPolicy, holder: FixedHolder, today: date) -> dict[str, Any]:
    next_due = date(today.year, today.month, policy.start.day)
    if next_due <= today:
        next_due = (next_due.replace(day=1) + timedelta(days=32)).replace(day=policy.start.day)
    return {
        "number": policy.number,
        "product": policy.product,
        "status": "active",
        "premium": policy.premium,
        "next_due_date": next_due,
        "maturity_date": policy.maturity,
        "surrender_value": policy.surrender_value,
        "loan_limit": policy.loan_limit,
        "loan_rate": policy.loan_rate,
        "deposit_account_masked": holder.deposit_account_masked,
        "coverage_summary": policy.coverage_summary,
        "contract_date": policy.start,
    }


def _plan_holders(names: _Names, plan: DemoPlan, today: date) -> None:
    rng = names.rng
    used_numbers = {p.number for h in FIXED_HOLDERS for p in h.policies}
    for fixed in FIXED_HOLDERS:
        plan.holders.append(
            {
                "name": fixed.name,
                "phone": fixed.phone,
                "birth_date": fixed.birth_date,
                "address": fixed.address,
                "area": fixed.area,
                **_holder_place(fixed.address),
            }
        )
        plan.policies.append([_fixed_policy_row(p, fixed, today) for p in fixed.policies])
    while len(plan.holders) < POLICYHOLDER_COUNT:
        area = names.area()
        offset = names.offset()
        birth = _birth_date(rng, today, min_age=25, max_age=82)
        name = names.name(female=rng.random() < 0.55)
        phone = names.phone()
        address = names.address(area)
        plan.holders.append(
            {
                "name": name,
                "phone": phone,
                "birth_date": birth,
                "address": address,
                "area": area.name,
                **_holder_place(address, offset),
            }
        )
        account = names.account()
        count = rng.choices((1, 2, 3), (55, 30, 15))[0]
        plan.policies.append(
            [
                _plan_policy(
                    rng, birth=birth, today=today, account=account, used_numbers=used_numbers
                )
                for _ in range(count)
            ]
        )


def _holder_place(address: str, offset: tuple[float, float] = (0.0, 0.0)) -> dict[str, Any]:
    located = _located(address, offset)
    return {"lat": located["lat"], "lon": located["lon"], "geocode_level": located["level"]}


def _plan_assignment(plan: DemoPlan) -> None:
    """Pin the fixed demo people to 김영환 (employee 0), the rest by the optimal assignment
    (``milchak assign``'s own path)."""
    fixed = len(FIXED_HOLDERS)
    capacity = [CAPACITY] * len(plan.employees)
    capacity[0] -= fixed
    people = [(h["lat"], h["lon"]) for h in plan.holders[fixed:]]
    sites = [(e["lat"], e["lon"]) for e in plan.employees]
    assigned, _ = assign_points(people, sites, capacity=capacity)
    plan.holder_employee = [0] * fixed + assigned


def build_demo_plan(*, today: date, seed: int = RNG_SEED) -> DemoPlan:
    """Every row of the demo organisation, deterministic for a given ``seed`` and ``today``."""
    rng = random.Random(seed)
    names = _Names(
        rng,
        {KIM_YOUNGHWAN["phone"], *(h.phone for h in FIXED_HOLDERS)},
        home_rng=random.Random(seed + 1),
    )
    plan = DemoPlan()
    _plan_employees(names, plan)
    _plan_holders(names, plan, today)
    _plan_assignment(plan)
    return plan


# --- writing ------------------------------------------------------------------------------


async def demo_present(session: AsyncSession) -> bool:
    """Whether the demo organisation is already in the database (이영숙 is the marker)."""
    found = await session.scalar(
        select(Policyholder.id).where(Policyholder.phone == LEE_YOUNGSOOK.phone)
    )
    return found is not None


async def _ensure_empty(session: AsyncSession) -> None:
    for model in (Department, Employee, Policyholder):
        count = await session.scalar(select(func.count()).select_from(model))
        if count:
            raise SeedError(
                "데이터베이스에 이미 다른 조직 데이터가 있어 데모 데이터를 넣지 않았습니다. "
                "빈 데이터베이스에서 실행해 주세요."
            )


async def _insert_returning_ids(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]], *, key: str
) -> list[int]:
    """Insert ``rows`` and return their ids in order, looked up by the unique column ``key``.

    Plain executemany plus one SELECT: ``RETURNING`` with guaranteed order falls back to one
    statement per row on SQLite, which is far slower.
    """
    if not rows:
        return []
    await _insert_many(session, model, rows)
    table = model.__table__
    column = table.c[key]
    connection = await session.connection()
    keys = [row[key] for row in rows]
    found = await connection.execute(select(column, table.c.id).where(column.in_(keys)))
    ids = dict(found.tuples().all())
    return [ids[k] for k in keys]


async def _insert_many(session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Core executemany: no ORM bookkeeping, one round of driver executemany."""
    if rows:
        connection = await session.connection()
        await connection.execute(insert(model.__table__), rows)


async def _write_partners(session: AsyncSession) -> int:
    existing = set(await session.scalars(select(Partner.kind)))
    rows = [dict(p) for p in PARTNERS if p["kind"] not in existing]
    if rows:
        await _insert_many(session, Partner, rows)
    return len(rows)


async def _write_employees(session: AsyncSession, plan: DemoPlan) -> list[int]:
    dept_ids = await _insert_returning_ids(
        session, Department, [{"name": name} for name, _ in DEPARTMENTS], key="name"
    )
    dept_by_name = dict(zip((name for name, _ in DEPARTMENTS), dept_ids, strict=True))
    rows = [
        {
            "employee_no": e["employee_no"],
            "name": e["name"],
            "title": e["title"],
            "department_id": dept_by_name[e["department"]],
            "home_area": e["home_area"],
            "home_address": e["home_address"],
            "home_lat": e["lat"],
            "home_lon": e["lon"],
            "home_geocode_level": e["level"],
            "phone": e["phone"],
            "telegram_chat_id": e["telegram_chat_id"],
            "is_head": e["is_head"],
        }
        for e in plan.employees
    ]
    ids = await _insert_returning_ids(session, Employee, rows, key="employee_no")
    await session.execute(
        update(Employee),
        [{"id": ids[i], "deputy_id": ids[d]} for i, d in enumerate(plan.deputies)],
    )
    return ids


async def seed_demo(
    session: AsyncSession,
    *,
    progress: Progress | None = None,
    today: date | None = None,
    seed: int = RNG_SEED,
) -> SeedSummary:
    """Write the demo organisation unless it is already there; the caller commits.

    Raises ``SeedError`` when the database holds other organisation data.
    """
    started = time.perf_counter()
    report = progress or (lambda _step, _done, _total: None)
    if await demo_present(session):
        return SeedSummary(created=False)
    await _ensure_empty(session)
    today = today or clock.today()

    report("데모 조직 구성", 0, 1)
    plan = build_demo_plan(today=today, seed=seed)
    report("데모 조직 구성", 1, 1)

    partners = await _write_partners(session)
    employee_ids = await _write_employees(session, plan)
    report("직원 저장", len(employee_ids), len(employee_ids))

    total = len(plan.holders)
    policies = 0
    chunk = 1000
    for start in range(0, total, chunk):
        holders = plan.holders[start : start + chunk]
        rows = [
            {**h, "employee_id": employee_ids[plan.holder_employee[start + i]]}
            for i, h in enumerate(holders)
        ]
        holder_ids = await _insert_returning_ids(session, Policyholder, rows, key="phone")
        policy_rows = [
            {**p, "policyholder_id": holder_id}
            for holder_id, plist in zip(
                holder_ids, plan.policies[start : start + chunk], strict=True
            )
            for p in plist
        ]
        await _insert_many(session, Policy, policy_rows)
        policies += len(policy_rows)
        report("계약자·계약 저장", start + len(holders), total)

    return SeedSummary(
        created=True,
        departments=len(DEPARTMENTS),
        employees=len(employee_ids),
        policyholders=total,
        policies=policies,
        partners=partners,
        seconds=time.perf_counter() - started,
    )


# --- bulk contact-ledger rows ------------------------------------------------------------


@dataclass(slots=True)
class ContactsSummary:
    """What ``seed_contacts`` wrote."""

    contacts: int
    requests: int
    seconds: float


@dataclass(slots=True)
class _Org:
    """The slice of the organisation the conversation generator needs."""

    holders: list[tuple[int, int]]  # (policyholder id, employee id)
    employee_names: dict[int, str]
    policies: dict[int, list[tuple[int, str]]]  # policyholder id → [(policy id, product)]


async def _load_org(session: AsyncSession) -> _Org:
    holder_rows = await session.execute(
        select(Policyholder.id, Policyholder.employee_id)
        .where(Policyholder.employee_id.is_not(None))
        .order_by(Policyholder.id)
    )
    holders = [(hid, eid) for hid, eid in holder_rows]
    if not holders:
        raise SeedError("계약자 데이터가 없습니다. 먼저 milchak seed --demo 를 실행해 주세요.")
    employees = await session.execute(select(Employee.id, Employee.name, Employee.title))
    policies: dict[int, list[tuple[int, str]]] = {}
    for pid, holder_id, product in await session.execute(
        select(Policy.id, Policy.policyholder_id, Policy.product).order_by(Policy.id)
    ):
        policies.setdefault(holder_id, []).append((pid, product))
    return _Org(
        holders=holders,
        employee_names={eid: f"{name} {title}" for eid, name, title in employees},
        policies=policies,
    )


class _References:
    """Hands out unused ``R-YYYYMMDD-NNNN`` references, skipping those already in the DB."""

    def __init__(self, used: set[str]) -> None:
        self._used = used
        self._next: dict[str, int] = {}

    def take(self, day: date) -> str | None:
        key = day.strftime("%Y%m%d")
        n = self._next.get(key, 1)
        while n <= 9999:
            ref = f"R-{key}-{n:04d}"
            n += 1
            if ref not in self._used:
                self._next[key] = n
                self._used.add(ref)
                return ref
        self._next[key] = n
        return None  # the day is full: no request for this conversation


_INTENTS = list(texts.INTENT_WEIGHTS)
_INTENT_WEIGHTS = list(texts.INTENT_WEIGHTS.values())
_HOUR_WEIGHTS = [1, 0, 0, 0, 0, 1, 2, 4, 7, 9, 10, 10, 9, 9, 9, 8, 8, 8, 9, 10, 10, 8, 5, 2]


class _Conversations:
    """Generates one conversation at a time as ledger rows and (maybe) a request."""

    def __init__(
        self, rng: random.Random, org: _Org, *, now: datetime, days: int, refs: _References
    ) -> None:
        self.rng = rng
        self.org = org
        self.now = now
        self.days = days
        self.refs = refs

    def _moment(self) -> datetime:
        rng = self.rng
        day = self.now - timedelta(days=rng.randrange(self.days))
        hour = rng.choices(range(24), _HOUR_WEIGHTS)[0]
        local = day.astimezone(clock.SEOUL).replace(
            hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0
        )
        moment = local.astimezone(self.now.tzinfo)
        return moment if moment < self.now else self.now - timedelta(minutes=rng.randrange(1, 600))

    def _fill(self, template: str, product: str) -> str:
        rng = self.rng
        return template.format(
            amount=rng.choice(texts.AMOUNTS),
            date=rng.choice(texts.DATES),
            relation=rng.choice(texts.RELATIONS),
            place=rng.choice(texts.PLACES),
            product=product,
        )

    def generate(self, contacts: list[dict[str, Any]], requests: list[dict[str, Any]]) -> None:
        """Append one conversation's rows; request rows carry their index in ``requests``."""
        rng = self.rng
        holder_id, employee_id = rng.choice(self.org.holders)
        holder_policies = self.org.policies.get(holder_id)
        policy_id, product = rng.choice(holder_policies) if holder_policies else (None, "보험")
        t = self._moment()
        low = rng.random() < 0.12
        intent = rng.choices(_INTENTS, _INTENT_WEIGHTS)[0]

        def row(
            direction: str, sender: ContactSender, text: str, *, intent: str | None = None,
            confidence: float | None = None, request: int | None = None,
            channel: ContactChannel = ContactChannel.TELEGRAM, at: datetime,
        ) -> None:  # fmt: skip
            contacts.append(
                {
                    "policyholder_id": holder_id,
                    "employee_id": employee_id,
                    "direction": direction,
                    "channel": channel,
                    "sender": sender,
                    "text": text,
                    "intent": intent,
                    "confidence": confidence,
                    "request_id": request,
                    "created_at": at,
                }
            )

        confidence = round(rng.uniform(0.18, 0.55) if low else rng.uniform(0.7, 0.995), 4)
        said = self._fill(rng.choice(texts.INBOUND[intent]), product)
        row("in", ContactSender.POLICYHOLDER, said, intent=intent, confidence=confidence, at=t)
        reply = texts.LOW_CONFIDENCE_REPLY if low else rng.choice(texts.BOT_REPLIES[intent])
        t += timedelta(seconds=rng.uniform(0.4, 2.5))
        row("out", ContactSender.BOT, reply, at=t)

        opens = (low and rng.random() < 0.3) or (
            not low and intent in texts.REQUEST_KINDS and rng.random() < 0.4
        )
        if not opens:
            return
        reference = self.refs.take(t.astimezone(clock.SEOUL).date())
        if reference is None:
            return
        kind = texts.REQUEST_KINDS["out_of_scope" if low else intent]
        t += timedelta(seconds=rng.uniform(5, 90))
        detail = self._fill(rng.choice(texts.INBOUND["inform"]), product)
        row(
            "in",
            ContactSender.POLICYHOLDER,
            detail,
            intent="inform",
            confidence=round(rng.uniform(0.6, 0.99), 4),
            at=t,
        )
        index = len(requests)
        requests.append(self._request(
            reference=reference, kind=kind, holder_id=holder_id, employee_id=employee_id,
            policy_id=policy_id if kind == "loan" else None, summary=said, at=t,
        ))  # fmt: skip
        t += timedelta(seconds=rng.uniform(0.4, 2.5))
        receipt = texts.REQUEST_RECEIVED.format(
            reference=reference, employee=self.org.employee_names.get(employee_id, "")
        )
        row("out", ContactSender.BOT, receipt, request=index, at=t)
        request = requests[index]
        if request["acknowledged_at"] is not None:
            follow_up = rng.choice(texts.EMPLOYEE_FOLLOW_UPS).format(
                employee=self.org.employee_names.get(employee_id, "")
            )
            channel = rng.choices(
                (ContactChannel.PHONE, ContactChannel.TELEGRAM, ContactChannel.VISIT), (6, 3, 1)
            )[0]
            row("out", ContactSender.EMPLOYEE, follow_up, request=index, channel=channel,
                at=request["acknowledged_at"])  # fmt: skip

    def _request(
        self, *, reference: str, kind: str, holder_id: int, employee_id: int,
        policy_id: int | None, summary: str, at: datetime,
    ) -> dict[str, Any]:  # fmt: skip
        rng = self.rng
        age = self.now - at
        if age > timedelta(days=3):
            status = rng.choices(
                (RequestStatus.RESOLVED, RequestStatus.CANCELLED, RequestStatus.IN_PROGRESS),
                (85, 7, 8),
            )[0]
        else:
            status = rng.choices(
                (RequestStatus.NEW, RequestStatus.ACKNOWLEDGED, RequestStatus.IN_PROGRESS,
                 RequestStatus.RESOLVED),
                (40, 30, 20, 10),
            )[0]  # fmt: skip
        urgent = kind == "funeral"
        acknowledged = resolved = None
        if status not in (RequestStatus.NEW, RequestStatus.CANCELLED):
            acknowledged = min(at + timedelta(minutes=rng.uniform(3, 600)), self.now)
        if status == RequestStatus.RESOLVED and acknowledged is not None:
            resolved = min(acknowledged + timedelta(hours=rng.uniform(0.5, 48)), self.now)
        return {
            "reference": reference,
            "kind": str(kind),
            "status": str(status),
            "urgent": urgent,
            "policyholder_id": holder_id,
            "employee_id": employee_id,
            "policy_id": policy_id,
            "summary": summary,
            "details": {"source": "seed"},
            "created_at": at,
            "updated_at": resolved or acknowledged or at,
            "due_at": at + (timedelta(hours=2) if urgent else timedelta(hours=24)),
            "acknowledged_at": acknowledged,
            "resolved_at": resolved,
            "escalation_level": 0,
        }


def _request_events(request_id: int, request: dict[str, Any]) -> list[dict[str, Any]]:
    events = [
        {"request_id": request_id, "action": RequestAction.CREATED, "employee_id": None, "note": "",
         "created_at": request["created_at"]},
    ]  # fmt: skip
    for action, key in (
        (RequestAction.ACKNOWLEDGED, "acknowledged_at"),
        (RequestAction.RESOLVED, "resolved_at"),
    ):
        if request[key] is not None:
            events.append(
                {"request_id": request_id, "action": action,
                 "employee_id": request["employee_id"], "note": "", "created_at": request[key]}
            )  # fmt: skip
    if request["status"] == RequestStatus.CANCELLED:
        events.append(
            {"request_id": request_id, "action": RequestAction.CANCELLED, "employee_id": None,
             "note": "계약자 취소", "created_at": request["created_at"] + timedelta(minutes=5)}
        )  # fmt: skip
    return events


async def seed_contacts(
    session: AsyncSession,
    *,
    count: int,
    progress: Progress | None = None,
    now: datetime | None = None,
    days: int = 90,
    seed: int = RNG_SEED,
    batch_size: int = 10_000,
) -> ContactsSummary:
    """Append ``count`` generated ledger rows (and the requests they open); caller commits.

    Conversations are spread over the last ``days`` days and belong to existing
    policyholders and their employees; raises ``SeedError`` when there are none.
    """
    started = time.perf_counter()
    report = progress or (lambda _step, _done, _total: None)
    org = await _load_org(session)
    now = now or clock.now()
    since = (now - timedelta(days=days + 1)).astimezone(clock.SEOUL).strftime("R-%Y%m%d")
    used = set(await session.scalars(select(Request.reference).where(Request.reference >= since)))
    conversations = _Conversations(
        random.Random(seed), org, now=now, days=days, refs=_References(used)
    )
    written = requests_written = 0
    report("접촉 이력 생성", 0, count)
    while written < count:
        contacts: list[dict[str, Any]] = []
        requests: list[dict[str, Any]] = []
        while len(contacts) < min(batch_size, count - written):
            conversations.generate(contacts, requests)
        del contacts[count - written :]
        if requests:
            ids = await _insert_returning_ids(session, Request, requests, key="reference")
            events = [
                e for rid, r in zip(ids, requests, strict=True) for e in _request_events(rid, r)
            ]
            await _insert_many(session, RequestEvent, events)
            for c in contacts:
                if c["request_id"] is not None:
                    c["request_id"] = ids[c["request_id"]]
        await _insert_many(session, Contact, contacts)
        written += len(contacts)
        requests_written += len(requests)
        report("접촉 이력 생성", written, count)
    return ContactsSummary(
        contacts=written, requests=requests_written, seconds=time.perf_counter() - started
    )
