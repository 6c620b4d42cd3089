"""history and hot path: what the manager pages and the webhook's speed need

Revision ID: 5c1f0e7a9b2d
Revises: d442a3438151
Create Date: 2026-11-23 00:55:00
"""

from alembic import op
import sqlalchemy as sa
import callerid.db


revision = '5c1f0e7a9b2d'
down_revision = 'd442a3438151'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('last_login_at', callerid.db.UTCDateTime(timezone=True), nullable=True))
    # data quality (directory.quality): the few stored numbers that are not E.164
    op.create_index(
        'ix_phone_numbers_not_e164', 'phone_numbers', ['id', 'customer_id', 'number'], unique=False,
        sqlite_where=sa.text(
            "NOT (length(number) BETWEEN 8 AND 16 AND number GLOB '+[1-9]*'"
            " AND ltrim(substr(number, 2), '0123456789') = '')"
        ),
        postgresql_where=sa.text("number !~ '^[+][1-9][0-9]{6,14}$'"),
    )
    # history: open missed calls, and the rollups insights read (history.rollup fills them).
    op.create_index(
        'ix_calls_open_missed', 'calls',
        ['received_at', 'customer_id', 'from_number', 'caller_kind', 'direction', 'raw_from'],
        unique=False,
        sqlite_where=sa.text('is_missed = 1 AND called_back_at IS NULL'),
        postgresql_where=sa.text('is_missed = true AND called_back_at IS NULL'),
    )
    op.create_table(
        'call_slots',
        sa.Column('slot', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('missed', sa.Integer(), nullable=False),
        sa.Column('came_back', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('slot'),
    )
    op.create_table(
        'screen_pop_days',
        sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('ms', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'ms'),
    )
    op.create_table(
        'caller_days',
        sa.Column('day', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'customer_id'),
    )
    op.create_index('ix_caller_days_customer', 'caller_days', ['customer_id'], unique=False)
    # call log filters (history.calllog): who answered, outcome
    op.create_index(
        'ix_calls_answered_by_received', 'calls', ['answered_by', 'received_at', 'id'], unique=False
    )
    op.create_index(
        'ix_calls_outcome_received', 'calls', ['outcome', 'received_at', 'id'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_calls_outcome_received', table_name='calls')
    op.drop_index('ix_calls_answered_by_received', table_name='calls')
    op.drop_index('ix_caller_days_customer', table_name='caller_days')
    op.drop_table('caller_days')
    op.drop_table('screen_pop_days')
    op.drop_table('call_slots')
    op.drop_index('ix_calls_open_missed', table_name='calls')
    op.drop_index('ix_phone_numbers_not_e164', table_name='phone_numbers')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('last_login_at')
