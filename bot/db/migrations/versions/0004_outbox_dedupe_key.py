"""outbox dedupe key: queue a message at most once (weekly digest per department and week)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:00:00

A nullable column with a unique index rather than a unique constraint: both databases allow many
NULLs under a unique index, and adding an index needs no table rebuild on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=100), nullable=True))
        batch_op.create_index("ux_outbox_dedupe_key", ["dedupe_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ux_outbox_dedupe_key")
        batch_op.drop_column("dedupe_key")
