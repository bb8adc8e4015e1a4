"""The stack the end-to-end benchmarks measure, and the policyholders that chat with it.

A seeded SQLite database, one or more `rasa run` processes on the trained model, the app
against the fake Bot API (polling), and verified policyholders who send everyday sentences
and time the bot's first reply. ``bench.latency``, ``bench.throughput``,
``bench.telegram_faults`` and ``bench.soak`` all start from here, so their figures compare.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import session_scope
from bot.db.models import Policyholder
from bot.rasa_client import RasaClient
from bot.services.phones import format_phone
from tests.auxil.databases import POSTGRES_URL_ENV, database_copy, drop_templates
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.running import RunningMilchak, milchak_run_with_rasa
from tests.auxil.stack import RASA_TOKEN, Stack, app_stack, free_port, rasa_server, seeded_database

SENTENCES = (
    "안녕하세요",
    "내 보험 뭐 있는지 알려주세요",
    "책 살 때 할인되는 서비스가 있으면 좋겠어요",
    "고마워요",
    "대출 받고 싶어요",
    "취소",
    "오늘 날씨 어때요",
    "아니요",
)
SETTLE_SECONDS = 0.05  # let a multi-message answer finish before the next message
APP_CONCURRENCY = 8  # tests.auxil.stack's default for MILCHAK_TELEGRAM_CONCURRENCY
LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def policyholders(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> list[Policyholder]:
    """Policyholders whose phone number is theirs alone (verification needs no tie-break)."""
    async with session_scope(sessions) as session:
        unique_phones = (
            select(Policyholder.phone).group_by(Policyholder.phone).having(func.count() == 1)
        )
        rows = await session.scalars(
            select(Policyholder)
            .where(Policyholder.phone.in_(unique_phones))
            .order_by(Policyholder.id)
            .limit(count)
        )
        holders = list(rows)
    assert len(holders) == count, f"only {len(holders)} policyholders to chat as"
    return holders


async def verify(telegram: FakeTelegram, user: int, holder: Policyholder) -> None:
    """Telegram user ``user`` proves to be ``holder``: /start, contact, birth date."""
    telegram.push_text(user, "/start")
    await telegram.wait_for_count(user, 1, timeout=60)
    telegram.push_contact(user, format_phone(holder.phone), user)
    await telegram.wait_for_count(user, 2, timeout=60)  # the birth-date question
    telegram.push_text(user, holder.birth_date.strftime("%y%m%d"))
    await telegram.wait_for_count(user, 3, timeout=60)
    assert "본인 확인이 끝났어요" in telegram.sent(user)[-1].text, telegram.sent(user)[-1].text


async def verify_all(telegram: FakeTelegram, users: list[int], holders: list[Policyholder]) -> None:
    """Each of ``users`` proves to be the policyholder at the same place, all at once."""
    await asyncio.gather(*(verify(telegram, u, h) for u, h in zip(users, holders, strict=True)))


async def timed_chat(telegram: FakeTelegram, user: int, offset: int, messages: int) -> list[float]:
    """Send ``messages`` of the sentences from ``offset`` on, each once the previous one was
    answered; return the time to each first reply in ms."""
    timings = []
    for i in range(messages):
        before = len(telegram.sent(user))
        started = time.perf_counter()
        telegram.push_text(user, SENTENCES[(offset + i) % len(SENTENCES)])
        await telegram.wait_for_count(user, before + 1, timeout=120)
        timings.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(SETTLE_SECONDS)
    return timings


@asynccontextmanager
async def running(
    tmp: Path,
    database_url: str,
    *,
    workers: int = 1,
    concurrency: int = APP_CONCURRENCY,
    first_update_id: int = 1,
) -> AsyncIterator[tuple[Stack, RasaClient]]:
    """``workers`` Rasa processes (loaded at once) and the app, sharing the action endpoint;
    with a Rasa client for the bare turn (each sender on its replica, as the app does).

    A second stack on the same database must start at a ``first_update_id`` above the first
    stack's: Telegram never repeats an update id, and the app drops one it has stored."""
    web_port = free_port()
    async with AsyncExitStack() as exits:
        servers = []
        for n in range(workers):
            directory = tmp / f"rasa-{n}"
            directory.mkdir(exist_ok=True)
            servers.append(
                await exits.enter_async_context(rasa_server(directory, web_port=web_port))
            )
        urls = [server.url for server in servers]
        stack = await exits.enter_async_context(
            app_stack(
                database_url=database_url,
                rasa_url=urls[0],
                rasa_urls=urls if workers > 1 else None,
                web_port=web_port,
                telegram_concurrency=concurrency,
                first_update_id=first_update_id,
            )
        )
        client = RasaClient(urls if workers > 1 else urls[0], token=RASA_TOKEN, timeout=120)
        try:
            yield stack, client
        finally:
            await client.close()


