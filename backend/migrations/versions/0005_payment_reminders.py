"""payment reminders: one row per reminder sent, unique per customer, subject and kind

Revision ID: 0005
Revises: 0004
(issue 19, "Outreach on time")
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "due_soon",
                "past_due",
                "autopay_failed",
                "card_expiring",
                "promise_due",
                name="reminder_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("invoice_number", sa.String(length=15), nullable=True),
        sa.Column("amount", backend.base.MoneyType(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("mail_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.Column("seen_at", backend.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_reminders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_reminders")),
        sa.UniqueConstraint("customer_id", "subject", "kind", name="uq_payment_reminders_once"),
    )
    with op.batch_alter_table("payment_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_reminders_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_reminders_customer_id"))
    op.drop_table("payment_reminders")
