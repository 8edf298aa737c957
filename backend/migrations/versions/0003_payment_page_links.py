"""payment page links: the secure payment page's single-use signed links (issue 16)

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_page_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "update_method",
                "pay",
                name="payment_page_purpose",
                native_enum=False,
                length=16,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "processing",
                "completed",
                name="payment_page_status",
                native_enum=False,
                length=16,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", backend.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", backend.base.UTCDateTime(), nullable=False),
        sa.Column("completed_at", backend.base.UTCDateTime(), nullable=True),
        sa.Column("notified_at", backend.base.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_page_links_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_page_links")),
        sa.UniqueConstraint("nonce", name=op.f("uq_payment_page_links_nonce")),
    )
    op.create_index(
        op.f("ix_payment_page_links_customer_id"), "payment_page_links", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_page_links_customer_id"), table_name="payment_page_links")
    op.drop_table("payment_page_links")