@asynccontextmanager
async def verified_chats(
    tmp: Path, *, users: int, first_user_id: int, concurrency: int = APP_CONCURRENCY
) -> AsyncIterator[tuple[Stack, list[int]]]:
    """A seeded database, one Rasa and the app, and ``users`` Telegram users (ids from
    ``first_user_id`` on) verified as as many policyholders."""
    database_url, sessions = await seeded_database(tmp / "bench.db")
    holders = await policyholders(sessions, users)
    async with running(tmp, database_url, concurrency=concurrency) as (stack, _client):
        ids = [first_user_id + n for n in range(users)]
        await verify_all(stack.telegram, ids, holders)
        yield stack, ids


@asynccontextmanager
async def rasa_settings(
    tmp: Path, rasa_replicas: int, redis_url: str
) -> AsyncIterator[dict[str, str]]:
    """Extra `milchak run` settings for ``rasa_replicas``: none for one, else Redis and a fresh
    PostgreSQL database for Rasa's trackers (dropped afterwards)."""
    if rasa_replicas == 1:
        yield {}
        return
    os.environ.setdefault(POSTGRES_URL_ENV, LOCAL_POSTGRES)
    try:
        async with database_copy("postgres", tmp) as url:
            tracker_url = make_url(url).set(drivername="postgresql")
            yield {
                "MILCHAK_RASA_TRACKER_URL": tracker_url.render_as_string(hide_password=False),
                "MILCHAK_REDIS_URL": redis_url,
            }
    finally:
        await drop_templates()


@asynccontextmanager
async def separate_process(
    tmp: Path,
    database_url: str,
    *,
    rasa_replicas: int = 1,
    concurrency: int = APP_CONCURRENCY,
    first_update_id: int = 1,
    redis_url: str = "redis://127.0.0.1:6379/7",
) -> AsyncIterator[tuple[FakeTelegram, RunningMilchak, RasaClient]]:
    """`milchak run` as an operator runs it (its own process, its own Rasa processes; with
    replicas, Rasa's trackers in PostgreSQL and its locks in Redis), polling the fake Bot API
    that runs here; with a Rasa client on the same Rasa processes for the bare turn."""
    async with (
        rasa_settings(tmp, rasa_replicas, redis_url) as settings,
        FakeTelegram(first_update_id=first_update_id) as telegram,
        milchak_run_with_rasa(
            telegram,
            tmp,
            database_url,
            rasa_replicas=rasa_replicas,
            MILCHAK_RASA_TOKEN=RASA_TOKEN,
            MILCHAK_TELEGRAM_CONCURRENCY=str(concurrency),
            **settings,
        ) as run,
    ):
        await run.wait_ready(within=600)
        urls = [f"http://127.0.0.1:{run.rasa_port + n}" for n in range(rasa_replicas)]
        client = RasaClient(urls if rasa_replicas > 1 else urls[0], token=RASA_TOKEN, timeout=120)
        try:
            yield telegram, run, client
        finally:
            await client.close()
