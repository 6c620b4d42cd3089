"""texts sent (the "sorry we missed you" text), the settings managers change, and customers
who must not be contacted

Revision ID: 5f672f9cfe7a
Revises: 2c8334846368
Create Date: 2026-12-05 18:43:00
"""

from alembic import op
import sqlalchemy as sa
import callerid.db


revision = '5f672f9cfe7a'
down_revision = '2c8334846368'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', callerid.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('texts_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=True),
    sa.Column('due_at', callerid.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', callerid.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', callerid.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', callerid.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id'),
    sa.UniqueConstraint('message_sid')
    )
    with op.batch_alter_table('texts_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_texts_sent_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_texts_sent_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_texts_sent_number'), ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_texts_sent_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_texts_sent_status'), ['status'], unique=False)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('do_not_contact', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('do_not_contact')

    with op.batch_alter_table('texts_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_texts_sent_status'))
        batch_op.drop_index(batch_op.f('ix_texts_sent_sent_at'))
        batch_op.drop_index(batch_op.f('ix_texts_sent_number'))
        batch_op.drop_index(batch_op.f('ix_texts_sent_due_at'))
        batch_op.drop_index(batch_op.f('ix_texts_sent_customer_id'))

    op.drop_table('texts_sent')
    op.drop_table('settings')
