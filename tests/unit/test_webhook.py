"""Webhook mode: its settings, the fake Bot API's webhook side, and the /telegram route's answers
(with the real Application and handlers on a migrated database; Rasa is not needed)."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot import texts
from bot.config import Settings
from bot.db.models import Contact
from bot.rasa_client import RasaClient
from bot.telegram import policyholder
from bot.telegram.app import build_application
from bot.web import create_web_app
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.stack import free_port

SECRET = "unit_webhook-secret"


# ---------------------------------------------------------------- settings
def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_webhook_url_without_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="MILCHAK_TELEGRAM_WEBHOOK_SECRET"):
        settings(telegram_webhook_url="https://bot.example.com")


@pytest.mark.parametrize("secret", ["has space", "비밀", "semi;colon", "a" * 257, "slash/"])
def test_webhook_secret_must_use_telegrams_characters(secret: str) -> None:
    with pytest.raises(ValidationError, match="1~256"):
        settings(telegram_webhook_url="https://bot.example.com", telegram_webhook_secret=secret)


def test_webhook_url_must_be_https_except_on_loopback() -> None:
    with pytest.raises(ValidationError, match="https://"):
        settings(telegram_webhook_url="http://bot.example.com", telegram_webhook_secret="s")
    local = settings(telegram_webhook_url="http://127.0.0.1:8000", telegram_webhook_secret="s")
    assert local.telegram_webhook_url == "http://127.0.0.1:8000"


def test_valid_webhook_settings_and_polling_default() -> None:
    configured = settings(
        telegram_webhook_url="https://bot.example.com/",
        telegram_webhook_secret="A-z_09" + "x" * 250,
    )
    assert configured.telegram_webhook_url == "https://bot.example.com"  # /telegram is appended
    assert settings().telegram_webhook_url is None
    assert settings(telegram_webhook_url="").telegram_webhook_url is None


# ---------------------------------------------------------------- the fake's webhook side
class _QuietServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def receiver(statuses: list[int]) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A tiny webhook endpoint answering the given statuses in turn (then 200)."""
    got: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        got.append(
            {
                "secret": request.headers.get("x-telegram-bot-api-secret-token"),
                "update": await request.json(),
            }
        )
        return Response(status_code=statuses.pop(0) if statuses else 200)

    port = free_port()
    server = _QuietServer(
        uvicorn.Config(
            Starlette(routes=[Route("/telegram", hook, methods=["POST"])]),
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 5 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/telegram", got
    finally:
        server.should_exit = True
        await task


async def test_fake_delivers_by_post_with_the_secret_and_retries_until_2xx() -> None:
    async with (
        FakeTelegram(webhook_retry_delay=0.05) as fake,
        receiver([500, 200]) as (url, got),
    ):
        bot = Bot(fake.token, base_url=fake.base_url)
        async with bot:
            with pytest.raises(BadRequest, match=r"(?i)https url"):
                await bot.set_webhook("http://bot.example.com/telegram")
            with pytest.raises(BadRequest, match=r"(?i)secret token"):
                await bot.set_webhook(url, secret_token="bad secret")
            assert await bot.set_webhook(url, secret_token=SECRET, allowed_updates=Update.ALL_TYPES)
            info = await bot.get_webhook_info()
            assert info.url == url and info.pending_update_count == 0
            assert info.allowed_updates == tuple(Update.ALL_TYPES)
            with pytest.raises(Conflict):
                await bot.get_updates()

            update_id = fake.push_text(4242, "안녕하세요")
            ok = await fake.wait_for_delivery(update_id)
            assert [d.status for d in fake.deliveries_of(update_id)] == [500, 200]
            assert ok.status == 200
            assert [g["secret"] for g in got] == [SECRET, SECRET]
            assert got[-1]["update"]["message"]["text"] == "안녕하세요"
            info = await bot.get_webhook_info()
            assert info.pending_update_count == 0
            assert info.last_error_message == "Wrong response from the webhook: 500"

            assert await fake.deliver(fake.updates[-1], secret="intruder") == 200
            assert got[-1]["secret"] == "intruder"

            assert await bot.delete_webhook()
            assert (await bot.get_webhook_info()).url == ""
            fake.push_text(4242, "다시")
            [polled] = await bot.get_updates(timeout=1)
            assert polled.message is not None and polled.message.text == "다시"


# ---------------------------------------------------------------- the /telegram route
class WebhookClient:
    """The web app with /telegram, the real Application behind it, and a way to POST."""

    def __init__(self, fake: FakeTelegram, application: Application, client: httpx.AsyncClient):
        self.fake, self.application, self.client = fake, application, client

    async def post(self, body: Any, *, secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        content = body if isinstance(body, bytes) else None
        response = await self.client.post(
            "/telegram", headers=headers, content=content, json=None if content else body
        )
        return response.status_code

    def update(self, user_id: int, text: str) -> dict[str, Any]:
        """A text update as Telegram would send it (queued on the fake only for its ids)."""
        update_id = self.fake.push_text(user_id, text)
        return next(u for u in self.fake.updates if u["update_id"] == update_id)


@asynccontextmanager
async def webhook_route(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[WebhookClient]:
    async with FakeTelegram() as fake:
        config = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_token=SecretStr(fake.token),
            telegram_base_url=fake.base_url,
            telegram_webhook_url="http://127.0.0.1:9",  # never registered: the test POSTs itself
            telegram_webhook_secret=SecretStr(SECRET),
        )
        rasa = RasaClient(f"http://127.0.0.1:{free_port()}")
        application = build_application(settings=config, sessions=sessions, rasa=rasa)
        web = create_web_app(sessions, config, telegram=application)
        transport = httpx.ASGITransport(app=web)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://app") as client,
            application,
        ):
            route = WebhookClient(fake, application, client)
            assert await route.post(route.update(1, "/start")) == 503  # not started yet
            await application.start()
            try:
                yield route
            finally:
                await application.stop()
        await rasa.close()


async def contacts(sessions: async_sessionmaker[AsyncSession], update_id: int) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(Contact.telegram_update_id == update_id)
        )
    return int(count or 0)


async def test_route_stores_and_answers_before_200(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with webhook_route(sessions) as route:
        update = route.update(5_100_001, "/start")
        assert await route.post(update) == 200
        # Acknowledged only now: the message is in the ledger and the reply was sent.
        assert await contacts(sessions, update["update_id"]) == 1
        assert [m.text for m in route.fake.sent(5_100_001)] == [texts.WELCOME]

        assert await route.post(update) == 200  # Telegram re-delivering: dropped, not answered
        assert await contacts(sessions, update["update_id"]) == 1
        assert len(route.fake.sent(5_100_001)) == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
async def test_route_refuses_a_wrong_secret(
    sessions: async_sessionmaker[AsyncSession], secret: str | None
) -> None:
    async with webhook_route(sessions) as route:
        update = route.update(5_100_002, "/start")
        assert await route.post(update, secret=secret) == 403
        assert await contacts(sessions, update["update_id"]) == 0
        assert route.fake.sent(5_100_002) == []


async def test_route_refuses_a_bad_body(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with webhook_route(sessions) as route:
        assert await route.post(b"{not json") == 400
        assert await route.post([1, 2]) == 400


async def test_handler_failure_after_storing_is_acknowledged(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def after(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("after the message was stored")

    async with webhook_route(sessions) as route:
        route.application.add_handler(MessageHandler(filters.ALL, after), group=10)
        update = route.update(5_100_003, "/start")
        assert await route.post(update) == 200  # a retry would only be dropped as a duplicate
        assert await contacts(sessions, update["update_id"]) == 1
        assert route.fake.sent(5_100_003)[-1].text == texts.ERROR_STORED  # told, truthfully
        async with sessions() as session:  # … and the apology is in the ledger like any reply
            apology = await session.scalar(
                select(Contact).where(
                    Contact.text == texts.ERROR_STORED, Contact.direction == "out"
                )
            )
        assert apology is not None and apology.telegram_user_id == 5_100_003


async def test_failure_before_storing_asks_telegram_to_retry(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def store_fails(*args: object, **kwargs: object) -> None:
        raise OSError("the database is down")

    async with webhook_route(sessions) as route:
        with monkeypatch.context() as patch:
            patch.setattr(policyholder, "record_inbound_once", store_fails)
            update = route.update(5_100_004, "/start")
            assert await route.post(update) == 500
        assert await contacts(sessions, update["update_id"]) == 0
        # Nothing was kept, so the apology must not promise that it was.
        assert route.fake.sent(5_100_004)[-1].text == texts.ERROR_NOT_STORED
        # The retry, once the database is back, is the real handling.
        assert await route.post(update) == 200
        assert await contacts(sessions, update["update_id"]) == 1
        assert route.fake.sent(5_100_004)[-1].text == texts.WELCOME
