"""email channel (issue 19): a conversation's channel, email address and subject; Message-IDs seen or sent

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

import handoff.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=10), nullable=False, server_default='chat'))
        batch_op.add_column(sa.Column('email_address', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('email_subject', sa.String(length=200), nullable=True))

    op.create_table('email_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_key', sa.String(length=255), nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('from_address', sa.String(length=254), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('created_at', handoff.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_key')
    )
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.create_index('ix_email_messages_conversation_id', ['conversation_id'], unique=False)
        batch_op.create_index('ix_email_messages_from_created', ['from_address', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_email_messages_from_created')
        batch_op.drop_index('ix_email_messages_conversation_id')
    op.drop_table('email_messages')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('email_subject')
        batch_op.drop_column('email_address')
        batch_op.drop_column('channel')
