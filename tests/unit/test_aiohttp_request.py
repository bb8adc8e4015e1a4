"""The Bot API transport on aiohttp: what Telegram answers reaches python-telegram-bot as it
would through its own httpx transport, over real HTTP to the fake Bot API."""

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.aiohttp_request import AiohttpRequest
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import free_port


def _bot(fake: FakeTelegram, request: AiohttpRequest) -> Bot:
    return Bot(fake.token, base_url=fake.base_url, request=request, get_updates_request=request)


async def test_messages_buttons_and_updates_go_through() -> None:
    async with FakeTelegram() as fake, _bot(fake, AiohttpRequest()) as bot:
        message = await bot.send_message(900001, "안녕하세요, 밀착이에요.")
        assert [m.text for m in fake.sent(900001)] == ["안녕하세요, 밀착이에요."]
        assert message.message_id == fake.sent(900001)[0].message_id
        fake.push_text(4242, "대출 받고 싶어요")
        [update] = await bot.get_updates(timeout=1)
        assert update.effective_message is not None
        assert update.effective_message.text == "대출 받고 싶어요"


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("flood", RetryAfter),
        ("not_modified", BadRequest),
        ("blocked", Forbidden),
        ("server_error", NetworkError),
    ],
)
async def test_telegrams_bad_days_raise_what_python_telegram_bot_raises(
    kind: str, error: type[Exception]
) -> None:
    async with FakeTelegram() as fake, _bot(fake, AiohttpRequest()) as bot:
        fault = fake.fail("sendMessage", kind, retry_after=3)
        with pytest.raises(error) as raised:
            await bot.send_message(900001, "안녕하세요")
        assert fault.fired == 1
        if isinstance(raised.value, RetryAfter):
            assert raised.value.retry_after == 3


async def test_an_answer_slower_than_the_read_timeout_is_timed_out() -> None:
    async with FakeTelegram() as fake, _bot(fake, AiohttpRequest(read_timeout=0.5)) as bot:
        fake.fail("sendMessage", "timeout", hang=3.0)
        with pytest.raises(TimedOut):
            await bot.send_message(900001, "안녕하세요", read_timeout=0.5, write_timeout=0.1)


async def test_a_refused_connection_is_a_network_error() -> None:
    bot = Bot("123:ABC", base_url=f"http://127.0.0.1:{free_port()}/bot", request=AiohttpRequest())
    await bot.request.initialize()  # Bot.initialize would call getMe first
    try:
        with pytest.raises(NetworkError, match="aiohttp"):
            await bot.send_message(900001, "안녕하세요")
    finally:
        await bot.request.shutdown()
