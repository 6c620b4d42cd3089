"""token kinds: a token opens what its kind allows (user, metrics)

Revision ID: 7e3b9d41c0a6
Revises: 8e3b2c4d6f10
Create Date: 2026-12-05 14:00:00
"""

from alembic import op
import sqlalchemy as sa
import callerid.db


revision = '7e3b9d41c0a6'
down_revision = '8e3b2c4d6f10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every token issued so far acted as its user: the server default makes them "user" tokens.
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=16), server_default='user', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('kind')
