"""event positions: screens follow a gap-free position, not the id

Revision ID: b7d41e9c2a55
Revises: 7e3b9d41c0a6
Create Date: 2026-12-05 14:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'b7d41e9c2a55'
down_revision = '7e3b9d41c0a6'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('events') as batch_op:
        batch_op.add_column(sa.Column('position', BigId, nullable=True))
    # A screen that reconnects across the upgrade sends its old Last-Event-ID, an id: the
    # events it already has keep that number as their position.
    op.execute('UPDATE events SET position = id')
    # PostgreSQL's sequencer counts the positions it gives here, from the last one given.
    op.create_table(
        'event_counter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last', BigId, nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute('INSERT INTO event_counter (id, last) SELECT 1, COALESCE(MAX(id), 0) FROM events')
    with op.batch_alter_table('events') as batch_op:
        batch_op.create_unique_constraint('uq_events_position', ['position'])
    op.create_index(
        'ix_events_unpositioned', 'events', ['id'], unique=False,
        sqlite_where=sa.text('position IS NULL'),
        postgresql_where=sa.text('position IS NULL'),
    )


def downgrade() -> None:
    op.drop_table('event_counter')
    op.drop_index('ix_events_unpositioned', table_name='events')
    with op.batch_alter_table('events') as batch_op:
        batch_op.drop_constraint('uq_events_position', type_='unique')
        batch_op.drop_column('position')
