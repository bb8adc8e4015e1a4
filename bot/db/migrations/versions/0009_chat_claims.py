"""chat claims: one chat's webhook updates handled one at a time, in order, across app replicas

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:50:00

``chat_claims``: one row per webhook update of a chat while it waits for or holds the chat's
turn (``bot.services.chat_claims``); rows are deleted when the update is handled, or by the next
claimant once their lease ran out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_claims",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("holding", sa.Boolean(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "update_id"),
    )


def downgrade() -> None:
    op.drop_table("chat_claims")
