"""The 유지율 page in headless Chromium, on the demo organisation and its policy history:
figures, the survival chart (an SVG with Korean labels), CSV, and a head sees only their
department."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.sync_api import Page, expect

from bot import clock
from bot.config import Settings
from bot.db import create_engine_and_sessions, session_scope
from bot.db.migrate import upgrade
from bot.demo.policy_history import seed_policy_history
from bot.demo.seed import FIXED_HOLDERS, seed_demo
from bot.services.admin_users import create_admin_user
from bot.web import create_web_app
from tests.auxil.admin_data import PASSWORD
from tests.browser.conftest import _free_port, screenshot, sign_in

pytestmark = pytest.mark.browser


@dataclass
class DemoConsole:
    base: str


@pytest.fixture(scope="module")
def demo_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoConsole]:
    """The console over a demo database (seeded like `milchak seed --demo`), with an admin and
    the head of 기획부."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('persistency') / 'demo.db'}"
    port = _free_port()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        engine, sessions = create_engine_and_sessions(url)
        try:
            await upgrade(engine)
            today = clock.clock.seoul_now().date()
            async with session_scope(sessions) as session:
                await seed_demo(session, today=today)
                await seed_policy_history(
                    session, today=today, fixed_phones=frozenset(h.phone for h in FIXED_HOLDERS)
                )
                await create_admin_user(session, username="admin", password=PASSWORD, role="admin")
                await create_admin_user(
                    session, username="planning_head", password=PASSWORD, role="head",
                    department_name="기획부",
                )  # fmt: skip
            app = create_web_app(sessions, Settings(secret_key="browser-test-" + "k" * 32))
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
            )
            holder["server"] = server
            task = asyncio.create_task(server.serve())
            while not server.started and not task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            ready.set()
            await task
        except BaseException as exc:
            holder["error"] = exc
            ready.set()
            raise
        finally:
            await engine.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(120), "console did not start"
    if "error" in holder:
        raise RuntimeError("console failed to start") from holder["error"]  # type: ignore[arg-type]
    yield DemoConsole(base=f"http://127.0.0.1:{port}")
    server = holder["server"]
    assert isinstance(server, uvicorn.Server)
    server.should_exit = True
    thread.join(10)


def test_persistency_page_for_the_admin(page: Page, demo_console: DemoConsole) -> None:
    page.set_default_timeout(60_000)  # the survival analysis takes seconds on a busy machine
    sign_in(page, demo_console, "admin")  # type: ignore[arg-type]
    page.click("nav >> text=유지율")
    expect(page.locator("h1")).to_contain_text("계약유지율")
    headline = page.locator("#headline")
    expect(headline).to_contain_text("13회차 유지율")
    expect(headline).to_contain_text("25회차 유지율")
    expect(headline).to_contain_text("95% 신뢰구간")
    expect(page.locator("#demo-note")).to_contain_text("시뮬레이션")
    chart = page.locator("#survival svg.chart")
    expect(chart).to_be_visible()
    expect(chart).to_contain_text("기준일 이후 개월")
    expect(chart).to_contain_text("기준일 전에 연락한 계약")
    expect(chart).to_contain_text("연락하지 않은 계약")
    assert chart.locator("path.km").count() == 2
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    expect(page.locator("#cox")).to_contain_text("95% 신뢰구간")
    expect(page.locator("#departments tbody tr")).to_have_count(8)
    screenshot(page, "persistency")

    page.select_option("select[name=department]", label="기획부")
    page.click("text=보기")
    expect(page.locator("#employees tbody tr")).to_have_count(28)
    expect(page.locator("#employees")).to_contain_text("김영환 기획부장")
    with page.expect_download() as info:
        page.click("text=CSV 내려받기")
    rows = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["구분", "부서", "직원", "13회차 대상 계약"]
    assert [r[1] for r in rows[1:]] == ["기획부"] * 29  # the department, then its 28 people


def test_head_sees_only_their_department(page: Page, demo_console: DemoConsole) -> None:
    page.set_default_timeout(60_000)
    sign_in(page, demo_console, "planning_head")  # type: ignore[arg-type]
    page.goto(f"{demo_console.base}/admin/reports/persistency?department=1&department=2")
    expect(page.locator("h2").first).to_have_text("기획부 회사 전체와 비교")
    assert page.locator("select[name=department]").count() == 0
    expect(page.locator("#departments")).to_have_count(0)
    expect(page.locator("#employees tbody tr")).to_have_count(28)
    expect(page.locator("#employees")).not_to_contain_text("총무부")
    expect(page.locator("#survival svg.chart")).to_be_visible()
    screenshot(page, "persistency-head")
    with page.expect_download() as info:
        page.click("text=CSV 내려받기")
    rows = list(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
    assert {r[1] for r in rows[1:]} == {"기획부"}
