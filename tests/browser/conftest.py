"""A real console for browser tests: migrated SQLite database with fixture data, uvicorn on a
free loopback port in a background thread, and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from bot import clock
from bot.config import Settings
from bot.db import create_engine_and_sessions
from bot.db.migrate import upgrade
from bot.services.admin_users import create_admin_user
from bot.web import create_web_app
from tests.auxil.admin_data import NOW, PASSWORD, AdminData, build_admin_data

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
LOCK_USER = "locktest"

pytestmark = pytest.mark.browser


@dataclass
class Console:
    base: str
    data: AdminData


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Module scope: Playwright's sync API keeps an event loop running while it is open, which
# would stop the asyncio tests of later modules from starting their own.
@pytest.fixture(scope="module")
def console_clock() -> Iterator[None]:
    """The fixture data's "now" (the Monday after its week), so SLA breaches and default weeks
    read the same whatever day the suite runs; the real clock is back afterwards, however the
    console fixture ends."""
    real_clock = clock.clock
    clock.set_clock(clock.FrozenClock(NOW))
    yield
    clock.set_clock(real_clock)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, console_clock: None) -> Iterator[Console]:
    """Serve the web app over HTTP on loopback while the browser tests run."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('console') / 'console.db'}"
    port = _free_port()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        engine, sessions = create_engine_and_sessions(url)
        try:
            await upgrade(engine)
            holder["data"] = await build_admin_data(sessions)
            async with sessions() as session:
                await create_admin_user(
                    session, username=LOCK_USER, password=PASSWORD, role="admin"
                )
                await session.commit()
            app = create_web_app(sessions, Settings(secret_key="browser-test-" + "k" * 32))
            config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
            server = uvicorn.Server(config)
            holder["server"] = server
            task = asyncio.create_task(server.serve())
            while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
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
    assert ready.wait(30), "console did not start"
    if "error" in holder:
        raise RuntimeError("console failed to start") from holder["error"]  # type: ignore[arg-type]
    data = holder["data"]
    assert isinstance(data, AdminData)
    yield Console(base=f"http://127.0.0.1:{port}", data=data)
    server = holder["server"]
    assert isinstance(server, uvicorn.Server)
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian chromium is not installed: run `make test` (scripts/system-deps.sh)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="ko-KR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Page, console: Console, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{console.base}/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
