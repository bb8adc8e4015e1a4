"""Admin console speed at scale: p50/p95 of list and search pages with a million contacts.

    python -m bench.admin_pages --backend sqlite --contacts 1000000
    python -m bench.admin_pages --backend postgres --contacts 1000000 \
        --postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Builds the database once (schema from the migrations up to 0001, rows by the drivers' bulk paths,
then migration 0002 builds the search indexes over them, as it would on a live database), starts
``milchak web`` in a subprocess, signs in and times each page over HTTP. ``--reuse`` keeps an
existing benchmark database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from bot.services.admin_users import create_admin_user

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / ".data"
BENCH_DB = "milchak_bench_admin"
PASSWORD = "bench-password-1"
DEPARTMENTS = [
    "기획부",
    "총무부",
    "인사부",
    "경리부",
    "상품개발부",
    "계약관리부",
    "전산부",
    "영업지원부",
]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = [
    "영숙",
    "민수",
    "지은",
    "하늘",
    "서준",
    "철수",
    "미나",
    "영환",
    "수진",
    "동현",
    "은지",
    "정호",
]
AREAS = ["인천 남동구", "인천 부평구", "인천 연수구", "서울 강서구", "서울 양천구", "부천 원미구"]
START = datetime(2025, 12, 1, tzinfo=UTC)
SPAN_SECONDS = 360 * 24 * 3600

CUSTOMER = [
    ("약관대출받고싶어요", "request_loan"),
    ("대출 한도가 얼마인가요", "request_loan"),
    ("오백만원 대출 가능할까요", "request_loan"),
    ("다음주 토요일에 이사해요 트랜스팩 예약해 주세요", "book_moving"),
    ("아버지 장례 도움이 필요합니다", "book_funeral"),
    ("딸 결혼식 그린그린 할인 되나요", "book_wedding"),
    ("보험금 지급이 너무 늦어요", "complaint"),
    ("상담원이 불친절했어요", "complaint"),
    ("책 할인 같은 서비스도 해주세요", "suggest_service"),
    ("중고차 살 때 도움 받을 수 있나요", "suggest_service"),
    ("제 보험 만기가 언제예요", "ask_policy"),
    ("다음 보험료 납입일 알려주세요", "ask_policy"),
    ("담당 직원분 연락처 알려주세요", "contact_employee"),
    ("국제국민카드 신청하고 싶어요", "apply_card"),
    ("안녕하세요", "greet"),
    ("감사합니다", "thank"),
    ("네 맞아요", "affirm"),
    ("아니요", "deny"),
    ("취소할게요", "cancel"),
    ("오늘 날씨 어때요", "out_of_scope"),
]
BOT = [
    "무엇을 도와드릴까요?",
    "대출 신청을 접수했어요. 담당 직원이 곧 연락드려요.",
    "고객님의 보험은 무배당암보험이고 다음 납입일은 12월 25일이에요.",
    "불편을 드려 죄송합니다. 담당자에게 전달했어요.",
    "트랜스팩 이사 서비스를 15% 할인된 가격으로 연결해 드릴게요.",
    "말씀을 잘 이해하지 못했어요. 담당 직원에게 전달할까요?",
]
EMPLOYEE = [
    "안녕하세요 담당 직원입니다. 확인해 보고 연락드릴게요.",
    "오늘 송금 처리했습니다.",
    "댁 방문, 애로사항 청취",
    "전화 상담 완료",
]
KINDS = ["complaint", "suggestion", "loan", "moving", "funeral", "wedding", "callback", "card"]
STATUSES = ["new", "acknowledged", "in_progress", "resolved", "resolved", "resolved", "cancelled"]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _rows(total: int, holders: int, employees: int, seed: int = 7):  # type: ignore[no-untyped-def]
    """Contacts in time order, as tuples in the column order of ``load_*``'s inserts."""
    rng = random.Random(seed)
    step = SPAN_SECONDS / total
    for index in range(total):
        holder = rng.randrange(1, holders + 1)
        employee = (holder - 1) // 25 + 1 if holder <= employees * 25 else None
        at = START + timedelta(seconds=index * step)
        roll = rng.random()
        if roll < 0.5:
            text, intent = rng.choice(CUSTOMER)
            confidence = round(rng.uniform(0.75, 0.99), 3)
            if rng.random() < 0.07:
                intent, confidence = "nlu_fallback", round(rng.uniform(0.1, 0.49), 3)
            yield (holder, None, "in", "telegram", "policyholder", text, intent, confidence, at)
        elif roll < 0.92:
            yield (holder, None, "out", "telegram", "bot", rng.choice(BOT), None, None, at)
        else:
            channel = rng.choice(["telegram", "telegram", "phone", "visit"])
            text = rng.choice(EMPLOYEE)
            yield (holder, employee, "out", channel, "employee", text, None, None, at)


