"""alerts and pronunciation: what the desk must never miss, and how to say the name

Revision ID: 7a3e51c09d4f
Revises: b7d41e9c2a55
Create Date: 2026-12-05 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '7a3e51c09d4f'
down_revision = 'b7d41e9c2a55'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing customers get empty texts: nothing is moved into alerts silently.
    with op.batch_alter_table('customers') as batch_op:
        batch_op.add_column(sa.Column('alerts', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pronunciation', sa.String(length=120), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_column('pronunciation')
        batch_op.drop_column('alerts')
