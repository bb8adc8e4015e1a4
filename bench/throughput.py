"""Throughput and first-reply latency of milchak next to the bare Rasa turn, in one run.

Run: .venv/bin/python -m bench.throughput [--users 1,8,32,64] [--messages 10] [--workers 1,2]
                                           [--long 1000] [--concurrency 32] [--app process]

For each number of Rasa workers (processes, each policyholder on one by consistent hashing):

- **bare Rasa turn**: ``--users`` senders each post ``--messages`` messages straight to Rasa's
  REST channel (with the Rasa token; the app serves the custom actions), one after another per
  sender, all senders at once;
- **milchak end to end**: as many verified policyholders each send the same messages through
  the fake Bot API (polling), the next once the previous was answered; the time runs from the
  update being queued to the bot's first reply arriving there.

Both print messages/s and p50/p90/p99 in ms. ``--app`` says where the app runs:

- ``process`` (the default): `milchak run` in its own process, as an operator runs it, with its
  own Rasa processes (``--workers`` > 1: `milchak run --rasa-replicas N`, Rasa's trackers in a
  fresh PostgreSQL database and its locks in Redis, as production has them); the fake Bot API
  and the policyholders stay in this process, as Telegram and its users are elsewhere too;
- ``inline``: the app in this process, next to the fake Bot API and the policyholders (one
  process's CPU for all three; Rasa's trackers in SQLite).

``--long N`` then has one policyholder send N messages and prints the end-to-end turn time
around the 1st, 100th and N-th message (mean of ten turns each), to see whether a turn gets
dearer as the conversation grows. The machine's
1-minute load average is printed next to each figure: other processes share the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench._stack import (
    SENTENCES,
    SETTLE_SECONDS,
    policyholders,
    running,
    separate_process,
    timed_chat,
    verify_all,
)
from bot.rasa_client import RasaClient
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import seeded_database

FIRST_USER_ID = 8_100_001


@dataclass
class Figures:
    label: str
    timings: list[float]  # ms
    seconds: float
    load: float

    def line(self) -> str:
        ordered = sorted(self.timings)
        q = statistics.quantiles(ordered, n=100, method="inclusive")
        rate = len(ordered) / self.seconds
        return (
            f"{self.label:<28} {len(ordered):>5} msgs {rate:>6.1f} msg/s  "
            f"p50 {q[49]:>5.0f}  p90 {q[89]:>5.0f}  p99 {q[98]:>5.0f} ms  (load {self.load:.2f})"
        )


def load_average() -> float:
    return os.getloadavg()[0]


async def _bare_sender(client: RasaClient, sender: str, offset: int, messages: int) -> list[float]:
    timings = []
    for i in range(messages):
        started = time.perf_counter()
        await client.send(sender, SENTENCES[(offset + i) % len(SENTENCES)])
        timings.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(SETTLE_SECONDS)
    return timings


async def bare_rasa(client: RasaClient, senders: list[str], messages: int) -> Figures:
    started = time.perf_counter()
    per_sender = await asyncio.gather(
        *(_bare_sender(client, s, n, messages) for n, s in enumerate(senders))
    )
    seconds = time.perf_counter() - started
    return Figures(
        f"bare Rasa, {len(senders)} senders",
        [t for ts in per_sender for t in ts],
        seconds,
        load_average(),
    )


async def end_to_end(telegram: FakeTelegram, users: list[int], messages: int) -> Figures:
    started = time.perf_counter()
    per_user = await asyncio.gather(
        *(timed_chat(telegram, u, n, messages) for n, u in enumerate(users))
    )
    seconds = time.perf_counter() - started
    return Figures(
        f"milchak, {len(users)} policyholders",
        [t for ts in per_user for t in ts],
        seconds,
        load_average(),
    )


async def measure(args: argparse.Namespace) -> None:
    levels = [int(n) for n in args.users.split(",")]
    most = max(levels)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        database_url, sessions = await seeded_database(tmp / "bench.db")
        holders = await policyholders(sessions, 2 * most + 1)
        app_holders, bare_holders, long_holder = (
            holders[:most],
            holders[most : 2 * most],
            holders[-1],
        )
        next_update_id = 1
        for workers in [int(n) for n in args.workers.split(",")]:
            print(
                f"\n== {workers} Rasa worker(s), app {args.app}, concurrency {args.concurrency} =="
            )
            loading = time.perf_counter()
            async with stack_for(
                args.app, tmp, database_url, workers, args.concurrency, next_update_id
            ) as (
                telegram,
                client,
            ):
                print(f"(ready after {time.perf_counter() - loading:.0f} s)")
                user_ids = [FIRST_USER_ID + 1000 * workers + n for n in range(most + 1)]
                await verify_all(telegram, user_ids, [*app_holders, long_holder])
                for level in levels:
                    senders = [f"ph{h.id}" for h in bare_holders[:level]]
                    print((await bare_rasa(client, senders, args.messages)).line())
                    print((await end_to_end(telegram, user_ids[:level], args.messages)).line())
                if args.long and workers == 1:
                    await conversation_length(telegram, user_ids[-1], args.long)
                next_update_id = telegram.next_update_id()


@asynccontextmanager
async def stack_for(
    app: str, tmp: Path, database_url: str, workers: int, concurrency: int, first_update_id: int
) -> AsyncIterator[tuple[FakeTelegram, RasaClient]]:
    """The fake Bot API the policyholders write to, and a client on the same Rasa processes."""
    if app == "inline":
        async with running(
            tmp,
            database_url,
            workers=workers,
            concurrency=concurrency,
            first_update_id=first_update_id,
        ) as (stack, client):
            yield stack.telegram, client
        return
    async with separate_process(
        tmp,
        database_url,
        rasa_replicas=workers,
        concurrency=concurrency,
        first_update_id=first_update_id,
    ) as (telegram, _run, client):
        yield telegram, client


async def conversation_length(telegram: FakeTelegram, user: int, messages: int) -> None:
    """One policyholder's ``messages`` turns; prints as it goes (a long run may be cut short)."""
    print(f"\nturn time vs conversation length (one policyholder, {messages} messages):")
    timings: list[float] = []
    marks = sorted({1, 100, messages} | set(range(100, messages + 1, 100)))
    for mark in marks:
        timings += await timed_chat(telegram, user, len(timings), mark + 5 - len(timings))
        window = timings[:10] if mark == 1 else timings[mark - 5 : mark + 5]
        print(
            f"  around message {mark:>5}: mean {statistics.fmean(window):6.0f} ms"
            f"  (load {load_average():.2f})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", default="1,8,32,64", help="concurrent policyholders, a list")
    parser.add_argument("--messages", type=int, default=10, help="messages per policyholder")
    parser.add_argument("--workers", default="1,2", help="Rasa processes to try, a list")
    parser.add_argument("--long", type=int, default=1000, help="one long conversation (0 = off)")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="MILCHAK_TELEGRAM_CONCURRENCY of the app"
    )
    parser.add_argument(
        "--app", choices=["process", "inline"], default="process", help="where the app runs"
    )
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