def _org(holder_count: int) -> tuple[list[tuple], list[tuple], list[tuple]]:  # type: ignore[type-arg]
    rng = random.Random(3)
    employees = []
    employee_count = holder_count // 25
    for index in range(1, employee_count + 1):
        dept = (index - 1) % len(DEPARTMENTS) + 1
        employees.append((index, _name(rng), "대리", dept, rng.choice(AREAS)))
    holders = []
    for index in range(1, holder_count + 1):
        phone = f"010{rng.randrange(10**8):08d}"
        employee = (index - 1) // 25 + 1
        area = rng.choice(AREAS)
        holders.append(
            (index, _name(rng), phone, date(1960, 1, 1), f"{area} 아파트", area, employee)
        )
    departments = [(i + 1, name) for i, name in enumerate(DEPARTMENTS)]
    return departments, employees, holders


def _requests(count: int, holders: int):  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    for index in range(1, count + 1):
        holder = rng.randrange(1, holders + 1)
        created = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        status = rng.choice(STATUSES)
        ack = created + timedelta(minutes=rng.randrange(5, 3000)) if status != "new" else None
        resolved = (
            ack + timedelta(hours=rng.randrange(1, 72)) if status == "resolved" and ack else None
        )
        kind = rng.choice(KINDS)
        details = json.dumps({"category": rng.choice(["보험금 지급", "직원 응대", "서류"])})
        yield (
            index,
            f"R-{created:%Y%m%d}-{index:05d}",
            kind,
            status,
            holder,
            (holder - 1) // 25 + 1,
            f"{kind} 요청",
            details,
            created,
            created + timedelta(hours=24),
            ack,
            resolved,
        )


