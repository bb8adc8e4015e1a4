"""Rasa's lock store, configured by the one app setting ``redis_url``.

Rasa takes a lock per conversation while it handles a message. Its default lock store lives in
the process's memory, which is enough for one Rasa; replicas share a Redis one. The app routes
each sender to one replica (``bot.rasa_ring``) because Rasa's Redis locks are known to race
between instances; the lock stays as a second guard for the moments a sender fails over.

``endpoints.yml`` reads ``${MILCHAK_LOCK_STORE_*}``; Rasa fails on an unset variable, so every
one is set, empty where unused (Rasa's in-memory store ignores them).
"""

from urllib.parse import unquote, urlsplit

SETTING = "MILCHAK_REDIS_URL"
KEY_PREFIX = "milchak"  # Rasa accepts only an alphanumeric prefix


def lock_store_environment(redis_url: str | None) -> dict[str, str]:
    """The variables ``endpoints.yml`` reads for the lock store (Redis at ``redis_url``)."""
    if not redis_url:
        return {
            "MILCHAK_LOCK_STORE_TYPE": "in_memory",
            "MILCHAK_LOCK_STORE_HOST": "",
            "MILCHAK_LOCK_STORE_PORT": "6379",
            "MILCHAK_LOCK_STORE_DB": "1",
            "MILCHAK_LOCK_STORE_PASSWORD": "",
            "MILCHAK_LOCK_STORE_PREFIX": KEY_PREFIX,
        }
    parts = urlsplit(redis_url)
    if parts.scheme != "redis" or not parts.hostname:
        raise ValueError(f"{SETTING}은 redis://host:port/db 형식이어야 합니다: {redis_url!r}")
    database = parts.path.lstrip("/") or "1"
    if not database.isdigit():
        raise ValueError(f"{SETTING}의 데이터베이스 번호는 숫자여야 합니다: {database!r}")
    return {
        "MILCHAK_LOCK_STORE_TYPE": "redis",
        "MILCHAK_LOCK_STORE_HOST": parts.hostname,
        "MILCHAK_LOCK_STORE_PORT": str(parts.port or 6379),
        "MILCHAK_LOCK_STORE_DB": database,
        "MILCHAK_LOCK_STORE_PASSWORD": unquote(parts.password or ""),
        "MILCHAK_LOCK_STORE_PREFIX": KEY_PREFIX,
    }
