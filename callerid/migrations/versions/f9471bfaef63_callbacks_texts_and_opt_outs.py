"""call-backs, the phone each staff member is rung on for one, texts received and opt-outs

Revision ID: f9471bfaef63
Revises: 9d2b7c4e1a60
Create Date: 2026-12-05 16:20:00
"""

from alembic import op
import sqlalchemy as sa

from callerid.db import UTCDateTime


revision = 'f9471bfaef63'
down_revision = '9d2b7c4e1a60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=100), nullable=False, server_default=''))
    op.create_table(
        'callbacks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('line', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('by', sa.String(length=80), nullable=False),
        sa.Column('staff_phone', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.String(length=300), nullable=False),
        sa.Column('staff_call_sid', sa.String(length=64), nullable=True),
        sa.Column('customer_call_sid', sa.String(length=64), nullable=True),
        sa.Column('duration', sa.Integer(), nullable=True),
        sa.Column('started_at', UTCDateTime(), nullable=False),
        sa.Column('answered_at', UTCDateTime(), nullable=True),
        sa.Column('ended_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('staff_call_sid'),
    )
    op.create_index('ix_callbacks_customer_id', 'callbacks', ['customer_id'])
    op.create_index('ix_callbacks_started_at', 'callbacks', ['started_at'])
    op.create_index(
        'uq_callbacks_in_flight', 'callbacks', ['number'], unique=True,
        sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'),
    )


    op.create_table(
        'texts_received',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_sid', sa.String(length=64), nullable=False),
        sa.Column('number', sa.String(length=20), nullable=True),
        sa.Column('raw_from', sa.String(length=100), nullable=False),
        sa.Column('line', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('keyword', sa.String(length=16), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_sid'),
    )
    op.create_index('ix_texts_received_number', 'texts_received', ['number'])
    op.create_index('ix_texts_received_customer_id', 'texts_received', ['customer_id'])
    op.create_index('ix_texts_received_call_id', 'texts_received', ['call_id'])
    op.create_index('ix_texts_received_received_at', 'texts_received', ['received_at'])
    op.create_table(
        'opt_outs',
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('keyword', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('opted_out_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('number'),
    )


def downgrade() -> None:
    op.drop_table('opt_outs')
    op.drop_table('texts_received')
    op.drop_table('callbacks')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('phone')
