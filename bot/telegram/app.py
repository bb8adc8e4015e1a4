"""Build the python-telegram-bot Application; only the runner starts it."""

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, ContextTypes

from bot import texts
from bot.config import Settings
from bot.rasa_client import RasaClient
from bot.services.chat_claims import ChatClaims
from bot.services.ledger import record_bot_notice, update_was_stored
from bot.services.sla import Deadlines
from bot.telegram import employee, policyholder, webhook
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.context import SERVICES_KEY, BotServices, services
from bot.telegram.ordering import ChatOrderedUpdateProcessor

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every handler error and tell the user, promising their words were kept only if so."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        sessions = services(context).sessions
        stored = await update_was_stored(sessions, update.update_id)
        apology = texts.ERROR_STORED if stored else texts.ERROR_NOT_STORED
        if update.effective_chat.type == "private":  # the ledger first, as for every reply
            await record_bot_notice(sessions, chat_id=update.effective_chat.id, text=apology)
        try:
            await context.bot.send_message(update.effective_chat.id, apology)
        except Exception:  # Telegram itself may be the problem
            log.warning("could not tell the user about the error", exc_info=True)


def build_application(
    *, settings: Settings, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient
) -> Application:
    """Application wired to settings (the base URL lets tests point it at a fake Bot API)."""
    assert settings.telegram_token is not None, "MILCHAK_TELEGRAM_TOKEN is required for Telegram"
    application = (
        Application.builder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        # aiohttp instead of httpx under the Bot API calls: see bot/telegram/aiohttp_request.py.
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        # Chats no longer wait for each other (Rasa takes up to ~0.6 s a message); within a
        # chat, updates still run one at a time in arrival order.
        .concurrent_updates(
            ChatOrderedUpdateProcessor(
                settings.telegram_concurrency,
                # Behind a webhook several replicas may each get updates of one chat.
                ChatClaims(sessions, lease=settings.chat_claim_lease_seconds)
                if settings.telegram_webhook_url is not None
                else None,
            )
        )
        .build()
    )
    application.bot_data[SERVICES_KEY] = BotServices(
        settings=settings,
        sessions=sessions,
        rasa=rasa,
        deadlines=Deadlines.from_settings(settings),
    )
    # Employee handlers run first (group -1) so employees never reach the policyholder flow.
    employee.register(application)
    policyholder.register(application)
    application.add_error_handler(on_error)
    webhook.install(application)
    return application
