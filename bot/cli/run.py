"""``milchak run`` and ``milchak chat``: the whole stack, on Telegram or in the terminal."""

import asyncio
import logging

import click
from pydantic import ValidationError

from bot.config import Settings, get_settings
from bot.runner import serve


def _settings() -> Settings:
    """The settings, or a readable exit (pydantic's report would echo secret values)."""
    try:
        return get_settings()
    except ValidationError as error:
        reasons = "\n".join(f"- {e['msg'].removeprefix('Value error, ')}" for e in error.errors())
        raise SystemExit(f"설정 오류 (invalid settings):\n{reasons}") from None


def _logging() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@click.command()
@click.option("--no-rasa", is_flag=True, help="Rasa를 따로 실행 중일 때 (MILCHAK_RASA_URL)")
def run(no_rasa: bool) -> None:
    """Rasa와 앱을 함께 실행합니다 (토큰이 없으면 터미널 상담)."""
    _logging()
    asyncio.run(serve(_settings(), with_rasa=not no_rasa))


@click.command()
@click.option("--no-rasa", is_flag=True, help="Rasa를 따로 실행 중일 때 (MILCHAK_RASA_URL)")
def chat(no_rasa: bool) -> None:
    """데모 계약자 이영숙으로 터미널에서 상담합니다."""
    _logging()
    asyncio.run(serve(_settings(), with_rasa=not no_rasa, chat=True))
