"""teams and SLA (issue 17): a member of staff's teams, a conversation's team, when its SLA breach was told

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import handoff.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('teams', sa.String(length=100), nullable=False,
                                      server_default='general'))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('sla_alerted_at', handoff.db.UTCDateTime(timezone=True), nullable=True))
    # Chats already escalated wait in their reason's team (handoff/queue/teams.py; only dispute has one yet).
    op.execute("UPDATE conversations SET team = CASE WHEN escalation_reason = 'dispute' THEN 'disputes' "
               "ELSE 'general' END WHERE escalation_reason IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('sla_alerted_at')
        batch_op.drop_column('team')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('teams')
