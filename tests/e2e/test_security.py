"""The doors that do not face Telegram, on the running stack: the app's action endpoint and
Rasa's HTTP API and REST channel answer only callers with their tokens."""

import asyncio
from pathlib import Path

import httpx
import pytest

from bot.actions.server import sender_id_for
from tests.auxil.stack import ACTION_TOKEN, RASA_TOKEN
from tests.e2e.conftest import HolderPool, SessionWorld

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def policy_question(sender: str) -> dict[str, object]:
    """The audit's curl: run action_answer_policy for a policyholder id."""
    return {"next_action": "action_answer_policy", "tracker": {"sender_id": sender}}


async def test_action_endpoint_wants_rasas_token(world: SessionWorld, holders: HolderPool) -> None:
    holder = holders.take()
    body = policy_question(sender_id_for(holder.id))
    url = f"http://127.0.0.1:{world.rasa.web_port}/actions/webhook"
    async with httpx.AsyncClient() as http:
        for params in ({}, {"token": "x" * 32}, {"token": RASA_TOKEN}):
            refused = await http.post(url, json=body, params=params)
            assert refused.status_code == 401
            assert "KL-" not in refused.text
        answered = await http.post(url, json=body, params={"token": ACTION_TOKEN})
    assert answered.status_code == 200
    assert "KL-" in answered.json()["responses"][0]["text"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/status", None),
        ("GET", "/conversations/ph1/tracker", None),
        ("POST", "/conversations/ph1/messages", {"text": "안녕하세요", "sender": "user"}),
        ("POST", "/model/parse", {"text": "내 보험 알려주세요"}),
    ],
)
async def test_rasa_api_wants_its_token(
    world: SessionWorld, method: str, path: str, body: dict[str, str] | None
) -> None:
    async with httpx.AsyncClient(base_url=world.rasa.url) as http:
        refused = await http.request(method, path, json=body)
        wrong = await http.request(method, path, json=body, params={"token": ACTION_TOKEN})
        allowed = await http.request(method, path, json=body, params={"token": RASA_TOKEN})
    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert allowed.status_code == 200


async def test_rasa_rest_channel_wants_its_token(world: SessionWorld, holders: HolderPool) -> None:
    """Posting as any sender through the REST channel was the other way to the actions."""
    holder = holders.take()
    message = {"sender": sender_id_for(holder.id), "message": "내 보험 알려주세요"}
    async with httpx.AsyncClient(base_url=world.rasa.url, timeout=30) as http:
        for headers in ({}, {"Authorization": f"Bearer {ACTION_TOKEN}"}):
            refused = await http.post("/webhooks/rest/webhook", json=message, headers=headers)
            assert refused.status_code == 401
            assert "KL-" not in refused.text
        refused = await http.post(
            "/webhooks/rest/webhook", json=message, params={"token": RASA_TOKEN}
        )
        assert refused.status_code == 401  # the channel reads the header only
        answered = await http.post(
            "/webhooks/rest/webhook",
            json=message,
            headers={"Authorization": f"Bearer {RASA_TOKEN}"},
        )
    assert answered.status_code == 200
    assert "KL-" in " ".join(str(reply.get("text")) for reply in answered.json())


async def test_rasa_token_is_not_on_the_command_line(world: SessionWorld) -> None:
    """Every local user can read a process's arguments (ps); its environment only its owner."""
    proc = Path(f"/proc/{world.rasa.process.pid}/cmdline")
    cmdline = (await asyncio.to_thread(proc.read_bytes)).decode()
    assert "bot.rasa_launcher" in cmdline
    assert RASA_TOKEN not in cmdline and ACTION_TOKEN not in cmdline
