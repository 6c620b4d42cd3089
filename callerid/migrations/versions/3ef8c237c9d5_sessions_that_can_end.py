"""sessions that can end, login throttling: a row per browser login; failed logins counted per
name and address

Revision ID: 3ef8c237c9d5
Revises: f9471bfaef63
Create Date: 2026-12-05 16:20:00
"""

from alembic import op
import sqlalchemy as sa
import callerid.db


revision = '3ef8c237c9d5'
down_revision = 'f9471bfaef63'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Cookies signed before this revision carry no session id: those browsers log in once more.
    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', callerid.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', callerid.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    # Failed logins per (name, address) and per address, shared by every worker and instance.
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=64), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', callerid.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_name_key'), ['name_key'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_login_throttle_window_started_at'), ['window_started_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_window_started_at'))
        batch_op.drop_index(batch_op.f('ix_login_throttle_name_key'))
    op.drop_table('login_throttle')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))
    op.drop_table('login_sessions')
