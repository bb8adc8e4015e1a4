"""How many customer messages survive Telegram failing on the calls that only decorate a turn.

Run: .venv/bin/python -m bench.telegram_faults [--messages 20] [--users 2]
     [--method sendChatAction] [--fault server_error]

Verified policyholders each send ``--messages`` messages (one after another, the next once the
previous one was answered or 10 s passed) while the fake Bot API answers every ``--method``
call with ``--fault`` (see ``tests.auxil.fake_telegram.FAULTS``). Prints, for the messages sent
after verification: how many are in the ledger (an inbound row with their update id), how many
got an answer that is not an apology, and how many apologies were sent — with the real trained
model, the real app and a seeded SQLite database.
"""

import argparse
import asyncio
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from bench._stack import SENTENCES, verified_chats
from bot import texts
from bot.db import session_scope
from bot.db.models import Contact
from tests.auxil.fake_telegram import FAULTS, FakeTelegram

APOLOGIES = (texts.ERROR_STORED, texts.ERROR_NOT_STORED)
FIRST_USER_ID = 8_000_001
ANSWER_WAIT = 10.0


async def _chat(telegram: FakeTelegram, user: int, offset: int, messages: int) -> list[int]:
    """Send the messages; return their update ids."""
    updates = []
    for i in range(messages):
        before = len(telegram.sent(user))
        updates.append(telegram.push_text(user, SENTENCES[(offset + i) % len(SENTENCES)]))
        try:
            await telegram.wait_for_count(user, before + 1, timeout=ANSWER_WAIT)
        except AssertionError:
            pass  # not answered: counted below
        await asyncio.sleep(0.3)  # a multi-message answer finishes
    return updates


async def measure(messages: int, users: int, method: str, fault: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        async with verified_chats(Path(tmp), users=users, first_user_id=FIRST_USER_ID) as (
            stack,
            ids,
        ):
            telegram = stack.telegram
            before = {u: len(telegram.sent(u)) for u in ids}
            injected = telegram.fail(method, fault, times=None, hang=6.0)
            updates = await asyncio.gather(
                *(_chat(telegram, user, n, messages) for n, user in enumerate(ids))
            )
            sent_ids = [u for per_user in updates for u in per_user]
            async with session_scope(stack.sessions) as session:
                stored = await session.scalar(
                    select(func.count(Contact.id)).where(Contact.telegram_update_id.in_(sent_ids))
                )
            replies = [m for u in ids for m in telegram.sent(u)[before[u] :]]
            apologies = sum(any(a in m.text for a in APOLOGIES) for m in replies)
            answered_messages = _answered(telegram, ids, updates, before)
    total = len(sent_ids)
    return (
        f"{method} answering {fault} ({injected.fired} times): "
        f"{stored} of {total} messages stored, {answered_messages} of {total} answered, "
        f"{apologies} apologies"
    )


def _answered(
    telegram: FakeTelegram, ids: list[int], updates: list[list[int]], before: dict[int, int]
) -> int:
    """Messages followed by at least one bot message that is not an apology, per chat, in order."""
    answered = 0
    for user, user_updates in zip(ids, updates, strict=True):
        # The fake numbers messages in one sequence: a bot message with a larger id than the
        # customer's message and a smaller one than the next customer message answers it.
        customer_ids = [
            next(u["message"]["message_id"] for u in telegram.updates if u["update_id"] == up)
            for up in user_updates
        ]
        bot = [m for m in telegram.sent(user)[before[user] :] if m.text.strip()]
        bounds = [*customer_ids[1:], float("inf")]
        for start, end in zip(customer_ids, bounds, strict=True):
            if any(
                start < m.message_id < end and not any(a in m.text for a in APOLOGIES) for m in bot
            ):
                answered += 1
    return answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20, help="messages per user")
    parser.add_argument("--users", type=int, default=2, help="policyholders chatting at once")
    parser.add_argument("--method", default="sendChatAction")
    parser.add_argument("--fault", default="server_error", choices=sorted(FAULTS))
    args = parser.parse_args()
    print(asyncio.run(measure(args.messages, args.users, args.method, args.fault)))


if __name__ == "__main__":
    main()
