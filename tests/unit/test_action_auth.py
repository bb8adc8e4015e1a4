"""The doors that do not face Telegram: the action endpoint's token, `milchak run`'s refusals,
the secrets `make setup` writes, and what a tracker can (not) make the actions disclose."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions.server import sender_id_for
from bot.admin.app import weak_secret
from bot.config import PROJECT_ROOT, Settings
from bot.db import session_scope
from bot.db.models import Policy, Policyholder, Request
from bot.runner import with_run_tokens
from bot.tokens import is_loopback, token_matches
from bot.web import create_web_app
from scripts.ensure_secrets import SECRETS, ensure

TOKEN = "unit-action-token-0123456789abcdef"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def policy_question(sender: str) -> dict[str, Any]:
    """What Rasa posts to run action_answer_policy for ``sender`` (the audit's curl)."""
    return {
        "next_action": "action_answer_policy",
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": {"text": "내 보험 알려주세요", "intent": {"name": "ask_policy"}},
            "events": [],
        },
    }


async def _lee(sessions: async_sessionmaker[AsyncSession]) -> Policyholder:
    async with session_scope(sessions) as session:
        lee = await session.scalar(select(Policyholder).where(Policyholder.phone == "01055123087"))
        assert lee is not None
        return lee


async def _post(
    sessions: async_sessionmaker[AsyncSession],
    config: Settings,
    body: dict[str, Any],
    **request: Any,
) -> httpx.Response:
    app = create_web_app(sessions, config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.post("/actions/webhook", json=body, **request)


@pytest.mark.parametrize(
    "request_options",
    [
        {},
        {"params": {"token": "wrong-token-0123456789abcdef"}},
        {"params": {"token": TOKEN[:-1]}},
        {"headers": {"Authorization": f"Basic {TOKEN}"}},
        {"params": {"token": ""}},
    ],
    ids=["none", "wrong", "prefix", "not-bearer", "empty"],
)
async def test_action_endpoint_refuses_callers_without_the_token(
    demo_sessions: async_sessionmaker[AsyncSession], request_options: dict[str, Any]
) -> None:
    lee = await _lee(demo_sessions)
    config = settings(action_token=SecretStr(TOKEN))
    response = await _post(
        demo_sessions, config, policy_question(sender_id_for(lee.id)), **request_options
    )
    assert response.status_code == 401
    assert "KL-1994-000123" not in response.text
    async with demo_sessions() as session:
        assert await session.scalar(select(Request.id)) is None


async def test_action_endpoint_is_closed_when_no_token_is_configured(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    lee = await _lee(demo_sessions)
    response = await _post(demo_sessions, settings(), policy_question(sender_id_for(lee.id)))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "request_options",
    [{"params": {"token": TOKEN}}, {"headers": {"Authorization": f"Bearer {TOKEN}"}}],
    ids=["rasa-query-token", "bearer"],
)
async def test_action_endpoint_answers_rasa_with_the_token(
    demo_sessions: async_sessionmaker[AsyncSession], request_options: dict[str, Any]
) -> None:
    lee = await _lee(demo_sessions)
    config = settings(action_token=SecretStr(TOKEN))
    response = await _post(
        demo_sessions, config, policy_question(sender_id_for(lee.id)), **request_options
    )
    assert response.status_code == 200
    assert "KL-1994-000123" in response.json()["responses"][0]["text"]


async def test_a_tracker_cannot_widen_what_an_action_shows(
    demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Slots name another holder's policy: the actions only ever look at the sender's own."""
    lee = await _lee(demo_sessions)
    async with demo_sessions() as session:
        other = await session.scalar(
            select(Policy).where(Policy.policyholder_id != lee.id, Policy.loan_limit > 100_000)
        )
        assert other is not None
    slots = {"loan_policy": other.number, "loan_amount": 1_000_000}
    body = {
        "next_action": "action_ask_loan_confirm",
        "tracker": {
            "sender_id": sender_id_for(lee.id),
            "slots": slots,
            "latest_message": {"text": "네", "intent": {"name": "affirm"}},
            "events": [],
            "active_loop": {"name": "loan_form"},
        },
    }
    config = settings(action_token=SecretStr(TOKEN))
    response = await _post(demo_sessions, config, body, params={"token": TOKEN})
    assert response.status_code == 200
    assert other.number not in response.text
    assert "1,000,000" not in response.text  # nothing was confirmed for the foreign policy


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("bot.example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_token_comparison() -> None:
    assert token_matches(TOKEN, SecretStr(TOKEN))
    assert not token_matches(TOKEN + "x", SecretStr(TOKEN))
    assert not token_matches(None, SecretStr(TOKEN))
    assert not token_matches(TOKEN, None)


def test_run_refuses_a_public_web_host_without_an_action_token() -> None:
    with pytest.raises(SystemExit, match="MILCHAK_ACTION_TOKEN"):
        with_run_tokens(settings(web_host="0.0.0.0"), starts_rasa=True)


def test_run_refuses_an_outside_rasa_without_both_tokens() -> None:
    with pytest.raises(SystemExit, match="MILCHAK_ACTION_TOKEN"):
        with_run_tokens(settings(), starts_rasa=False)
    with pytest.raises(SystemExit, match="MILCHAK_RASA_TOKEN"):
        with_run_tokens(settings(action_token=SecretStr(TOKEN)), starts_rasa=False)
    both = settings(action_token=SecretStr(TOKEN), rasa_token=SecretStr(TOKEN[::-1]))
    assert with_run_tokens(both, starts_rasa=False) == both


def test_run_makes_up_tokens_for_its_own_rasa_on_loopback() -> None:
    first = with_run_tokens(settings(), starts_rasa=True)
    second = with_run_tokens(settings(), starts_rasa=True)
    assert first.action_token is not None and first.rasa_token is not None
    assert first.action_token.get_secret_value() != second.action_token.get_secret_value()  # type: ignore[union-attr]
    configured = settings(web_host="0.0.0.0", action_token=SecretStr(TOKEN))
    kept = with_run_tokens(configured, starts_rasa=True)
    assert kept.action_token == SecretStr(TOKEN) and kept.rasa_token is not None


@pytest.mark.parametrize("token", ["short", "has space in it 0123456789", "dollar$0123456789abc"])
def test_tokens_must_be_long_and_url_safe(token: str) -> None:
    with pytest.raises(ValidationError, match="16~256"):
        settings(action_token=token)
    assert settings(action_token="").action_token is None


def test_setup_writes_missing_secrets_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, _ in SECRETS:
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text("MILCHAK_TELEGRAM_TOKEN=123:abc\nMILCHAK_SECRET_KEY=my-own-key\n")
    assert ensure(env) == ["MILCHAK_ACTION_TOKEN", "MILCHAK_RASA_TOKEN"]
    text = env.read_text()
    assert "MILCHAK_SECRET_KEY=my-own-key" in text and "MILCHAK_TELEGRAM_TOKEN=123:abc" in text
    assert ensure(env) == []  # never rewritten
    assert env.read_text() == text
    assert env.stat().st_mode & 0o077 == 0
    loaded = Settings(_env_file=env)  # type: ignore[call-arg]
    assert loaded.action_token is not None and loaded.rasa_token is not None
    assert loaded.action_token != loaded.rasa_token


def test_setup_creates_the_env_file_on_a_fresh_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, _ in SECRETS:
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    assert ensure(env) == [name for name, _ in SECRETS]
    loaded = Settings(_env_file=env)  # type: ignore[call-arg]
    assert loaded.secret_key.get_secret_value() != "change-me-in-production"


def test_setup_replaces_the_example_placeholders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cp .env.example .env; make setup`: real secrets, everything else as it was."""
    for name, _ in SECRETS:
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    env.write_text(example, encoding="utf-8")
    assert ensure(env) == [name for name, _ in SECRETS]
    text = env.read_text(encoding="utf-8")
    assert "change-me" not in text
    untouched = [line for line in example.splitlines() if "SECRET_KEY" not in line]
    untouched = [line for line in untouched if "_TOKEN=" not in line or "TELEGRAM" in line]
    assert [line for line in text.splitlines() if line in untouched] == untouched
    loaded = Settings(_env_file=env)  # type: ignore[call-arg]
    assert loaded.telegram_token is None  # the example's empty token means the terminal chat
    assert loaded.action_token is not None and loaded.rasa_token is not None
    assert not weak_secret(loaded.secret_key.get_secret_value())
