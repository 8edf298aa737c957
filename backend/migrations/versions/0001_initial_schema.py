"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 13:20:06.404941
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.base

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', backend.base.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('resource', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_customer_id'), ['customer_id'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('postal_code', sa.String(length=16), nullable=False),
    sa.Column('phone_last4', sa.String(length=4), nullable=False),
    sa.Column('created_at', backend.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('monthly_price', backend.base.MoneyType(), nullable=False),
    sa.Column('data_allowance_gb', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('overage_rate_per_gb', backend.base.MoneyType(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('code', name=op.f('uq_plans_code'))
    )
    op.create_table('policy_rules',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_policy_rules'))
    )
    op.create_table('verification_states',
    sa.Column('account_number', sa.String(length=10), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', backend.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', backend.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account_number', name=op.f('pk_verification_states'))
    )
    op.create_table(
        "accounts", sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=10), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "suspended", "closed", name="account_status", native_enum=False,
                create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("autopay", sa.Boolean(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_accounts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_accounts_customer_id")),
        sa.UniqueConstraint("number", name=op.f("uq_accounts_number")),
    )
    op.create_table(
        "invoices", sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=15), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False), sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "paid", "overdue", "void", name="invoice_status", native_enum=False,
                create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("total", backend.base.MoneyType(), nullable=False),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_invoices_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index('ix_invoices_account_issue', ['account_id', 'issue_date'], unique=False)

    op.create_table(
        "payment_methods", sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_payment_methods_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
    )
    with op.batch_alter_table('payment_methods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_methods_account_id'), ['account_id'], unique=False)

    op.create_table(
        "subscriptions", sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False), sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_subscriptions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_subscriptions_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_account_id'), ['account_id'], unique=False)

    op.create_table(
        "line_items", sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "charge_type",
            sa.Enum(
                "plan", "usage", "one_time", "equipment", "late_fee", "tax", "proration", "discount",
                "credit", name="charge_type", native_enum=False, create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("amount", backend.base.MoneyType(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("unit_rate", sa.Numeric(precision=12, scale=6), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("policy_rule", sa.String(length=32), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_line_items_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["policy_rule"], ["policy_rules.code"], name=op.f("fk_line_items_policy_rule_policy_rules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_items")),
    )
    with op.batch_alter_table('line_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_line_items_invoice_id'), ['invoice_id'], unique=False)

    op.create_table(
        "payments", sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("amount", backend.base.MoneyType(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "posted", "failed", "reversed", name="payment_status", native_enum=False,
                create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_payments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_account_received', ['account_id', 'received_date'], unique=False)

    op.create_table(
        "disputes", sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("line_item_id", sa.Integer(), nullable=False),
        sa.Column("amount", backend.base.MoneyType(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "under_review", "accepted", "rejected", name="dispute_status", native_enum=False,
                create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", backend.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_disputes_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"], ["line_items.id"], name=op.f("fk_disputes_line_item_id_line_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(
            "uq_disputes_open_line_item", ["line_item_id"], unique=True,
            sqlite_where=sa.text("status IN ('open', 'under_review')"),
            postgresql_where=sa.text("status IN ('open', 'under_review')"),
        )

    op.create_table(
        "credits", sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("line_item_id", sa.Integer(), nullable=True),
        sa.Column("dispute_id", sa.Integer(), nullable=True),
        sa.Column("amount", backend.base.MoneyType(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_credits_account_id_accounts")),
        sa.ForeignKeyConstraint(["dispute_id"], ["disputes.id"], name=op.f("fk_credits_dispute_id_disputes")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_credits_invoice_id_invoices")),
        sa.ForeignKeyConstraint(
            ["line_item_id"], ["line_items.id"], name=op.f("fk_credits_line_item_id_line_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credits")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_credits_idempotency_key")),
    )
    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credits_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credits_dispute_id'), ['dispute_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credits_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credits_line_item_id'), ['line_item_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('credits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credits_line_item_id'))
        batch_op.drop_index(batch_op.f('ix_credits_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_credits_dispute_id'))
        batch_op.drop_index(batch_op.f('ix_credits_account_id'))

    op.drop_table('credits')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index(
            "uq_disputes_open_line_item", sqlite_where=sa.text("status IN ('open', 'under_review')"),
            postgresql_where=sa.text("status IN ('open', 'under_review')"),
        )
        batch_op.drop_index(batch_op.f('ix_disputes_customer_id'))

    op.drop_table('disputes')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_account_received')

    op.drop_table('payments')
    with op.batch_alter_table('line_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_line_items_invoice_id'))

    op.drop_table('line_items')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_account_id'))

    op.drop_table('subscriptions')
    with op.batch_alter_table('payment_methods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_methods_account_id'))

    op.drop_table('payment_methods')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_account_issue')

    op.drop_table('invoices')
    op.drop_table('accounts')
    op.drop_table('verification_states')
    op.drop_table('policy_rules')
    op.drop_table('plans')
    op.drop_table('customers')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_customer_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')

