"""Shared secrets between the app and Rasa: checking a presented token, telling loopback apart.

Two tokens guard the parts that do not face Telegram:

* ``MILCHAK_ACTION_TOKEN``: Rasa sends it with every custom-action call (``endpoints.yml``);
  ``/actions/webhook`` answers 401 without it.
* ``MILCHAK_RASA_TOKEN``: Rasa's HTTP API (``--auth-token``) and its REST channel
  (``bot.rasa_channel``) refuse requests without it; the app's client sends it.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from pydantic import SecretStr

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def new_token() -> str:
    """A random token (256 bits, URL-safe: it travels in a query string)."""
    return secrets.token_urlsafe(32)


def token_matches(presented: str | None, expected: SecretStr | None) -> bool:
    """Constant-time check; nothing matches when no token is configured (fail closed)."""
    if expected is None or presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.get_secret_value().encode())


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def is_loopback(host: str) -> bool:
    """Whether a listen address only accepts connections from this machine."""
    host = host.strip().strip("[]")
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
