"""employee workspace: relay handoff, pending reply, pending rating comment

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25 12:00:00

Plain integer pointers (no foreign keys) for the "what is this chat in the middle of" state:
they are cleared as soon as they are used and never join anything.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002_admin_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch_op:
        batch_op.add_column(sa.Column("handoff_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("employees") as batch_op:
        batch_op.add_column(sa.Column("reply_request_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("policyholders") as batch_op:
        batch_op.add_column(sa.Column("rating_pending_request_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("rating_pending_until", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.create_index("ix_outbox_chat_message", ["chat_id", "telegram_message_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_chat_message")
    with op.batch_alter_table("policyholders") as batch_op:
        batch_op.drop_column("rating_pending_until")
        batch_op.drop_column("rating_pending_request_id")
    with op.batch_alter_table("employees") as batch_op:
        batch_op.drop_column("reply_request_id")
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_column("handoff_until")
