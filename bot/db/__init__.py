"""Database: models, engine and session factory, Alembic migrations."""

from bot.db.engine import create_engine_and_sessions, session_scope

__all__ = ["create_engine_and_sessions", "session_scope"]
