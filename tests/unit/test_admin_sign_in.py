"""Signing in to the console over HTTP: parallel wrong passwords lock the account, and signing
out ends the session on the server (a copied cookie stops working)."""

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.services.admin_users import MAX_FAILED_LOGINS, change_password, create_admin_user
from bot.web import create_web_app

PASSWORD = "올바른-비밀번호-1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def console(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.ASGITransport]:
    async with sessions() as session:
        await create_admin_user(session, username="kim", password=PASSWORD, role="admin")
        await session.commit()
    settings = Settings(_env_file=None, secret_key="unit-test-" + "k" * 32)  # type: ignore[call-arg]
    yield httpx.ASGITransport(app=create_web_app(sessions, settings))


def browser(transport: httpx.ASGITransport) -> httpx.AsyncClient:
    """A client with its own cookie jar, like one browser."""
    return httpx.AsyncClient(transport=transport, base_url="http://console")


async def sign_in(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/admin/login")
    match = _CSRF.search(form.text)
    assert match, form.text
    return await client.post(
        "/admin/login",
        data={"csrf_token": match.group(1), "username": "kim", "password": password, "next": ""},
    )


@pytest.mark.postgres
async def test_twenty_parallel_wrong_passwords_lock_the_account(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with console(sessions) as transport:
        clients = [browser(transport) for _ in range(20)]
        try:
            answers = await asyncio.gather(
                *(sign_in(c, f"guess-{n}") for n, c in enumerate(clients))
            )
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))
        statuses = [a.status_code for a in answers]
        assert statuses.count(401) == MAX_FAILED_LOGINS - 1  # only these were checked
        assert statuses.count(429) == 20 - (MAX_FAILED_LOGINS - 1)
        async with browser(transport) as owner:
            refused = await sign_in(owner)  # the right password, too late
        assert refused.status_code == 429 and "계정이 잠겼습니다" in refused.text


async def test_a_copied_cookie_dies_at_logout(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with console(sessions) as transport, browser(transport) as client:
        assert (await sign_in(client)).status_code == 303
        copied = dict(client.cookies)
        page = await client.get("/admin/")
        assert page.status_code == 200
        csrf = _CSRF.search(page.text)
        assert csrf
        await client.post("/admin/logout", data={"csrf_token": csrf.group(1)})
        async with browser(transport) as thief:
            thief.cookies.update(copied)
            stolen = await thief.get("/admin/")
        assert stolen.status_code == 303
        assert stolen.headers["location"].startswith("/admin/login")


async def test_a_password_change_ends_open_sessions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with console(sessions) as transport, browser(transport) as client:
        assert (await sign_in(client)).status_code == 303
        assert (await client.get("/admin/")).status_code == 200
        async with sessions() as session:
            await change_password(session, username="kim", password="새-비밀번호-2345")
            await session.commit()
        after = await client.get("/admin/")
        assert after.status_code == 303 and after.headers["location"].startswith("/admin/login")
