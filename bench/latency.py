"""End-to-end latency of one policyholder message: fake Telegram → app → Rasa → reply.

Run: .venv/bin/python -m bench.latency [--messages 200]
Prints p50 / p90 / p99 in milliseconds, from the update being queued on the fake Bot API to the
bot's last reply arriving there, with the real trained model and a seeded SQLite database.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

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


async def measure(messages: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        database_url, _ = await seeded_database(Path(tmp) / "bench.db")
        async with (
            rasa_server(Path(tmp)) as rasa,
            app_stack(
                database_url=database_url, rasa_url=rasa.url, web_port=rasa.web_port
            ) as stack,
        ):
            telegram, user = stack.telegram, 8_000_001
            telegram.push_text(user, "/start")
            await telegram.wait_for_count(user, 1)
            telegram.push_contact(user, "010-5512-3087", user)
            await telegram.wait_for_count(user, 3)
            telegram.push_text(user, "620417")
            await telegram.wait_for_count(user, 4)
            timings = []
            for i in range(messages):
                before = len(telegram.sent(user))
                started = time.perf_counter()
                telegram.push_text(user, SENTENCES[i % len(SENTENCES)])
                await telegram.wait_for_count(user, before + 1, timeout=30)
                timings.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.05)  # let a multi-message answer finish before the next
            return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    timings = sorted(asyncio.run(measure(args.messages)))
    q = statistics.quantiles(timings, n=100)
    print(f"messages: {len(timings)}")
    print(
        f"first reply latency ms: p50 {q[49]:.0f}  p90 {q[89]:.0f}  p99 {q[98]:.0f}  max {timings[-1]:.0f}"
    )


if __name__ == "__main__":
    main()
