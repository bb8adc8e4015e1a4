"""geocode level of addresses, employees' home address, and the audit of assignment runs

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-26 09:00:00

``assignment_runs`` is one row per ``milchak assign --apply`` (or demo seed): how it was solved
and what it came to; ``assignment_changes`` lists every policyholder who changed employee in it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("policyholders") as batch_op:
        batch_op.add_column(sa.Column("geocode_level", sa.String(length=10), nullable=True))
    with op.batch_alter_table("employees") as batch_op:
        batch_op.add_column(sa.Column("home_address", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("home_geocode_level", sa.String(length=10), nullable=True))
    op.create_table(
        "assignment_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("switch_penalty_m", sa.Integer(), nullable=False),
        sa.Column("policyholders", sa.Integer(), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("total_m", sa.BigInteger(), nullable=False),
        sa.Column("longest_m", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assignment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("policyholder_id", sa.Integer(), nullable=False),
        sa.Column("from_employee_id", sa.Integer(), nullable=True),
        sa.Column("to_employee_id", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["assignment_runs.id"]),
        sa.ForeignKeyConstraint(["policyholder_id"], ["policyholders.id"]),
        sa.ForeignKeyConstraint(["from_employee_id"], ["employees.id"]),
        sa.ForeignKeyConstraint(["to_employee_id"], ["employees.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_assignment_changes_run_id", "assignment_changes", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_assignment_changes_run_id", table_name="assignment_changes")
    op.drop_table("assignment_changes")
    op.drop_table("assignment_runs")
    with op.batch_alter_table("employees") as batch_op:
        batch_op.drop_column("home_geocode_level")
        batch_op.drop_column("home_address")
    with op.batch_alter_table("policyholders") as batch_op:
        batch_op.drop_column("geocode_level")