def _sqlite_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(path: Path, contacts: int, holders: int, requests: int) -> None:
    """Bulk rows through sqlite3 directly (SQLAlchemy's per-row overhead would dominate)."""
    departments, employees, people = _org(holders)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany("INSERT INTO departments (id, name) VALUES (?, ?)", departments)
        db.executemany(
            "INSERT INTO employees (id, name, title, department_id, home_area, telegram_blocked,"
            " is_head, created_at) VALUES (?, ?, ?, ?, ?, 0, 0, '2025-01-01 00:00:00.000000')",
            employees,
        )
        db.executemany(
            "INSERT INTO policyholders (id, name, phone, birth_date, address, area, employee_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, '2025-01-01 00:00:00.000000')",
            [(*p[:3], p[3].isoformat(), *p[4:]) for p in people],
        )
        db.executemany(
            "INSERT INTO requests (id, reference, kind, status, urgent, policyholder_id,"
            " employee_id, summary, details, created_at, updated_at, due_at, acknowledged_at,"
            " resolved_at, escalation_level) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            [
                (
                    *r[:8],
                    _sqlite_time(r[8]),
                    _sqlite_time(r[8]),
                    _sqlite_time(r[9]),
                    _sqlite_time(r[10]),
                    _sqlite_time(r[11]),
                )
                for r in _requests(requests, holders)
            ],
        )
    batch: list[tuple] = []  # type: ignore[type-arg]
    sql = (
        "INSERT INTO contacts (policyholder_id, employee_id, direction, channel, sender, text,"
        " intent, confidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    for row in _rows(contacts, holders, len(employees)):
        batch.append((*row[:8], _sqlite_time(row[8])))
        if len(batch) == 50_000:
            with db:
                db.executemany(sql, batch)
            batch.clear()
            print(
                f"  {db.execute('SELECT max(id) FROM contacts').fetchone()[0]:,} contacts", end="\r"
            )
    with db:
        db.executemany(sql, batch)
    db.execute("ANALYZE")
    db.close()
    print()


async def load_postgres(dsn: str, contacts: int, holders: int, requests: int) -> None:
    """Bulk rows with COPY."""
    departments, employees, people = _org(holders)
    db = await asyncpg.connect(dsn)
    try:
        await db.copy_records_to_table("departments", records=departments, columns=["id", "name"])
        await db.copy_records_to_table(
            "employees",
            records=employees,
            columns=["id", "name", "title", "department_id", "home_area"],
        )
        await db.copy_records_to_table(
            "policyholders",
            records=people,
            columns=["id", "name", "phone", "birth_date", "address", "area", "employee_id"],
        )
        await db.copy_records_to_table(
            "requests",
            records=[(*r, False, 0, r[8]) for r in _requests(requests, holders)],
            columns=[
                "id",
                "reference",
                "kind",
                "status",
                "policyholder_id",
                "employee_id",
                "summary",
                "details",
                "created_at",
                "due_at",
                "acknowledged_at",
                "resolved_at",
                "urgent",
                "escalation_level",
                "updated_at",
            ],
        )
        columns = [
            "policyholder_id",
            "employee_id",
            "direction",
            "channel",
            "sender",
            "text",
            "intent",
            "confidence",
            "created_at",
        ]
        batch: list[tuple] = []  # type: ignore[type-arg]
        done = 0
        for row in _rows(contacts, holders, len(employees)):
            batch.append(row)
            if len(batch) == 100_000:
                await db.copy_records_to_table("contacts", records=batch, columns=columns)
                done += len(batch)
                batch.clear()
                print(f"  {done:,} contacts", end="\r")
        await db.copy_records_to_table("contacts", records=batch, columns=columns)
        for table in ("departments", "employees", "policyholders", "requests", "contacts"):
            await db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        print()
    finally:
        await db.close()


async def build(url: str, contacts: int, holders: int, requests: int) -> None:
    engine, sessions = create_engine_and_sessions(url)
    try:
        await upgrade(engine, "0001")
        started = time.perf_counter()
        if url.startswith("sqlite"):
            path = Path(make_url(url).database or "")
            await asyncio.to_thread(load_sqlite, path, contacts, holders, requests)
        else:
            dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            await load_postgres(dsn, contacts, holders, requests)
        print(f"rows loaded in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        await upgrade(engine)
        print(f"migration 0002 (search indexes) in {time.perf_counter() - started:.0f} s")
        async with engine.connect() as conn:  # fresh planner statistics, as after a bulk load
            if url.startswith("sqlite"):
                await conn.exec_driver_sql("ANALYZE")
            else:
                await conn.exec_driver_sql("COMMIT")
                await conn.exec_driver_sql("VACUUM ANALYZE")
        async with sessions() as session:
            await create_admin_user(session, username="bench", password=PASSWORD, role="admin")
            await create_admin_user(
                session,
                username="bench_head",
                password=PASSWORD,
                role="head",
                department_name=DEPARTMENTS[0],
            )
            await session.commit()
    finally:
        await engine.dispose()


async def count_contacts(url: str) -> int:
    engine, _ = create_engine_and_sessions(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.exec_driver_sql("SELECT count(*) FROM contacts")).scalar() or 0)
    except Exception:
        return 0
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PAGES: list[tuple[str, str]] = [
    ("list", "/admin/"),
    ("list p2", "/admin/?page=2"),
    ("list p10", "/admin/?page=10"),
    ("list dept", "/admin/?department=3"),
    ("list employee", "/admin/?employee=17"),
    ("list intent", "/admin/?intent=complaint"),
    ("list low conf", "/admin/?low=1"),
    ("list week", "/admin/?date_from=2026-11-16&date_to=2026-11-22"),
    ("list kind+status", "/admin/?kind=funeral&status=new"),
    ("search 약관대출", "/admin/?q=약관대출"),
    ("search 대출 (2 chars)", "/admin/?q=대출"),
    ("search 보험금 지급", "/admin/?q=보험금+지급"),
    ("search 트랜스팩+dept", "/admin/?q=트랜스팩&department=2"),
    ("search no hit", "/admin/?q=없는검색어입니다"),
    ("search p3", "/admin/?q=약관대출&page=3"),
]
HEAD_PAGES: list[tuple[str, str]] = [
    ("head list", "/admin/"),
    ("head search", "/admin/?q=약관대출"),
]
OTHER_PAGES: list[tuple[str, str]] = [
    ("requests board", "/admin/requests"),
    ("transcript", "/admin/conversations/42"),
    ("weekly report", "/admin/reports/weekly?week=2026-W47"),
]


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    response = await client.post(
        "/admin/login",
        data={
            "csrf_token": token[1],
            "username": username,
            "password": PASSWORD,
            "next": "/admin/",
        },
    )
    assert response.status_code == 303, response.status_code


async def measure(base: str, rounds: int) -> list[tuple[str, list[float]]]:
    results: list[tuple[str, list[float]]] = []
    for username, pages in (("bench", PAGES + OTHER_PAGES), ("bench_head", HEAD_PAGES)):
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await sign_in(client, username)
            for _label, path in pages:  # warm caches once
                assert (await client.get(path)).status_code == 200, path
            timings: dict[str, list[float]] = {label: [] for label, _ in pages}
            for _ in range(rounds):
                for label, path in pages:
                    started = time.perf_counter()
                    response = await client.get(path)
                    timings[label].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
            results += list(timings.items())
    return results


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--policyholders", type=int, default=6_250)
    parser.add_argument("--requests", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "MILCHAK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()

    if args.backend == "sqlite":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = DATA_DIR / f"admin-{args.contacts}.db"
        url = f"sqlite+aiosqlite:///{path}"
        exists = path.exists()
        if exists and not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            exists = False
    else:
        url = (
            make_url(args.postgres_url).set(database=BENCH_DB).render_as_string(hide_password=False)
        )
        exists = args.reuse and asyncio.run(count_contacts(url)) >= args.contacts
        if not exists:
            asyncio.run(_recreate_pg(args.postgres_url))

    if not exists:
        print(f"building {args.backend} database with {args.contacts:,} contacts …")
        asyncio.run(build(url, args.contacts, args.policyholders, args.requests))
    total = asyncio.run(count_contacts(url))

    port = free_port()
    env = {**os.environ, "MILCHAK_DATABASE_URL": url, "MILCHAK_SECRET_KEY": "bench-" + "x" * 32}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "milchak"), "web", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)
        results = asyncio.run(measure(base, args.rounds))
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(
        f"\n{args.backend}: {total:,} contacts, {args.rounds} rounds per page, over HTTP (uvicorn)"
    )
    print(f"{'page':<26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for label, values in results:
        print(f"{label:<26}{statistics.median(values):>9.1f}{p95(values):>9.1f}{max(values):>9.1f}")
    listed = [v for label, v in results if label.startswith(("list", "search", "head"))]
    worst = max(p95(v) for v in listed)
    print(f"\nworst p95 over list and search pages: {worst:.1f} ms (target ≤ 200 ms)")


async def _recreate_pg(base_url: str) -> None:
    dsn = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await admin.close()


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("milchak web did not start")


if __name__ == "__main__":
    main()
