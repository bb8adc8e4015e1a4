"""End-to-end latency of policyholder messages: fake Telegram → app → Rasa → reply.

Run: .venv/bin/python -m bench.latency [--messages 200] [--users 8]
Each of ``--users`` verified policyholders sends ``--messages`` messages, one after another
(the next once the previous one has been answered), all users at the same time. Prints the
throughput (messages/s over the wall time) and p50 / p90 / p99 in milliseconds, from an update
being queued on the fake Bot API to the bot's first reply to it arriving there, with the real
trained model and a seeded SQLite database. The app handles updates as configured: compare
with ``MILCHAK_TELEGRAM_CONCURRENCY=1`` (one update at a time across all chats).
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench._stack import timed_chat, verified_chats
from bot.config import Settings

FIRST_USER_ID = 8_000_001


@dataclass
class Result:
    users: int
    timings: list[float]
    seconds: float


async def measure(messages: int, users: int, concurrency: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        async with verified_chats(
            Path(tmp), users=users, first_user_id=FIRST_USER_ID, concurrency=concurrency
        ) as (stack, ids):
            started = time.perf_counter()
            per_user = await asyncio.gather(
                *(timed_chat(stack.telegram, user, n, messages) for n, user in enumerate(ids))
            )
            seconds = time.perf_counter() - started
    return Result(users, [t for timings in per_user for t in timings], seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200, help="messages per user")
    parser.add_argument("--users", type=int, default=1, help="policyholders chatting at once")
    args = parser.parse_args()
    concurrency = Settings().telegram_concurrency
    result = asyncio.run(measure(args.messages, args.users, concurrency))
    timings = sorted(result.timings)
    q = statistics.quantiles(timings, n=100, method="inclusive")  # never beyond max
    print(f"telegram concurrency setting: {concurrency}")
    print(f"users: {result.users}  messages: {len(timings)}  wall: {result.seconds:.1f} s")
    print(f"throughput: {len(timings) / result.seconds:.2f} messages/s")
    print(
        f"first reply latency ms: p50 {q[49]:.0f}  p90 {q[89]:.0f}  p99 {q[98]:.0f}  max {timings[-1]:.0f}"
    )


if __name__ == "__main__":
    main()
