"""phone systems: tokens that speak for a named phone system, and its calls by their own id

Revision ID: 2c8334846368
Revises: 9d2b7c4e1a60
Create Date: 2026-12-05 16:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '2c8334846368'
down_revision = '9d2b7c4e1a60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=80), nullable=True))
    with op.batch_alter_table('calls') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('source_call_id', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint('uq_calls_source_call', ['source', 'source_call_id'])


def downgrade() -> None:
    with op.batch_alter_table('calls') as batch_op:
        batch_op.drop_constraint('uq_calls_source_call', type_='unique')
        batch_op.drop_column('source_call_id')
        batch_op.drop_column('source')
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('source')
