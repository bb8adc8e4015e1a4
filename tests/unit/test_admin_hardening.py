"""The console's smaller doors: odd query values answer a page (never a 500), a placeholder
session key is warned about, and `milchak report weekly --csv` neutralises formula cells."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import clock
from bot.admin.app import create_admin_app
from bot.cli import main
from bot.config import PROJECT_ROOT, Settings, get_settings
from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from bot.db.models import Request
from bot.web import create_web_app
from tests.auxil.admin_data import NOW, PASSWORD, AdminData, build_admin_data, seoul

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

ODD_VALUES = [
    "\x00",
    "a\x00b",
    "10" + "0" * 20,
    "99999999999999999999",
    "2147483648",
    "²",
    "٣",
    "-1",
    "0",
    "9999-12-31",
    "0001-01-01",
    "9999-W52",
    "0001-W01",
    "2026-W99",
    "%",
    "'; DROP TABLE contacts; --",
    "<script>",
    "가" * 5000,
]
PARAMETERS = {
    "/admin/": ["q", "page", "department", "employee", "date_from", "date_to", "intent"],
    "/admin/export/contacts.csv": ["q", "department", "date_to"],
    "/admin/requests": ["page", "status", "kind"],
    "/admin/reports/weekly": ["week", "department"],
    "/admin/reports/weekly.csv": ["week", "department"],
    "/admin/audit": ["page"],
    "/admin/review": ["page", "show"],
}
ODD_PATHS = [
    "/admin/conversations/99999999999999999999",
    "/admin/conversations/2147483648",
    "/admin/requests/99999999999999999999",
    "/admin/conversations/1?page=100000000000000000000",
]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.FrozenClock]:
    previous = clock.clock
    fake = clock.FrozenClock(NOW)
    clock.set_clock(fake)
    yield fake
    clock.set_clock(previous)


async def signed_in(
    sessions: async_sessionmaker[AsyncSession], username: str
) -> tuple[httpx.AsyncClient, AdminData]:
    data = await build_admin_data(sessions)
    settings = Settings(_env_file=None, secret_key="k" * 40)  # type: ignore[call-arg]
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_web_app(sessions, settings)),
        base_url="http://console",
    )
    form = await client.get("/admin/login")
    match = _CSRF.search(form.text)
    assert match
    answer = await client.post(
        "/admin/login",
        data={"csrf_token": match.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 303
    return client, data


@pytest.mark.postgres
async def test_odd_query_values_never_answer_500(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    client, _ = await signed_in(sessions, "admin")
    failures = []
    try:
        for path, names in PARAMETERS.items():
            for name in names:
                for value in ODD_VALUES:
                    answer = await client.get(path, params={name: value})
                    if answer.status_code >= 500:
                        failures.append((path, name, value[:20], answer.status_code))
        for path in ODD_PATHS:
            answer = await client.get(path)
            if answer.status_code != 404 and answer.status_code >= 400:
                failures.append((path, "", "", answer.status_code))
    finally:
        await client.aclose()
    assert not failures


async def test_the_audits_three_requests_answer_pages(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The findings as reported: a NUL in q, page=10^20, department=²."""
    client, _ = await signed_in(sessions, "admin")
    try:
        search = await client.get("/admin/", params={"q": "약관\x00대출"})
        deep = await client.get("/admin/", params={"page": str(10**20)})
        report = await client.get("/admin/reports/weekly", params={"department": "²"})
    finally:
        await client.aclose()
    assert (search.status_code, deep.status_code, report.status_code) == (200, 200, 200)
    assert "약관대출" in search.text  # the search still runs, without the NUL
    assert "1쪽" in deep.text  # an absurd page is the first page
    assert "기획부" in report.text and "영업지원부" in report.text  # all departments


def test_the_example_placeholder_secret_is_warned_about(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    example = Settings(_env_file=PROJECT_ROOT / ".env.example")  # type: ignore[call-arg]
    assert example.secret_key.get_secret_value() == "change-me"
    with caplog.at_level(logging.WARNING, logger="bot.admin.app"):
        create_admin_app(sessions, example)
    assert "MILCHAK_SECRET_KEY" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.admin.app"):
        create_admin_app(sessions, Settings(_env_file=None, secret_key="x" * 43))  # type: ignore[call-arg]
    assert "MILCHAK_SECRET_KEY" not in caplog.text


def test_cli_weekly_csv_neutralises_formula_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'report.db'}"
    monkeypatch.setenv("MILCHAK_DATABASE_URL", url)
    get_settings.cache_clear()

    async def prepare() -> None:
        engine, sessions = create_engine_and_sessions(url)
        await upgrade(engine)
        data = await build_admin_data(sessions)
        async with sessions() as session:
            # Twice, so that it heads the department's "주요 서비스 희망" cell.
            formula = '=HYPERLINK("http://evil.example","보기")'
            for n, wish in enumerate([formula, formula, "+1+2", "@SUM(A1)"]):
                session.add(
                    Request(
                        reference=f"R-20261126-{9000 + n}",
                        kind="suggestion",
                        policyholder_id=data.policyholders["오미나"],
                        employee_id=data.employees["박민수"],
                        summary=wish,
                        details={},
                        created_at=seoul(26, 12),
                        updated_at=seoul(26, 12),
                    )
                )
            await session.commit()
        await engine.dispose()

    asyncio.run(prepare())
    try:
        result = CliRunner().invoke(
            main, ["report", "weekly", "--week", "2026-W48", "--department", "기획부", "--csv"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    cells = [cell for row in rows for cell in row]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells), cells
    wishes = rows[1][-1]
    assert wishes.startswith("'") and "HYPERLINK" in wishes
