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

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.db import session_scope
from bot.db.models import Policyholder
from bot.services.phones import format_phone
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import app_stack, rasa_server, seeded_database

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
FIRST_USER_ID = 8_000_001
SETTLE_SECONDS = 0.05  # let a multi-message answer finish before the next message


@dataclass
class Result:
    users: int
    timings: list[float]
    seconds: float


async def _holders(sessions: async_sessionmaker[AsyncSession], count: int) -> list[Policyholder]:
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


async def _verify(telegram: FakeTelegram, user: int, holder: Policyholder) -> None:
    telegram.push_text(user, "/start")
    await telegram.wait_for_count(user, 1, timeout=60)
    telegram.push_contact(user, format_phone(holder.phone), user)
    await telegram.wait_for_count(user, 2, timeout=60)  # the birth-date question
    telegram.push_text(user, holder.birth_date.strftime("%y%m%d"))
    await telegram.wait_for_count(user, 3, timeout=60)
    assert "본인 확인이 끝났어요" in telegram.sent(user)[-1].text, telegram.sent(user)[-1].text


async def _chat(telegram: FakeTelegram, user: int, offset: int, messages: int) -> list[float]:
    timings = []
    for i in range(messages):
        before = len(telegram.sent(user))
        started = time.perf_counter()
        telegram.push_text(user, SENTENCES[(offset + i) % len(SENTENCES)])
        await telegram.wait_for_count(user, before + 1, timeout=120)
        timings.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(SETTLE_SECONDS)
    return timings


async def measure(messages: int, users: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        database_url, sessions = await seeded_database(Path(tmp) / "bench.db")
        holders = await _holders(sessions, users)
        async with (
            rasa_server(Path(tmp)) as rasa,
            app_stack(
                database_url=database_url, rasa_url=rasa.url, web_port=rasa.web_port
            ) as stack,
        ):
            telegram = stack.telegram
            ids = [FIRST_USER_ID + n for n in range(users)]
            await asyncio.gather(
                *(_verify(telegram, u, h) for u, h in zip(ids, holders, strict=True))
            )
            started = time.perf_counter()
            per_user = await asyncio.gather(
                *(_chat(telegram, user, n, messages) for n, user in enumerate(ids))
            )
            seconds = time.perf_counter() - started
    return Result(users, [t for timings in per_user for t in timings], seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200, help="messages per user")
    parser.add_argument("--users", type=int, default=1, help="policyholders chatting at once")
    args = parser.parse_args()
    result = asyncio.run(measure(args.messages, args.users))
    timings = sorted(result.timings)
    q = statistics.quantiles(timings, n=100, method="inclusive")  # never beyond max
    print(f"telegram concurrency setting: {Settings().telegram_concurrency}")
    print(f"users: {result.users}  messages: {len(timings)}  wall: {result.seconds:.1f} s")
    print(f"throughput: {len(timings) / result.seconds:.2f} messages/s")
    print(
        f"first reply latency ms: p50 {q[49]:.0f}  p90 {q[89]:.0f}  p99 {q[98]:.0f}  max {timings[-1]:.0f}"
    )


if __name__ == "__main__":
    main()
