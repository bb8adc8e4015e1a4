"""Settings read from the environment (prefix ``MILCHAK_``) and an optional ``.env`` file."""

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MILCHAK_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./milchak.db"
    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_poll_interval: float = 0.0
    # Updates handled at once across chats; one chat's updates always run one after another.
    telegram_concurrency: int = 8
    telegram_bot_username: str = "milchak_bot"  # for employee invite links
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 15.0
    rasa_model_dir: Path = PROJECT_ROOT / "models"
    # Rasa's conversation trackers (half-filled forms), next to the app database by default;
    # a sync SQLAlchemy URL or an async one (the driver is dropped): sqlite or postgresql.
    rasa_tracker_url: str = "sqlite:///./milchak-trackers.db"
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    secret_key: SecretStr = SecretStr("change-me-in-production")
    company_phone: str = "1588-0000"
    timezone: str = "Asia/Seoul"
    outbox_interval: float = 1.0
    escalation_interval: float = 30.0
    # Acknowledgement deadlines before a request escalates (deputy, then head).
    sla_funeral_hours: float = 1.0
    sla_loan_business_hours: float = 4.0
    sla_complaint_hours: float = 24.0
    sla_default_hours: float = 48.0
    business_hours_start: int = 9
    business_hours_end: int = 18
    # Days the loan desk is closed besides weekends and the public holidays in
    # bot/services/holidays.py: company days off, newly announced holidays. Comma-separated
    # ISO dates, e.g. MILCHAK_EXTRA_HOLIDAYS=2026-12-31,2027-01-02.
    extra_holidays: Annotated[tuple[date, ...], NoDecode] = ()
    # Last week's department digest goes to each head from this time on (Seoul), weekday 0 =
    # Monday; a process that was down then catches up until the week is over.
    weekly_digest_weekday: int = 0
    weekly_digest_hour: int = 8
    weekly_digest_interval: float = 300.0
    # Send the admin session cookie over HTTPS only (set true behind TLS in production).
    admin_cookie_secure: bool = False

    @field_validator("extra_holidays", mode="before")
    @classmethod
    def _split_dates(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
