"""admin sessions kept server-side, and sign-in attempts counted per address

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-27 09:00:00

``admin_sessions``: one row per signed-in console session, keyed by the SHA-256 of the random
token in the cookie (the database never holds a usable cookie). Signing out or changing the
password deletes the rows, so a copied cookie stops working at once.

``admin_login_throttle``: sign-in attempts per client address in a fixed window, counted with
one atomic upsert.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column(
            "admin_user_id",
            sa.Integer(),
            sa.ForeignKey("admin_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_admin_sessions_admin_user_id", "admin_sessions", ["admin_user_id"])
    op.create_index("ix_admin_sessions_expires_at", "admin_sessions", ["expires_at"])
    op.create_table(
        "admin_login_throttle",
        sa.Column("address", sa.String(length=64), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("admin_login_throttle")
    op.drop_index("ix_admin_sessions_expires_at", "admin_sessions")
    op.drop_index("ix_admin_sessions_admin_user_id", "admin_sessions")
    op.drop_table("admin_sessions")
