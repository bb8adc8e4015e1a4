"""admin console: Korean substring search and list indexes

Revision ID: 0002_admin_console
Revises: 0001
Create Date: 2026-11-26 09:00:00

Searching the ledger must find 약관대출 inside "약관대출받고싶어요" (Korean has no spaces to split
on reliably), so search is by substring, made fast with trigrams:

* SQLite: an external-content FTS5 table with the ``trigram`` tokenizer, kept in step with
  ``contacts`` by triggers.
* PostgreSQL: the ``pg_trgm`` extension and a GIN index on ``contacts.text`` (the role running
  migrations needs the right to create the extension, or it must already exist).

Plus composite indexes the console's list pages order and filter by.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_admin_console"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE contacts_fts USING fts5("
    "text, content='contacts', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN "
    "INSERT INTO contacts_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN "
    "INSERT INTO contacts_fts(contacts_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER contacts_fts_au AFTER UPDATE OF text ON contacts BEGIN "
    "INSERT INTO contacts_fts(contacts_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO contacts_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS contacts_fts_au",
    "DROP TRIGGER IF EXISTS contacts_fts_ad",
    "DROP TRIGGER IF EXISTS contacts_fts_ai",
    "DROP TABLE IF EXISTS contacts_fts",
]
_POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_contacts_text_trgm ON contacts USING gin (text gin_trgm_ops)",
    # Keyset paging orders by (created_at, id); PostgreSQL cannot use the rowid trick SQLite does.
    "CREATE INDEX ix_contacts_created_id ON contacts (created_at, id)",
]
_POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_contacts_created_id",
    "DROP INDEX IF EXISTS ix_contacts_text_trgm",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_UP if dialect == "sqlite" else _POSTGRES_UP:
        op.execute(statement)
    op.create_index("ix_contacts_intent_created", "contacts", ["intent", "created_at"])
    # Covers the conversation list's "intents in this thread" summary without table look-ups.
    op.create_index("ix_contacts_policyholder_intent", "contacts", ["policyholder_id", "intent"])
    op.create_index("ix_requests_created", "requests", ["created_at"])
    op.create_index("ix_audit_log_created", "audit_log", ["created_at"])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_audit_log_created", "audit_log")
    op.drop_index("ix_requests_created", "requests")
    op.drop_index("ix_contacts_policyholder_intent", "contacts")
    op.drop_index("ix_contacts_intent_created", "contacts")
    for statement in _SQLITE_DOWN if dialect == "sqlite" else _POSTGRES_DOWN:
        op.execute(statement)
