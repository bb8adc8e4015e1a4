"""What the app does for one policyholder message: SQL statements (by kind), commits, Bot API
calls and custom-action calls, counted while one verified policyholder chats with the real
model. The app and its action server run in this process, so SQLAlchemy's engine events see
every statement of both; Rasa runs as its own process.

Run: .venv/bin/python -m bench.statements [--messages 40] [--show]
(``--show`` prints every distinct statement with its count per message.)
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench._stack import SENTENCES, SETTLE_SECONDS, verified_chats

FIRST_USER_ID = 8_500_001
_WORDS = re.compile(r"\s+")


class Counts:
    """Every statement and commit of every engine in this process, while ``counting``."""

    def __init__(self) -> None:
        self.counting = False
        self.statements: Counter[str] = Counter()
        self.commits = 0
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.counting:
            self.statements[_WORDS.sub(" ", statement.strip())] += 1

    def _commit(self, conn: Any) -> None:
        if self.counting:
            self.commits += 1


def kind(statement: str) -> str:
    words = statement.split()
    if words[0] in {"INSERT", "DELETE"}:
        return f"{words[0]} {words[2]}"
    if words[0] == "UPDATE":
        return f"UPDATE {words[1]}"
    table = re.search(r" FROM (\w+)", statement)
    return f"{words[0]} {table.group(1) if table else ''}".strip()


async def measure(messages: int, show: bool) -> None:
    counts = Counts()
    with tempfile.TemporaryDirectory() as tmp:
        async with verified_chats(Path(tmp), users=1, first_user_id=FIRST_USER_ID) as (
            stack,
            (user,),
        ):
            telegram = stack.telegram
            for warm_up in SENTENCES:  # compile and cache every statement first
                before = len(telegram.sent(user))
                telegram.push_text(user, warm_up)
                await telegram.wait_for_count(user, before + 1, timeout=120)
                await asyncio.sleep(0.5)
            calls_before = Counter(call.method for call in telegram.calls)
            counts.counting = True
            for i in range(messages):
                before = len(telegram.sent(user))
                telegram.push_text(user, SENTENCES[i % len(SENTENCES)])
                await telegram.wait_for_count(user, before + 1, timeout=120)
                await asyncio.sleep(SETTLE_SECONDS)
            await asyncio.sleep(1.0)  # the last answer's remaining parts and their bookkeeping
            counts.counting = False
            calls = Counter(call.method for call in telegram.calls) - calls_before
    per = 1 / messages
    total = sum(counts.statements.values())
    by_kind: Counter[str] = Counter()
    for statement, n in counts.statements.items():
        by_kind[kind(statement)] += n
    print(f"{messages} messages, the app's work per message:")
    print(f"  SQL statements {total * per:.1f}   commits {counts.commits * per:.1f}")
    for name, n in by_kind.most_common():
        print(f"    {n * per:5.2f}  {name}")
    print("  Bot API calls " + ", ".join(f"{m} {n * per:.2f}" for m, n in calls.most_common()))
    if show:
        for statement, n in counts.statements.most_common():
            print(f"{n * per:5.2f}  {statement[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--show", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.messages, arguments.show))


if __name__ == "__main__":
    main()
