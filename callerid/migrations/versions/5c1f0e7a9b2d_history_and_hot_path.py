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
    pass


def downgrade() -> None:
    pass
