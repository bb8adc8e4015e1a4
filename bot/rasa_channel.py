"""Rasa's REST channel behind the Rasa token (loaded by Rasa through credentials.yml).

Rasa's ``--auth-token`` guards its HTTP API, not its input channels: with the stock ``rest``
channel any local process could post a message as any policyholder (``"sender": "ph42"``) and
read the bot's answers, which the actions build from that policyholder's data. This channel is
the same REST channel at the same URL (``/webhooks/rest/webhook``), answering 401 unless the
request carries ``Authorization: Bearer <MILCHAK_RASA_TOKEN>``.

Runs inside Rasa's virtualenv: standard library, Rasa and Sanic only.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


class TokenRestInput(RestInput):
    """The REST channel, for callers with the Rasa token."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        token = str((credentials or {}).get("token") or "")
        if not token:
            raise ValueError("credentials.yml: the REST channel needs a token (MILCHAK_RASA_TOKEN)")
        return cls(token)

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def authorized(self, request: Request) -> bool:
        scheme, _, presented = (request.headers.get("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), self._token
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def require_token(request: Request) -> HTTPResponse | None:
            if not self.authorized(request):
                return response.json({"error": "unauthorized"}, status=401)
            return None

        return blueprint
