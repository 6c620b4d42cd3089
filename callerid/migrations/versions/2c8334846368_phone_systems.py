"""phone systems and webhooks: tokens that speak for a named phone system, its calls by their
own id, and outbound webhook endpoints with their deliveries

Revision ID: 2c8334846368
Revises: 3ef8c237c9d5
Create Date: 2026-12-05 16:10:00
"""

from alembic import op
import sqlalchemy as sa
import callerid.db

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


revision = '2c8334846368'
down_revision = '3ef8c237c9d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=80), nullable=True))
    with op.batch_alter_table('calls') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('source_call_id', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint('uq_calls_source_call', ['source', 'source_call_id'])
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('format', sa.String(length=16), nullable=False),
        sa.Column('event_types', sa.Text(), nullable=False),
        sa.Column('share_alerts', sa.Boolean(), nullable=False),
        sa.Column('share_notes', sa.Boolean(), nullable=False),
        sa.Column('in_order', sa.Boolean(), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('is_enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_at', callerid.db.UTCDateTime(), nullable=True),
        sa.Column('disabled_reason', sa.String(length=200), nullable=False),
        sa.Column('paused_at', callerid.db.UTCDateTime(), nullable=True),
        sa.Column('cursor', BigId, nullable=False),
        sa.Column('last_success_at', callerid.db.UTCDateTime(), nullable=True),
        sa.Column('enabled_at', callerid.db.UTCDateTime(), nullable=False),
        sa.Column('created_at', callerid.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', callerid.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', BigId, nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('position', BigId, nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('message_id', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', callerid.db.UTCDateTime(), nullable=False),
        sa.Column('first_attempt_at', callerid.db.UTCDateTime(), nullable=True),
        sa.Column('lease_until', callerid.db.UTCDateTime(), nullable=True),
        sa.Column('leased_by', sa.String(length=64), nullable=False),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_latency_ms', sa.Integer(), nullable=True),
        sa.Column('last_response', sa.String(length=300), nullable=False),
        sa.Column('delivered_at', callerid.db.UTCDateTime(), nullable=True),
        sa.Column('created_at', callerid.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('endpoint_id', 'position', 'kind', name='uq_webhook_deliveries_event'),
        sa.UniqueConstraint('message_id'),
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'])
    op.create_index('ix_webhook_deliveries_endpoint', 'webhook_deliveries', ['endpoint_id', 'id'])


def downgrade() -> None:
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')
    with op.batch_alter_table('calls') as batch_op:
        batch_op.drop_constraint('uq_calls_source_call', type_='unique')
        batch_op.drop_column('source_call_id')
        batch_op.drop_column('source')
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('source')
