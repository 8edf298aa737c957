"""payments and arrangements: payment methods with processor tokens, payment records taken here (source,
idempotency key, processor reference, actor), quotes, idempotency records, processor events, arrangements and
instalments, the paperless flag (issue 16)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 12:50:54.171409
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_records")),
    )
    op.create_table(
        "processor_events",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("occurred_at", backend.base.UTCDateTime(), nullable=False),
        sa.Column("received_at", backend.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_events")),
    )
    with op.batch_alter_table("processor_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processor_events_reference"), ["reference"], unique=False)

    op.create_table(
        "payment_quotes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("payment_method_id", sa.Integer(), nullable=False),
        sa.Column("amount_choice", sa.String(length=16), nullable=False),
        sa.Column("amount", backend.base.MoneyType(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", backend.base.UTCDateTime(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_payment_quotes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_quotes_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_payment_quotes_payment_method_id_payment_methods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_quotes")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_payment_quotes_payment_id")),
    )
    with op.batch_alter_table("payment_quotes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_quotes_account_id"), ["account_id"], unique=False)

    op.create_table(
        "arrangements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", backend.base.MoneyType(), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=True),
        sa.Column("covers_due_through", sa.Date(), nullable=True),
        sa.Column("line_item_id", sa.Integer(), nullable=True),
        sa.Column("credit_id", sa.Integer(), nullable=True),
        sa.Column("approved_outside_policy", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_arrangements_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["credit_id"], ["credits.id"], name=op.f("fk_arrangements_credit_id_credits")
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"], ["line_items.id"], name=op.f("fk_arrangements_line_item_id_line_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrangements")),
    )
    with op.batch_alter_table("arrangements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_arrangements_account_id"), ["account_id"], unique=False)

    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arrangement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", backend.base.MoneyType(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["arrangement_id"], ["arrangements.id"], name=op.f("fk_instalments_arrangement_id_arrangements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
    )
    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instalments_arrangement_id"), ["arrangement_id"], unique=False)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paperless", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.add_column(sa.Column("processor", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("token", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("updated_at", backend.base.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_payment_methods_token"), ["token"])

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="external", nullable=False)
        )
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("processor_reference", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("payment_method_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("actor", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("expected_post_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", backend.base.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_payments_idempotency_key"), ["idempotency_key"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_payments_processor_reference"), ["processor_reference"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_payment_method_id_payment_methods"),
            "payment_methods",
            ["payment_method_id"],
            ["id"],
        )
    # Payments recorded before this revision: the autopay ones are named so by their method text.
    op.execute("UPDATE payments SET source = 'autopay' WHERE method LIKE 'autopay:%'")


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payments_payment_method_id_payment_methods"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_payments_processor_reference"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_payments_idempotency_key"), type_="unique")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("expected_post_date")
        batch_op.drop_column("actor")
        batch_op.drop_column("payment_method_id")
        batch_op.drop_column("processor_reference")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("source")

    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payment_methods_token"), type_="unique")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("token")
        batch_op.drop_column("processor")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("paperless")

    with op.batch_alter_table("instalments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instalments_arrangement_id"))

    op.drop_table("instalments")
    with op.batch_alter_table("arrangements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_arrangements_account_id"))

    op.drop_table("arrangements")
    with op.batch_alter_table("payment_quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_quotes_account_id"))

    op.drop_table("payment_quotes")
    with op.batch_alter_table("processor_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processor_events_reference"))

    op.drop_table("processor_events")
    op.drop_table("idempotency_records")
