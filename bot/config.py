"""Settings read from the environment (prefix ``MILCHAK_``) and an optional ``.env`` file."""

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.tracker_store import DEFAULT_SESSION_EVENTS

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# What Telegram accepts as a webhook's secret_token.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The action and Rasa tokens travel in a query string and through endpoints.yml's ${…}.
SHARED_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,256}")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MILCHAK_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./milchak.db"
    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_poll_interval: float = 0.0
    # Updates handled at once across chats; one chat's updates always run one after another.
    telegram_concurrency: int = 8
    # "typing…" shows once an answer has taken this long: most come sooner, and an indicator
    # that vanishes at once is one Bot API call per message for nothing.
    telegram_typing_after: float = Field(default=0.5, ge=0)
    telegram_bot_username: str = "milchak_bot"  # for employee invite links
    # Public HTTPS base URL (e.g. https://bot.example.com) that Telegram POSTs updates to, at
    # /telegram; unset = polling. The secret comes back in every POST's header.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    # Several Rasa replicas (comma-separated base URLs): each policyholder goes to one of them
    # by consistent hashing (bot/rasa_ring.py), to the next while it is down. Unset = rasa_url.
    rasa_urls: Annotated[tuple[str, ...], NoDecode] = ()
    # Redis for Rasa's lock store, shared by Rasa replicas (redis://[:password@]host:port/db);
    # unset = Rasa's in-memory lock store, enough for one Rasa process.
    redis_url: str | None = None
    # `milchak run --replicas N`: app replica i listens on web_port + i (metrics_port + i).
    # Each webhook update of a chat is claimed in the database for this long, renewed while it
    # is handled; a replica that died holding one is taken over once it runs out.
    chat_claim_lease_seconds: float = 30.0
    # Bind the web port with SO_REUSEPORT: the replicas of `milchak run --replicas` share it and
    # the kernel spreads connections over them (Rasa's action calls too).
    web_reuse_port: bool = False
    rasa_timeout: float = 15.0
    rasa_model_dir: Path = PROJECT_ROOT / "models"
    # Rasa's conversation trackers (half-filled forms), next to the app database by default;
    # a sync SQLAlchemy URL or an async one (the driver is dropped): sqlite or postgresql.
    rasa_tracker_url: str = "sqlite:///./milchak-trackers.db"
    # Rasa starts a new session (slots carried over) once the current one holds this many events
    # and the bot waits for no answer (bot.rasa_tracker_store): a turn's cost stays flat however
    # long a chat grows. About 8 events a turn: 40 is some five turns. Rasa replays, and posts to
    # every action, the whole session each turn: one Rasa served 8 senders 16 msg/s at 200, 22 at 40.
    rasa_session_events: int = Field(default=DEFAULT_SESSION_EVENTS, ge=20)
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    # Rasa sends this with every custom-action call (endpoints.yml); /actions/webhook refuses
    # calls without it. `make setup` writes a random one into .env; `milchak run` on loopback
    # makes one up for the run when it is unset.
    action_token: SecretStr | None = None
    # Rasa's HTTP API and REST channel answer only requests carrying this (the app's client
    # sends it); `milchak run` makes one up for the Rasa it starts when it is unset.
    rasa_token: SecretStr | None = None
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
    # A retention task (unpaid premium) must see a call or visit within this many office hours.
    sla_retention_business_hours: float = 16.0
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
    # The daily retention job: from this hour (Seoul) it gives each unpaid premium still in its
    # grace period to the policyholder's employee; it looks again every retention_interval s.
    retention_enabled: bool = True
    retention_hour: int = 9
    retention_interval: float = 600.0
    # Also remind the policyholder in the bot (amount, how to pay, the last day). Off by default:
    # the insurer decides whether a chatbot may send payment reminders.
    retention_reminder: bool = False
    # Send the admin session cookie over HTTPS only (set true behind TLS in production).
    admin_cookie_secure: bool = False
    # Operations (bot/supervisor.py, bot/health.py, bot/metrics.py). /metrics has its own
    # listener, loopback by default; elsewhere it needs the bearer token.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9108  # 0 = no /metrics listener
    metrics_token: SecretStr | None = None
    # Telegram chat ids of the admins told when Rasa is down or the outbox is stuck.
    alert_chat_ids: Annotated[tuple[int, ...], NoDecode] = ()
    alert_rasa_down_seconds: float = 180.0
    # Readiness fails (and the admins are told) when an outbox message waits longer than this.
    outbox_max_age_seconds: float = 300.0
    health_interval: float = 15.0
    rasa_probe_interval: float = 2.0
    rasa_probe_failures: int = 3  # probes in a row before a running Rasa counts as hung
    rasa_restart_limit: int = 5  # restarts at most this many times within the window
    rasa_restart_window_seconds: float = 600.0
    # A restarted Rasa still loading its model after this long is restarted again; a model
    # load takes ~30 s on a free core, minutes on a busy machine.
    rasa_start_timeout_seconds: float = 600.0

    @field_validator("extra_holidays", mode="before")
    @classmethod
    def _split_dates(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("rasa_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        return value

    @field_validator("redis_url")
    @classmethod
    def _empty_redis_is_none(cls, value: str | None) -> str | None:
        return value.strip() if value and value.strip() else None

    @property
    def rasa_replica_urls(self) -> tuple[str, ...]:
        """Every Rasa the app talks to: ``rasa_urls``, or the one ``rasa_url``."""
        return self.rasa_urls or (self.rasa_url.rstrip("/"),)

    @field_validator("alert_chat_ids", mode="before")
    @classmethod
    def _split_chat_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("telegram_token", "metrics_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        # .env.example's empty MILCHAK_TELEGRAM_TOKEN= means "no token": the terminal chat.
        return None if value is None or not value.get_secret_value().strip() else value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        # Telegram only calls HTTPS; plain http is allowed on loopback for tests and local proxies.
        if not parts.hostname or not (
            parts.scheme == "https"
            or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)
        ):
            raise ValueError(
                "MILCHAK_TELEGRAM_WEBHOOK_URL은 https:// 로 시작하는 공개 주소여야 합니다 "
                "(must be a public https:// base URL, e.g. https://bot.example.com)"
            )
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(
                "MILCHAK_TELEGRAM_WEBHOOK_SECRET은 영문자, 숫자, _ , - 로 된 1~256자여야 합니다 "
                "(Telegram allows 1-256 characters of A-Z a-z 0-9 _ -)"
            )
        return value

    @field_validator("action_token", "rasa_token")
    @classmethod
    def _shared_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not SHARED_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError(
                "MILCHAK_ACTION_TOKEN과 MILCHAK_RASA_TOKEN은 영문자, 숫자, _ , - 로 된 16~256자여야 "
                "합니다 (16-256 characters of A-Z a-z 0-9 _ -; e.g. `openssl rand -hex 32`)"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Self:
        if self.telegram_webhook_url is not None and self.telegram_webhook_secret is None:
            raise ValueError(
                "MILCHAK_TELEGRAM_WEBHOOK_URL을 설정하면 MILCHAK_TELEGRAM_WEBHOOK_SECRET도 "
                "설정해야 합니다 (a webhook URL requires a webhook secret)"
            )
        return self


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (a listener there is not reachable from outside)."""
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
