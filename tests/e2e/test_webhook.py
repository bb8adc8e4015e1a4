"""Webhook mode end to end: the fake Bot API POSTs updates to the app's /telegram route, the real
Application and Rasa model answer, and the answer to Telegram comes after the ledger has it."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update

from bot.db import session_scope
from bot.db.models import Contact
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import WEBHOOK_SECRET, app_stack, free_port
from tests.e2e.conftest import QUIET_SECONDS, Customer, HolderPool, SessionWorld

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def text_update(telegram: FakeTelegram, user_id: int, text: str) -> dict[str, Any]:
    """A text update built by hand (not queued), to POST it with ``FakeTelegram.deliver``."""
    return {
        "update_id": telegram.next_update_id(),
        "message": {
            "message_id": 98_000 + user_id % 1000,
            "date": 1_790_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "사용자"},
            "from": {"id": user_id, "is_bot": False, "first_name": "사용자"},
            "text": text,
        },
    }


async def inbound_rows(world: SessionWorld, update_id: int) -> list[Contact]:
    async with session_scope(world.stack.sessions) as session:
        return list(
            await session.scalars(select(Contact).where(Contact.telegram_update_id == update_id))
        )


async def test_webhook_mode_answers_stores_first_and_only_once(
    world: SessionWorld, holders: HolderPool
) -> None:
    web_port = free_port()
    async with app_stack(
        database_url=world.database_url,
        rasa_url=world.rasa.url,
        web_port=web_port,
        first_update_id=2_000_000,  # the shared database already holds other fakes' update ids
        workers=False,  # the session stack's outbox worker delivers alerts, to its own fake
        webhook=True,
    ) as stack:
        telegram = stack.telegram
        [registered] = telegram.calls_to("setWebhook")
        assert registered.params["url"] == f"http://127.0.0.1:{web_port}/telegram"
        assert registered.params["secret_token"] == WEBHOOK_SECRET
        assert registered.params["allowed_updates"] == Update.ALL_TYPES
        assert registered.params.get("drop_pending_updates") in (None, False)
        assert telegram.webhook_url.endswith("/telegram")
        assert not telegram.calls_to("getUpdates")

        # Verification through Telegram's own delivery loop (queued, POSTed in order).
        customer = Customer(telegram, holders.take())
        await customer.verify()
        assert telegram.deliveries and all(d.status == 200 for d in telegram.deliveries)

        # One message POSTed by hand: when the POST returns 200, the reply went out and the
        # message is in the ledger (with what Rasa understood).
        before = len(telegram.sent(customer.user_id))
        update = text_update(telegram, customer.user_id, "안녕하세요")
        assert await telegram.deliver(update) == 200
        replies = telegram.sent(customer.user_id)[before:]
        assert replies and "안녕하세요" in replies[0].text
        [stored] = await inbound_rows(world, update["update_id"])
        assert stored.direction == "in" and stored.text == "안녕하세요" and stored.intent

        # Telegram delivering the same update again: acknowledged, not answered twice.
        assert await telegram.deliver(dict(update)) == 200
        await asyncio.sleep(QUIET_SECONDS * 2)
        assert len(telegram.sent(customer.user_id)) == before + len(replies)
        assert len(await inbound_rows(world, update["update_id"])) == 1

        # Someone else POSTing without the secret: refused, nothing stored or answered.
        forged = text_update(telegram, customer.user_id, "대출 받고 싶어요")
        assert await telegram.deliver(forged, secret="not-the-secret") == 403
        assert await telegram.deliver(forged, secret="") == 403
        await asyncio.sleep(QUIET_SECONDS * 2)
        assert await inbound_rows(world, forged["update_id"]) == []
        assert len(telegram.sent(customer.user_id)) == before + len(replies)

        # The queued path also answers a normal message.
        reply = await customer.say("고마워요")
        assert reply

    async with session_scope(world.stack.sessions) as session:
        count = await session.scalar(
            select(func.count()).where(Contact.telegram_user_id == customer.user_id)
        )
    assert count and count >= 4
