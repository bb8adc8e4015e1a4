"""Soak: `milchak run` (its own Rasa, a seeded SQLite database, polling the fake Bot API) under a
steady stream of policyholder messages for a long time. Not part of `make test`.

Run: .venv/bin/python -m bench.soak [--minutes 30] [--rate 20] [--users 100] [--rasa-replicas 2]

With ``--rasa-replicas N`` (N > 1) it runs `milchak run --rasa-replicas N` as production would:
Rasa's tracker store in a fresh PostgreSQL database (``MILCHAK_TEST_POSTGRES_URL``, else the
local server) and its lock store in Redis (``--redis``); the app's own database stays SQLite.
A short run at a higher rate is the throughput test of that layout.

Messages go out at ``--rate`` per second, each to the next policyholder whose previous message
has been answered (a chat never has two messages in flight, as with a person typing). At the
end, after the last answers and once every message is in the ledger (or ``--timeout`` seconds
have passed), it prints: messages sent, lost (no ledger row, or no answer within ``--timeout``
seconds), and duplicated (a ledger row twice for one update); the first-reply
latency percentiles per 5-minute window; and the resident memory of the app and Rasa processes
at the start (after warm-up) and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench._stack import SENTENCES, policyholders, separate_process, verify_all
from bot.db import session_scope
from bot.db.models import Contact
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.running import RunningMilchak
from tests.auxil.stack import seeded_database

FIRST_USER_ID = 8_500_001
WINDOW_SECONDS = 300


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def with_descendants(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.update(children)
        frontier.extend(children)
    return found


class Soak:
    def __init__(
        self, telegram: FakeTelegram, users: list[int], timeout: float, rasa_replicas: int
    ) -> None:
        self.telegram, self.timeout, self.rasa_replicas = telegram, timeout, rasa_replicas
        self.idle: asyncio.Queue[int] = asyncio.Queue()
        for user in users:
            self.idle.put_nowait(user)
        self.sent: dict[int, int] = {}  # update id → user
        self.expected: dict[int, int] = defaultdict(int)  # user → answers seen so far
        self.timings: list[tuple[float, float]] = []  # (seconds since start, ms)
        self.unanswered: list[int] = []
        self.started = time.perf_counter()

    async def one(self, user: int, text: str) -> None:
        before = len(self.telegram.sent(user))
        started = time.perf_counter()
        update_id = self.telegram.push_text(user, text)
        self.sent[update_id] = user
        try:
            await self.telegram.wait_for_count(user, before + 1, timeout=self.timeout)
            self.timings.append((started - self.started, (time.perf_counter() - started) * 1000))
        except AssertionError:
            self.unanswered.append(update_id)
        await asyncio.sleep(0.3)  # the rest of a multi-message answer
        self.idle.put_nowait(user)

    async def run(self, minutes: float, rate: float) -> None:
        tasks = set()
        end = self.started + minutes * 60
        n = 0
        while time.perf_counter() < end:
            user = await self.idle.get()
            task = asyncio.create_task(self.one(user, SENTENCES[n % len(SENTENCES)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
            # Open loop: the n-th message leaves at n / rate seconds, whatever the answers do.
            await asyncio.sleep(max(0.0, self.started + n / rate - time.perf_counter()))
        await asyncio.gather(*tasks)


async def soak(
    minutes: float, rate: float, users: int, patience: float, rasa_replicas: int, redis_url: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        database_url, sessions = await seeded_database(tmp / "soak.db")
        holders = await policyholders(sessions, users)
        async with separate_process(
            tmp, database_url, rasa_replicas=rasa_replicas, redis_url=redis_url
        ) as (telegram, run, _client):
            ids = [FIRST_USER_ID + n for n in range(users)]
            for chunk in range(0, users, 20):  # a few at a time: verification is not measured
                await verify_all(telegram, ids[chunk : chunk + 20], holders[chunk : chunk + 20])
            start_rss = await _rss(run)
            soak = Soak(telegram, ids, patience, rasa_replicas)
            await soak.run(minutes, rate)
            # Behind its rate, the bot still has updates queued, in the fake Bot API or already
            # fetched and waiting for their chat's turn: those are late, not lost.
            await telegram.wait_until_consumed(timeout=patience)
            drained = await wait_for_ledger(sessions, list(soak.sent), patience)
            print(f"(the last updates reached the ledger {drained:.0f} s after the last message)")
            end_rss = await _rss(run)
            await report(soak, sessions, minutes, rate, start_rss, end_rss)


async def stored_update_ids(
    sessions: async_sessionmaker[AsyncSession], update_ids: list[int]
) -> dict[int, int]:
    """How many ledger rows each of ``update_ids`` has (absent: none)."""
    async with session_scope(sessions) as session:
        rows = await session.execute(
            select(Contact.telegram_update_id, func.count())
            .where(Contact.telegram_update_id.in_(update_ids))
            .group_by(Contact.telegram_update_id)
        )
        return {int(update_id): int(count) for update_id, count in rows.all()}


async def wait_for_ledger(
    sessions: async_sessionmaker[AsyncSession], update_ids: list[int], patience: float
) -> float:
    """Wait until every update is in the ledger, or ``patience`` seconds; the seconds waited.

    A fetched update is stored when its chat's turn comes, which under overload is seconds
    after the fetch; and a late second reply can count as the answer to the next message."""
    started = time.perf_counter()
    while time.perf_counter() - started < patience:
        if len(await stored_update_ids(sessions, update_ids)) == len(set(update_ids)):
            break
        await asyncio.sleep(1)
    return time.perf_counter() - started


async def _rss(run: RunningMilchak) -> tuple[float, float]:
    """Resident memory of the app's processes and of the Rasa processes, in MB (found by
    command line under `milchak run`: with replicas, no app process knows the Rasa pids)."""
    everything = with_descendants(run.process.pid)
    launchers = {pid for pid in everything if "rasa_launcher" in _command_line(pid)}
    rasa = set().union(*(with_descendants(pid) for pid in launchers))
    return sum(map(rss_mb, everything - rasa)), sum(map(rss_mb, rasa))


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


async def report(
    soak: Soak,
    sessions: async_sessionmaker[AsyncSession],
    minutes: float,
    rate: float,
    start_rss: tuple[float, float],
    end_rss: tuple[float, float],
) -> None:
    sent = list(soak.sent)
    rows = await stored_update_ids(sessions, sent)
    missing = [u for u in sent if u not in rows]
    doubled = [u for u, count in rows.items() if count > 1]
    wall = time.perf_counter() - soak.started
    print(
        f"soak: {minutes:g} min at {rate:g} msg/s, {soak.rasa_replicas} Rasa process(es) "
        f"(load now {os.getloadavg()[0]:.2f})"
    )
    print(f"sent {len(sent)} messages in {wall:.0f} s = {len(sent) / wall:.1f} msg/s")
    print(f"lost: {len(missing)} not in the ledger, {len(soak.unanswered)} without an answer")
    print(f"duplicated: {len(doubled)} update ids stored twice")
    print(
        f"RSS app {start_rss[0]:.0f} → {end_rss[0]:.0f} MB ({end_rss[0] - start_rss[0]:+.0f}), "
        f"Rasa {start_rss[1]:.0f} → {end_rss[1]:.0f} MB ({end_rss[1] - start_rss[1]:+.0f})"
    )
    windows: dict[int, list[float]] = defaultdict(list)
    for at, ms in soak.timings:
        windows[int(at // WINDOW_SECONDS)].append(ms)
    for window, values in sorted(windows.items()):
        if len(values) < 2:  # the last messages, sent as time ran out
            continue
        q = statistics.quantiles(sorted(values), n=100, method="inclusive")
        print(
            f"  minutes {window * 5:>3}-{window * 5 + 5:<3} {len(values):>6} answers  "
            f"p50 {q[49]:>5.0f}  p90 {q[89]:>5.0f}  p99 {q[98]:>5.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=20, help="messages per second")
    parser.add_argument("--users", type=int, default=100, help="policyholders taking turns")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for an answer")
    parser.add_argument("--rasa-replicas", type=int, default=1, help="Rasa processes")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7", help="with replicas")
    args = parser.parse_args()
    asyncio.run(
        soak(args.minutes, args.rate, args.users, args.timeout, args.rasa_replicas, args.redis)
    )


if __name__ == "__main__":
    main()
