"""What the handlers share, kept in ``application.bot_data``."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.rasa_client import RasaClient
from bot.services.sla import Deadlines


@dataclass(frozen=True)
class BotServices:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    rasa: RasaClient
    deadlines: Deadlines  # what a request opened or handed over here gets


SERVICES_KEY = "services"


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    value = context.bot_data[SERVICES_KEY]
    assert isinstance(value, BotServices)
    return value
