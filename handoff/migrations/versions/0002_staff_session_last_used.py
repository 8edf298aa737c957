"""staff sessions remember their last request (idle expiry)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import handoff.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', handoff.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
