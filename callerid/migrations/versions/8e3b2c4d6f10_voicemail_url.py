"""voicemail url: the recording action is stored, not only logged

Revision ID: 8e3b2c4d6f10
Revises: 5c1f0e7a9b2d
Create Date: 2026-12-05 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '8e3b2c4d6f10'
down_revision = '5c1f0e7a9b2d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls') as batch_op:
        batch_op.add_column(sa.Column('voicemail_url', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calls') as batch_op:
        batch_op.drop_column('voicemail_url')
