"""turns, edits and retries: a request opened once per key, edits of a message, outbox retry window

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-26 09:00:00

- ``requests.idempotency_key``: a submit that runs again for the same form (Rasa lost the turn
  after the action committed) finds the request it opened instead of opening a second one.
- ``contacts.edit_of_id``: an edited Telegram message is stored as an edit of the original row.
- ``outbox.retry_until``: network and 5xx errors are retried until then (24 hours after the
  message was queued or re-queued from the console); ``outbox.contact_id``: the ledger row of a
  reply that went through the outbox, which learns its Telegram message id on delivery.

Plain columns and unique indexes only: on SQLite they need no table rebuild (rebuilding
``contacts`` would drop the search triggers of 0002). The id columns are not foreign keys for
the same reason; the app only ever writes ids it has just read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
# Written on 0004; chained after main's head (0007, merged meanwhile) so there is one head.
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("requests", sa.Column("idempotency_key", sa.String(length=120), nullable=True))
    op.create_index("ux_requests_idempotency_key", "requests", ["idempotency_key"], unique=True)
    op.add_column("contacts", sa.Column("edit_of_id", sa.BigInteger(), nullable=True))
    op.add_column("outbox", sa.Column("retry_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("contact_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops an unindexed column in place: no batch rebuild of ``contacts``.
    op.drop_column("outbox", "contact_id")
    op.drop_column("outbox", "retry_until")
    op.drop_column("contacts", "edit_of_id")
    op.drop_index("ux_requests_idempotency_key", table_name="requests")
    op.drop_column("requests", "idempotency_key")
