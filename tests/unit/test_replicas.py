"""What several app and Rasa replicas rely on: the sender → Rasa ring with failover, the chat
claims that keep one chat's webhook updates in order across app replicas, and background jobs
that act once per due item when two replicas run them at the same moment."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.clock import Clock, FrozenClock, set_clock
from bot.db import create_engine_and_sessions
from bot.db.engine import session_scope
from bot.db.models import ChatClaim, OutboxMessage, Request, RequestEvent
from bot.rasa_client import PARSE_HEADER, RasaClient, RasaUnavailable
from bot.rasa_ring import HashRing
from bot.services.chat_claims import ChatClaims
from bot.services.escalation import escalate_due
from bot.services.sla import Deadlines
from tests.auxil.employees import build_org, freeze, new_request
from tests.auxil.stack import free_port
from tests.auxil.waiting import eventually

SENDERS = [f"ph{n}" for n in range(1, 2001)]
URLS = ["http://127.0.0.1:5005", "http://127.0.0.1:5006", "http://127.0.0.1:5007"]


# --- the ring -------------------------------------------------------------------------------


def test_each_sender_has_one_replica_and_they_share_the_senders_evenly() -> None:
    ring = HashRing(URLS)
    owners = [ring.node_for(s) for s in SENDERS]
    assert owners == [HashRing(list(reversed(URLS))).node_for(s) for s in SENDERS]  # stable
    for url in URLS:
        share = owners.count(url) / len(SENDERS)
        assert 0.2 < share < 0.47, (url, share)


def test_removing_a_replica_moves_only_its_own_senders() -> None:
    full, smaller = HashRing(URLS), HashRing(URLS[:2])
    for sender in SENDERS:
        before = full.node_for(sender)
        if before != URLS[2]:
            assert smaller.node_for(sender) == before
        else:  # the removed replica's senders go to where they failed over before
            assert smaller.node_for(sender) == full.preference(sender)[1]


def test_the_preference_list_holds_every_replica_once_owner_first() -> None:
    ring = HashRing(URLS)
    for sender in SENDERS[:200]:
        order = ring.preference(sender)
        assert sorted(order) == sorted(URLS) and order[0] == ring.node_for(sender)
    assert HashRing(URLS[:1]).preference("ph1") == URLS[:1]
    with pytest.raises(ValueError):
        HashRing([])


class FakeRasa:
    """A stand-in Rasa REST channel on loopback that names itself in its reply."""

    def __init__(self, name: str) -> None:
        self.name, self.port = name, free_port()
        self.senders: list[str] = []

    async def webhook(self, request: HttpRequest) -> JSONResponse:
        body = await request.json()
        self.senders.append(body["sender"])
        parse = '{"intent": "greet", "confidence": 0.9}'
        return JSONResponse([{"text": self.name}], headers={PARSE_HEADER: parse})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def two_rasas() -> AsyncIterator[list[FakeRasa]]:
    fakes = [FakeRasa("a"), FakeRasa("b")]
    servers = []
    for fake in fakes:
        app = Starlette(routes=[Route("/webhooks/rest/webhook", fake.webhook, methods=["POST"])])
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=fake.port, log_level="warning")
        )
        servers.append((server, asyncio.create_task(server.serve())))
    await eventually(lambda: all(server.started for server, _ in servers))
    yield fakes
    for server, task in servers:
        server.should_exit = True
        await task


async def test_the_client_sends_each_sender_to_its_replica_and_fails_over(
    two_rasas: list[FakeRasa],
) -> None:
    a, b = two_rasas
    client = RasaClient([a.url, b.url], timeout=5)
    try:
        senders = SENDERS[:40]
        for sender in senders:
            parse, replies = await client.turn(sender, "안녕하세요")
            assert parse.intent == "greet" and parse.confidence == 0.9
            assert [r.text for r in replies] == [
                "a" if client.ring.node_for(sender) == a.url else "b"
            ]
        assert a.senders and b.senders  # both replicas got some senders …
        assert not set(a.senders) & set(b.senders)  # … and no sender went to both
        # A replica that refuses connections (down): its senders go to the other one.
        dead = f"http://127.0.0.1:{free_port()}"
        failing = RasaClient([dead, b.url], timeout=5)
        try:
            for sender in senders:
                assert [r.text for r in await failing.send(sender, "네")] == ["b"]
        finally:
            await failing.close()
        alone = RasaClient([dead], timeout=5)
        try:
            with pytest.raises(RasaUnavailable):
                await alone.send("ph1", "네")
        finally:
            await alone.close()
    finally:
        await client.close()


# --- chat claims ----------------------------------------------------------------------------


@pytest.fixture
async def replicas(db_url: str) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    """Two app replicas: separate engines (connection pools) on one database."""
    made = [create_engine_and_sessions(db_url) for _ in range(2)]
    yield [sessions for _, sessions in made]
    for engine, _ in made:
        await engine.dispose()


async def _claims_left(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ChatClaim)) or 0)


async def test_one_chats_updates_run_one_at_a_time_in_update_order_across_replicas(
    replicas: list[async_sessionmaker[AsyncSession]],
) -> None:
    claims = [ChatClaims(sessions, lease=10) for sessions in replicas]
    log: list[tuple[int, str]] = []

    async def handle(replica: ChatClaims, update_id: int) -> None:
        async with replica.turn(42, update_id):
            log.append((update_id, "start"))
            await asyncio.sleep(0.02)
            log.append((update_id, "end"))

    updates = list(range(101, 109))
    # Every update has reached a replica before any of them runs (Telegram sent them all) …
    for update_id in updates:
        await claims[update_id % 2].enqueue(42, update_id)
    # … and the replicas take them up in any order.
    shuffled = random.Random(7).sample(updates, len(updates))
    await asyncio.gather(*(handle(claims[u % 2], u) for u in shuffled), handle(claims[0], 7))
    # Another chat (7) is not held up by chat 42; chat 42's updates never overlap, in order.
    chat_42 = [entry for entry in log if entry[0] != 7]
    assert chat_42 == [(u, step) for u in updates for step in ("start", "end")]
    assert await _claims_left(replicas[0]) == 0


async def test_a_dead_replicas_chat_is_taken_over_after_its_lease(
    replicas: list[async_sessionmaker[AsyncSession]],
) -> None:
    dead, alive = ChatClaims(replicas[0], lease=0.5), ChatClaims(replicas[1], lease=10)
    await dead.enqueue(42, 1)
    assert await dead.try_hold(42, 1)  # … and the process dies holding it: no release
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with alive.turn(42, 2):
        waited = loop.time() - started
    assert 0.3 < waited < 5
    assert await _claims_left(replicas[0]) == 0


async def test_a_live_replica_keeps_its_chat_while_it_works(
    replicas: list[async_sessionmaker[AsyncSession]],
) -> None:
    slow, other = ChatClaims(replicas[0], lease=0.3), ChatClaims(replicas[1], lease=0.3)
    order: list[str] = []

    async def long_turn() -> None:
        async with slow.turn(42, 1):
            order.append("slow start")
            await asyncio.sleep(1.2)  # four leases: renewed meanwhile
            order.append("slow end")

    async def next_turn() -> None:
        await asyncio.sleep(0.1)
        async with other.turn(42, 2):
            order.append("next")

    await asyncio.gather(long_turn(), next_turn())
    assert order == ["slow start", "slow end", "next"]


async def test_an_update_sent_again_waits_for_the_replica_handling_it(
    replicas: list[async_sessionmaker[AsyncSession]],
) -> None:
    first, second = ChatClaims(replicas[0], lease=10), ChatClaims(replicas[1], lease=10)
    order: list[str] = []

    async def handle(replica: ChatClaims, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with replica.turn(42, 5):
            order.append(f"{name} start")
            await asyncio.sleep(0.3)
            order.append(f"{name} end")

    # Telegram re-sends update 5 (a timeout) while the first replica still handles it.
    await asyncio.gather(handle(first, "first", 0), handle(second, "again", 0.1))
    assert order == ["first start", "first end", "again start", "again end"]
    assert await _claims_left(replicas[0]) == 0


# --- background jobs ------------------------------------------------------------------------


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    yield freeze()
    set_clock(Clock())


async def test_two_replicas_escalating_at_once_move_each_request_once(
    db_url: str, replicas: list[async_sessionmaker[AsyncSession]], frozen: FrozenClock
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite is the single-process default: replicas need PostgreSQL")
    org = await build_org(replicas[0])
    opened = [await new_request(replicas[0], org, kind="funeral") for _ in range(30)]
    frozen.advance(timedelta(hours=1))

    async def escalate(sessions: async_sessionmaker[AsyncSession]) -> int:
        moved = 0
        while True:
            async with session_scope(sessions) as session:
                batch = await escalate_due(
                    session, now=frozen.now(), deadlines=Deadlines(), limit=4
                )
            if not batch:
                return moved
            moved += batch

    moved = await asyncio.gather(*(escalate(s) for s in replicas for _ in range(2)))
    assert sum(moved) == len(opened)
    async with replicas[0]() as session:
        events = await session.scalars(
            select(RequestEvent.request_id).where(RequestEvent.action == "escalated")
        )
        assert sorted(events.all()) == sorted(r.id for r in opened)
        alerts = await session.scalar(
            select(func.count()).where(OutboxMessage.purpose == "escalation")
        )
        assert alerts == len(opened)


async def test_two_replicas_opening_requests_at_once_get_distinct_references(
    db_url: str, replicas: list[async_sessionmaker[AsyncSession]], frozen: FrozenClock
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite is the single-process default: replicas need PostgreSQL")
    org = await build_org(replicas[0])
    opened = await asyncio.gather(
        *(new_request(replicas[n % 2], org, kind="complaint") for n in range(12))
    )
    references = [r.reference for r in opened]
    assert len(set(references)) == 12
    async with replicas[0]() as session:
        assert await session.scalar(select(func.count()).select_from(Request)) == 12


# --- milchak run --replicas -----------------------------------------------------------------


def test_replicas_are_refused_without_what_they_share() -> None:
    from bot.config import Settings
    from bot.replicas import replica_environment, replica_metrics_port, replica_problems

    lone = Settings(_env_file=None)  # type: ignore[call-arg]
    assert replica_problems(lone, replicas=1, rasa_replicas=1) == []
    problems = "\n".join(replica_problems(lone, replicas=2, rasa_replicas=2))
    assert "PostgreSQL이 필요" in problems  # the app database
    assert "웹훅" in problems
    assert "MILCHAK_REDIS_URL" in problems
    assert "PostgreSQL 대화 저장소" in problems
    ready = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url="postgresql+asyncpg://m@db/m",
        rasa_tracker_url="postgresql://m@db/rasa",
        redis_url="redis://127.0.0.1:6379/1",
        telegram_token="123:abc",
        telegram_webhook_url="https://bot.example.com",
        telegram_webhook_secret="s3cret",
        action_token="a" * 20,
        rasa_token="r" * 20,
        metrics_port=9108,
    )
    assert replica_problems(ready, replicas=3, rasa_replicas=2) == []
    env = replica_environment(ready, index=1, rasa_urls=["http://127.0.0.1:5005", "http://x:5006"])
    assert env["MILCHAK_RASA_URLS"] == "http://127.0.0.1:5005,http://x:5006"
    assert env["MILCHAK_WEB_REUSE_PORT"] == "true"
    assert env["MILCHAK_METRICS_PORT"] == "9110" == str(replica_metrics_port(ready, 1))
    assert env["MILCHAK_RASA_TOKEN"] == "r" * 20
