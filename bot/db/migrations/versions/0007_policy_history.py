"""policy history for persistency (계약유지율) and retention tasks

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-27 10:00:00

* ``policies`` gains what persistency needs: the contract date, the payment cycle and the
  installments (회차) paid; ``premium`` is one installment in that cycle (for the monthly policies
  stored so far, the monthly premium it always was).
* ``policy_events``: every status change (정상, 미납, 실효, 부활, 해지, 완납, 만기) with its day and
  the installments paid by then. Unique per policy, day and status so that re-importing the
  same extract is harmless. A second index (policy, day, id, kind, paid through) gives "the last
  event on or before a day" in index order, ties broken by id, without a sort or a table read.
* ``retention_tasks``: one per missed installment handed to an employee (unique key), so the
  daily retention job never opens the same task twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("policies") as batch_op:
        batch_op.add_column(sa.Column("contract_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "payment_cycle", sa.String(length=12), nullable=False, server_default="monthly"
            )
        )
        batch_op.add_column(
            sa.Column("paid_installments", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index("ix_policies_contract_date", ["contract_date"])

    op.create_table(
        "policy_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("policy_id", sa.Integer(), sa.ForeignKey("policies.id"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("paid_through", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index(
        "ux_policy_events_policy_day_kind",
        "policy_events",
        ["policy_id", "occurred_on", "kind"],
        unique=True,
    )
    op.create_index(
        "ix_policy_events_policy_day_id",
        "policy_events",
        ["policy_id", "occurred_on", "id", "kind", "paid_through"],
    )

    op.create_table(
        "retention_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=60), nullable=False, unique=True),
        sa.Column("policy_id", sa.Integer(), sa.ForeignKey("policies.id"), nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("requests.id"), nullable=True),
        sa.Column("installment", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("grace_until", sa.Date(), nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("reminder_sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_retention_tasks_policy_id", "retention_tasks", ["policy_id"])
    op.create_index("ix_retention_tasks_request_id", "retention_tasks", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_retention_tasks_request_id", table_name="retention_tasks")
    op.drop_index("ix_retention_tasks_policy_id", table_name="retention_tasks")
    op.drop_table("retention_tasks")
    op.drop_index("ix_policy_events_policy_day_id", table_name="policy_events")
    op.drop_index("ux_policy_events_policy_day_kind", table_name="policy_events")
    op.drop_table("policy_events")
    with op.batch_alter_table("policies") as batch_op:
        batch_op.drop_index("ix_policies_contract_date")
        batch_op.drop_column("paid_installments")
        batch_op.drop_column("payment_cycle")
        batch_op.drop_column("contract_date")
