"""``milchak run`` and ``milchak chat``: the whole stack, on Telegram or in the terminal."""

import logging

import click
from pydantic import ValidationError

from bot import event_loop
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
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    default=1,
    help="앱 프로세스 수 (2 이상: PostgreSQL, 웹훅 모드)",
)
@click.option(
    "--rasa-replicas",
    type=click.IntRange(min=1),
    default=None,
    help="Rasa 프로세스 수 (2 이상: MILCHAK_REDIS_URL, PostgreSQL 대화 저장소); 기본 1",
)
def run(no_rasa: bool, replicas: int, rasa_replicas: int | None) -> None:
    """Rasa와 앱을 함께 실행합니다 (토큰이 없으면 터미널 상담)."""
    _logging()
    if replicas == 1 and rasa_replicas in (None, 1):
        event_loop.run(serve(_settings(), with_rasa=not no_rasa))
        return
    if no_rasa:
        raise click.UsageError("--no-rasa와 복제본 옵션은 함께 쓸 수 없습니다.")
    from bot.replicas import serve_replicas

    event_loop.run(serve_replicas(_settings(), replicas=replicas, rasa_replicas=rasa_replicas or 1))


@click.command()
@click.option("--no-rasa", is_flag=True, help="Rasa를 따로 실행 중일 때 (MILCHAK_RASA_URL)")
def chat(no_rasa: bool) -> None:
    """데모 계약자 이영숙으로 터미널에서 상담합니다."""
    _logging()
    event_loop.run(serve(_settings(), with_rasa=not no_rasa, chat=True))
