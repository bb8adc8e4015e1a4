"""계약유지율 at scale: the company's 13/25회차 over a million policies and five million events.

    python -m bench.persistency --backend sqlite
    python -m bench.persistency --backend postgres \
        --postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Builds a database once (schema from the migrations; 250 employees, 400,000 policyholders,
1,000,000 monthly policies contracted over the last six years and 5,000,000 policy events —
each policy's contract, missed premiums paid late, lapses, reinstatements, surrenders — loaded
through the drivers' bulk paths, then ANALYZE), and times the same code the console and
``milchak report persistency`` run: the company's figures (``company_rates``), and the full
report with its per-employee split (``persistency_report``). Prints the figures and the timings.
``--reuse`` keeps an existing benchmark database (SQLite file or PostgreSQL database).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from bot.services.persistency import (
    MEASURES,
    Window,
    company_rates,
    persistency_report,
    rate_line,
    window_text,
)
from bot.services.policy_history import add_months, due_date, grace_until

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / ".data"
BENCH_DB = "milchak_bench_persistency"
EMPLOYEES = 250
HOLDERS = 400_000
POLICIES = 1_000_000
EVENTS = 5_000_000
SEED = 13
CHUNK = 50_000


def _policies(today: date) -> Iterator[tuple[int, int, date, int]]:
    """(id, holder id, contract date, premium)."""
    rng = random.Random(SEED)
    start = add_months(today, -72)
    span = (today - start).days
    for pid in range(1, POLICIES + 1):
        contract = start + timedelta(days=rng.randrange(span))
        yield pid, rng.randrange(1, HOLDERS + 1), contract, rng.randrange(20, 400) * 1000


def _events(pid: int, contract: date, today: date, rng: random.Random) -> list[tuple]:
    """Exactly five events per policy: the contract and four status changes after it.

    Two missed premiums paid within the grace period, then either a third paid late and a
    surrender, or a lapse and a reinstatement — in policy order, only dates before ``today``
    (the rest are placed in the past by keeping them in order from the contract)."""
    rows = [(pid, "normal", contract, 1)]
    k = 2
    months = max(2, (today.year - contract.year) * 12 + today.month - contract.month)
    for _ in range(2):
        k += rng.randrange(1, max(2, months // 4))
        due = due_date(contract, "monthly", k)
        rows.append((pid, "unpaid", due, k - 1))
        rows.append((pid, "normal", due + timedelta(days=rng.randint(3, 25)), k))
    # Replace the last pair by an exit pattern for some policies.
    roll = rng.random()
    if roll < 0.12:
        _, _, due, paid = rows[3]
        rows[4] = (pid, "lapsed", grace_until(due) + timedelta(days=1), paid)
    elif roll < 0.16:
        _, _, day, paid = rows[4]
        rows[4] = (pid, "surrendered", day + timedelta(days=30), paid)
    return rows


def _generate(today: date) -> tuple[list[tuple], Iterator[list[tuple]]]:
    policies = list(_policies(today))

    def events() -> Iterator[list[tuple]]:
        rng = random.Random(SEED + 1)
        batch: list[tuple] = []
        for pid, _, contract, _ in policies:
            batch.extend(_events(pid, contract, today, rng))
            if len(batch) >= CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    return policies, events()


def _org_rows() -> tuple[list[tuple], list[tuple], list[tuple]]:
    departments = [(i, f"부서{i}") for i in range(1, 9)]
    employees = [
        (i, f"E{i:04d}", f"직원{i}", "사원", (i - 1) % 8 + 1, "인천")
        for i in range(1, EMPLOYEES + 1)
    ]
    holders = [
        (i, f"계약자{i}", f"010{i:08d}", date(1970, 1, 1), "인천", "인천", (i - 1) % EMPLOYEES + 1)
        for i in range(1, HOLDERS + 1)
    ]
    return departments, employees, holders


def _load_sqlite(path: Path, today: date) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    departments, employees, holders = _org_rows()
    connection.executemany("INSERT INTO departments (id, name) VALUES (?, ?)", departments)
    connection.executemany(
        "INSERT INTO employees (id, employee_no, name, title, department_id, home_area, "
        "telegram_blocked, is_head, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, CURRENT_TIMESTAMP)",
        employees,
    )
    connection.executemany(
        "INSERT INTO policyholders (id, name, phone, birth_date, address, area, employee_id, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)",
        [(*h[:3], h[3].isoformat(), *h[4:]) for h in holders],
    )
    policies, events = _generate(today)
    connection.executemany(
        "INSERT INTO policies (id, number, policyholder_id, product, status, premium, "
        "surrender_value, loan_limit, loan_rate, coverage_summary, contract_date, payment_cycle, "
        "paid_installments) VALUES (?, ?, ?, '종신보험', 'active', ?, 0, 0, 0, '', ?, 'monthly', 0)",
        ((pid, f"P{pid:08d}", holder, premium, contract.isoformat())
         for pid, holder, contract, premium in policies),
    )  # fmt: skip
    for batch in events:
        connection.executemany(
            "INSERT INTO policy_events (policy_id, kind, occurred_on, paid_through, note, source, "
            "created_at) VALUES (?, ?, ?, ?, '', 'bench', CURRENT_TIMESTAMP)",
            [(p, k, d.isoformat(), n) for p, k, d, n in batch],
        )
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()


async def _load_postgres(dsn: str, today: date) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        departments, employees, holders = _org_rows()
        await connection.copy_records_to_table(
            "departments", records=departments, columns=["id", "name"]
        )
        await connection.copy_records_to_table(
            "employees",
            records=[(*e, False, False) for e in employees],
            columns=["id", "employee_no", "name", "title", "department_id", "home_area",
                     "telegram_blocked", "is_head"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "policyholders",
            records=holders,
            columns=["id", "name", "phone", "birth_date", "address", "area", "employee_id"],
        )
        policies, events = _generate(today)
        await connection.copy_records_to_table(
            "policies",
            records=[
                (pid, f"P{pid:08d}", holder, "종신보험", "active", premium, 0, 0, Decimal(0), "", contract,
                 "monthly", 0)
                for pid, holder, contract, premium in policies
            ],
            columns=["id", "number", "policyholder_id", "product", "status", "premium",
                     "surrender_value", "loan_limit", "loan_rate", "coverage_summary",
                     "contract_date", "payment_cycle", "paid_installments"],
        )  # fmt: skip
        for batch in events:
            await connection.copy_records_to_table(
                "policy_events",
                records=[(p, k, d, n, "", "bench") for p, k, d, n in batch],
                columns=["policy_id", "kind", "occurred_on", "paid_through", "note", "source"],
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _prepare(backend: str, postgres_url: str | None, reuse: bool, today: date) -> str:
    if backend == "sqlite":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = DATA_DIR / "persistency.db"
        url = f"sqlite+aiosqlite:///{path}"
        if reuse and path.exists():
            return url
        path.unlink(missing_ok=True)
        engine, _ = create_engine_and_sessions(url)
        await upgrade(engine)
        await engine.dispose()
        started = time.perf_counter()
        await asyncio.to_thread(_load_sqlite, path, today)
        print(f"loaded SQLite in {time.perf_counter() - started:.0f} s")
        return url
    assert postgres_url, "--postgres-url is required for PostgreSQL"
    base = make_url(postgres_url)
    url = base.set(database=BENCH_DB).render_as_string(hide_password=False)
    admin = await asyncpg.connect(
        base.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", BENCH_DB)
        if exists and reuse:
            return url
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await admin.close()
    engine, _ = create_engine_and_sessions(url)
    await upgrade(engine)
    await engine.dispose()
    started = time.perf_counter()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    await _load_postgres(dsn, today)
    print(f"loaded PostgreSQL in {time.perf_counter() - started:.0f} s")
    return url


async def _run(args: argparse.Namespace) -> None:
    today = date.fromisoformat(args.as_of) if args.as_of else date.today()
    url = await _prepare(args.backend, args.postgres_url, args.reuse, today)
    engine, sessions = create_engine_and_sessions(url)
    try:
        async with sessions() as session:
            counts = {
                table: (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
                for table in ("policies", "policy_events")
            }
        print(
            f"{args.backend}: {counts['policies']:,} policies, {counts['policy_events']:,} events"
        )
        window = Window(today)
        # Wall time, and this process's CPU time (all threads: aiosqlite runs SQLite in one), which
        # on a machine shared with other work says what the query itself costs. PostgreSQL does
        # its work in the server, outside this process.
        timings: dict[str, list[tuple[float, float]]] = {
            "company_rates": [],
            "persistency_report": [],
        }
        rates = None
        for _ in range(args.repeat):
            async with sessions() as session:
                wall, cpu = time.perf_counter(), time.process_time()
                rates = await company_rates(session, window=window)
                timings["company_rates"].append(
                    (time.perf_counter() - wall, time.process_time() - cpu)
                )
                wall, cpu = time.perf_counter(), time.process_time()
                await persistency_report(session, as_of=today)
                timings["persistency_report"].append(
                    (time.perf_counter() - wall, time.process_time() - cpu)
                )
        assert rates is not None
        for n in MEASURES:
            print(f"  {n}회차 ({window_text(window, n)}): {rate_line(rates[n])}")
        for name, values in timings.items():
            walls = [w for w, _ in values]
            cpus = [c for _, c in values]
            print(
                f"  {name}: wall best {min(walls):.2f} s, median {statistics.median(walls):.2f} s; "
                f"client CPU median {statistics.median(cpus):.2f} s ({len(values)} runs)"
            )
        print(f"  load average during the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--as-of", default=None, help="measurement day (default: today)")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
