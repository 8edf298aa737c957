"""account check oversight: the supervisor's limits override and who reversed a system credit

Revision ID: 0006
Revises: 0005
(issue 18, "Supervisors ... can reverse one, and can change the limits")
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_check_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("max_credit", backend.base.MoneyType(), nullable=False),
        sa.Column("max_credit_12_months", backend.base.MoneyType(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", backend.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_check_limits")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reversed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reversed_at", backend.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reversal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_column("reversal_reason")
        batch_op.drop_column("reversed_at")
        batch_op.drop_column("reversed_by")
    op.drop_table("account_check_limits")
